"""Conversation use cases: create, reply, manage (close, snooze, open, assign), update, delete,
contacts, tags, redaction, listing. Decisions are the domain's (parley.domain.conversation);
this module loads facts, persists outcomes and records outbox events."""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import orjson

from parley.db import admins, contacts, outbox, tags, teams
from parley.db import conversations as store
from parley.db.database import Row, Transaction
from parley.domain import conversation as rules
from parley.domain.conversation import Assignee, Author, Facts, Outcome, State
from parley.domain.search import attribute_name_problem, attribute_value_problem
from parley.errors import InvalidParameter, NotFound, ParleyError, Unprocessable
from parley.kit import cursor
from parley.kit.html import as_paragraphs
from parley.kit.numbers import parse_digits
from parley.services import contacts as contact_service
from parley.services import conversation_attributes, timekeeping
from parley.services.context import Context

REDACTED_BODY = "<p><i>This message was deleted</i></p>"
PART_LIMIT = 500


def conversation_not_found() -> NotFound:
    return NotFound("Resource Not Found")


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True, slots=True)
class ConversationView:
    row: Row
    contacts: list[Row]
    tags: list[Row]
    parts: list[Row] | None


async def with_relations(
    tx: Transaction, rows: list[Row], parts: list[Row] | None = None
) -> list[ConversationView]:
    """Conversation rows with their contacts and tags (two queries for all of them); `parts`
    goes with a single row."""
    ids = [int(r["id"]) for r in rows]
    contact_rows = await store.contacts_of(tx, ids)
    tag_rows = await store.tags_of(tx, ids)
    return [
        ConversationView(r, contact_rows.get(i, []), tag_rows.get(i, []), parts)
        for r, i in zip(rows, ids, strict=True)
    ]


async def view(tx: Transaction, ctx: Context, conversation_id: int) -> ConversationView:
    await tx.snapshot()  # the row, its parts, contacts and tags: of one moment
    row = await store.get(tx, ctx.workspace_id, conversation_id)
    if row is None:
        raise conversation_not_found()
    parts = await store.parts_of(tx, conversation_id, limit=PART_LIMIT)
    return (await with_relations(tx, [row], parts))[0]


@dataclass(frozen=True, slots=True)
class Applied:
    """What a write that changed a conversation once and appended parts to it left behind, as a
    read would return it: the conversation's row and the new parts' rows, each with its
    author's name and email. The response is made from these instead of being read back."""

    row: dict[str, Any]
    parts: list[Row]


async def view_after_append(
    tx: Transaction,
    applied: Applied,
    *,
    base_revision: int,
    relations: tuple[list[Row], list[Row]] | None = None,
) -> ConversationView | None:
    """The conversation after the write `applied` describes, with only its new parts, when it
    is exactly one revision past `base_revision` and shows every part: then every earlier part
    is as the rendering of `base_revision` showed it. None otherwise (something else changed it
    too, or the oldest part shown changed), and the caller reads the whole view. The stored
    revision is read to be sure: the row `applied` holds is what this write made of it.
    `relations`: the contacts and tags as `base_revision` showed them (its document's), when
    the write changed neither; otherwise they are read."""
    row = applied.row
    conversation_id = int(row["id"])
    if int(row["revision"]) != base_revision + 1 or int(row["part_count"]) > PART_LIMIT:
        return None
    if await store.revision(tx, conversation_id) != base_revision + 1:
        return None
    if relations is None:
        return (await with_relations(tx, [row], applied.parts))[0]
    contacts, tags = relations
    return ConversationView(row, contacts, tags, applied.parts)


@dataclass(frozen=True, slots=True)
class StoredDocument:
    body: bytes
    revision: int  # the conversation's revision it was made from, still current when read


async def stored_document(
    tx: Transaction, ctx: Context, conversation_id: int
) -> StoredDocument | None:
    """The conversation as last rendered in the document form, if that rendering is current;
    None otherwise — including when there is no such conversation: the caller's full read
    says so."""
    found = await store.document(tx, ctx.workspace_id, conversation_id)
    return None if found is None else StoredDocument(*found)


async def keep_document(
    tx: Transaction, ctx: Context, conversation_id: int, body: bytes, revision: int
) -> None:
    """Store a rendering made from `revision` (ignored if the conversation has moved on)."""
    await store.store_document(tx, ctx.workspace_id, conversation_id, body, revision)


@dataclass(frozen=True, slots=True)
class ConversationPage:
    items: list[ConversationView]
    total_count: int
    page: int
    per_page: int
    next_cursor: str | None


def _list_cursor(value: str) -> tuple[tuple[int, int], int | None]:
    """GET /conversations' cursor: [updated_at, id, next page] (the page number travels in the
    cursor, so no page costs a count); the earlier [updated_at, id] form is still accepted."""
    invalid = InvalidParameter("starting_after is not a valid cursor", field="starting_after")
    page: int | str | None = None
    try:
        updated_at, last_id, page = cursor.decode(value, 3)
    except cursor.CursorError:
        try:
            updated_at, last_id = cursor.decode(value, 2)
        except cursor.CursorError:
            raise invalid from None
    if not isinstance(updated_at, int) or not isinstance(last_id, int):
        raise invalid
    if page is not None and not (isinstance(page, int) and 1 <= page <= 2**63 - 1):
        raise invalid
    return (updated_at, last_id), page


async def list_page(
    tx: Transaction,
    ctx: Context,
    *,
    per_page: int,
    starting_after: str | None,
    page: int | None = None,
) -> ConversationPage:
    """A page of the list: after a cursor (2.x), or by page number (1.x's `page`, also accepted
    in 2.x). The next cursor is given whenever more follow, so either style can continue."""
    after: tuple[int, int] | None = None
    page_number = 1
    offset = 0
    if page is not None and not starting_after:
        page_number = page
        offset = (page - 1) * per_page
    if starting_after:
        after, carried = _list_cursor(starting_after)
        if carried is not None:
            page_number = carried
        else:  # a cursor of the earlier [updated_at, id] form: count the page's position
            page_number = await store.count_newer(tx, ctx.workspace_id, after) // per_page + 1
    rows = await store.page(tx, ctx.workspace_id, limit=per_page + 1, after=after, offset=offset)
    more = len(rows) > per_page
    rows = rows[:per_page]
    items = await with_relations(tx, rows)
    next_cursor = None
    if more and rows:
        next_cursor = cursor.encode(
            [int(rows[-1]["updated_at"]), int(rows[-1]["id"]), page_number + 1]
        )
    total = await store.count_visible(tx, ctx.workspace_id)
    return ConversationPage(items, total, page_number, per_page, next_cursor)


# ------------------------------------------------------------------------------ facts


def facts_of(row: Row) -> Facts:
    return Facts(
        state=State(row["state"]),
        admin_assignee_id=row["admin_assignee_id"],
        team_assignee_id=row["team_assignee_id"],
        waiting_since=row["waiting_since"],
        snoozed_until=row["snoozed_until"],
        read=bool(row["read"]),
        visible=bool(row["visible"]),
        first_contact_reply_at=row["first_contact_reply_at"],
        teammate_ids=tuple(orjson.loads(row["teammate_ids"])),
        part_count=int(row["part_count"]),
        created_at=int(row["created_at"]),
        statistics=orjson.loads(row["statistics"]),
    )


def _fact_columns(facts: Facts) -> dict[str, Any]:
    return {
        "state": facts.state.value,
        "admin_assignee_id": facts.admin_assignee_id,
        "team_assignee_id": facts.team_assignee_id,
        "waiting_since": facts.waiting_since,
        "snoozed_until": facts.snoozed_until,
        "read": facts.read,
        "visible": facts.visible,
        "first_contact_reply_at": facts.first_contact_reply_at,
        "teammate_ids": store.dumps(list(facts.teammate_ids)),
        "part_count": facts.part_count,
        "statistics": store.dumps(facts.statistics),
    }


async def _load(tx: Transaction, ctx: Context, conversation_id: int) -> Row:
    row = await store.get(tx, ctx.workspace_id, conversation_id, lock=True)
    if row is None:
        raise conversation_not_found()
    return row


async def _apply(tx: Transaction, ctx: Context, row: Row, outcome: Outcome, *, now: int) -> Applied:
    """Persist an outcome for the conversation loaded as `row`: the new facts, its parts (in
    order) and its outbox events."""
    conversation_id = int(row["id"])
    parts: list[Row] = []
    for draft in outcome.parts:
        part = _part_values(conversation_id, draft, now)
        part_id = await store.insert_part(tx, part)
        parts.append({"id": part_id, **part, **_author_names(draft.author)})
    part_ids = [int(p["id"]) for p in parts]
    # Statistics and the SLA tracker follow from the parts (services/timekeeping.py).
    facts, extra = await timekeeping.account(tx, ctx, conversation_id, outcome)
    # Only the facts that changed: every column written costs the upkeep of the indexes on it.
    changed = {name: v for name, v in _fact_columns(facts).items() if row[name] != v}
    columns = {**changed, **extra, "updated_at": now}
    await store.update(tx, conversation_id, columns)
    after = {**row, **columns, "revision": int(row["revision"]) + 1}  # as a read would see it
    for topic in outcome.topics:
        await outbox.append(
            tx,
            workspace_id=ctx.workspace_id,
            topic=topic,
            now=now,
            payload={
                "conversation_id": str(conversation_id),
                "part_ids": [str(p) for p in part_ids],
            },
        )
    return Applied(after, parts)


def _author_names(author: Author) -> dict[str, str | None]:
    """A part row's author columns as the parts query joins them (db/conversations.py)."""
    admin = author.admin_id is not None
    return {
        "admin_name": author.name if admin else None,
        "admin_email": author.email if admin else None,
        "contact_name": None if admin else author.name,
        "contact_email": None if admin else author.email,
    }


def _part_values(conversation_id: int, draft: rules.PartDraft, now: int) -> dict[str, Any]:
    assigned = draft.assigned_to
    return {
        "conversation_id": conversation_id,
        "part_type": draft.part_type,
        "body": draft.body,
        "created_at": draft.created_at,
        "updated_at": now,
        "notified_at": draft.created_at,
        "author_type": draft.author.type,
        "author_admin_id": draft.author.admin_id,
        "author_contact_id": draft.author.contact_id,
        "assigned_to_type": None if assigned is None else assigned.type,
        "assigned_to_id": None if assigned is None or assigned.id is None else str(assigned.id),
        "attachments": store.dumps(list(draft.attachments)),
        "external_id": None,
        "redacted": False,
        "metadata": None if draft.metadata is None else store.dumps(draft.metadata),
        "state": draft.state.value,
        "event_details": None if draft.event_details is None else store.dumps(draft.event_details),
        "app_package_code": None,
        "assigned_side": draft.side,
    }


def _rule(call: Any, *args: Any, **kwargs: Any) -> Outcome:
    try:
        outcome: Outcome = call(*args, **kwargs)
    except rules.LifecycleError as exc:
        raise InvalidParameter(str(exc), field=exc.field) from None
    return outcome


# ------------------------------------------------------------------------------ actors


async def admin_author(tx: Transaction, ctx: Context, admin_id: int | None) -> Author:
    """The admin acting in a request body's `admin_id`; must be a teammate of the workspace."""
    if admin_id is None:
        raise InvalidParameter("admin_id is required", field="admin_id", code="parameter_not_found")
    admin = await admins.get(tx, ctx.workspace_id, admin_id)
    if admin is None:
        raise NotFound("Admin not found", code="admin_not_found", field="admin_id")
    return Author("admin", admin_id=admin_id, name=admin["name"], email=admin["email"])


async def bot_author(tx: Transaction, ctx: Context) -> Author:
    bot = await admins.bot(tx, ctx.workspace_id)
    return Author("bot", admin_id=int(bot["id"]), name=bot["name"], email=bot["email"])


def contact_author(row: Row) -> Author:
    return Author(str(row["role"]), contact_id=str(row["id"]), name=row["name"], email=row["email"])


@dataclass(frozen=True, slots=True)
class ContactKey:
    """A contact as a message names it (`from` of a contact's, `to` of an admin's): its kind
    (`user`, `lead` or `contact`: either) and one of its Intercom `id`, its `user_id` (the
    external_id) or its `email`. `field` is the body field that names it, for the 404."""

    kind: str
    field: str
    id: str | None = None
    user_id: str | None = None
    email: str | None = None


async def named_contact(tx: Transaction, ctx: Context, key: ContactKey) -> Row:
    """The contact a ContactKey names, else 404 "User Not Found". An id names one contact
    whatever its kind (as it always has: 1.x addressed leads as users). A user_id or an email
    may be shared by a user and leads, so the kind decides among them; `contact` prefers the
    user, and of several leads the oldest is taken."""
    role = key.kind if key.kind in {"user", "lead"} else None
    if key.id is not None:
        row = await contacts.get(tx, ctx.workspace_id, key.id)
    elif key.user_id is not None:
        row = await contacts.find_by_external_id(tx, ctx.workspace_id, key.user_id, role=role)
    else:
        assert key.email is not None, "a ContactKey names its contact one way"
        row = await contacts.find_by_email(tx, ctx.workspace_id, key.email, role=role)
    if row is None:
        raise NotFound("User Not Found", field=key.field)
    return row


async def find_contact(
    tx: Transaction,
    ctx: Context,
    *,
    intercom_user_id: str | None = None,
    user_id: str | None = None,
    email: str | None = None,
) -> Row | None:
    if intercom_user_id is not None:
        return await contacts.get(tx, ctx.workspace_id, intercom_user_id)
    if user_id is not None:
        return await contacts.find_by_external_id(tx, ctx.workspace_id, user_id)
    if email is not None:
        return await contacts.find_by_email(tx, ctx.workspace_id, email)
    return None


# ------------------------------------------------------------------------------ attachments


def attachments_from(urls: list[str], files: list[dict[str, str]]) -> tuple[dict[str, Any], ...]:
    out: list[dict[str, Any]] = []
    for url in urls:
        name = urlsplit(url).path.rsplit("/", 1)[-1] or "attachment"
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        out.append({"type": "upload", "name": name, "url": url, "content_type": content_type})
    for index, file in enumerate(files):
        try:
            size = len(base64.b64decode(file["data"], validate=True))
        except (ValueError, TypeError):
            raise InvalidParameter(
                "attachment_files data must be base64", field=f"attachment_files.{index}.data"
            ) from None
        # Parley stores no uploads: the file stays addressable as a data: URL.
        url = f"data:{file['content_type']};base64,{file['data']}"
        out.append(
            {
                "type": "upload",
                "name": file["name"],
                "url": url,
                "content_type": file["content_type"],
                "filesize": size,
            }
        )
    return tuple(out)


# ------------------------------------------------------------------------------ creating


def _new_conversation(ctx: Context, *, now: int) -> Facts:
    return Facts(
        state=State.OPEN,
        admin_assignee_id=None,
        team_assignee_id=None,
        waiting_since=None,
        snoozed_until=None,
        read=False,
        visible=False,
        first_contact_reply_at=None,
        teammate_ids=(),
        part_count=0,
        created_at=now,
        statistics={},
    )


@dataclass(frozen=True, slots=True)
class CreatedMessage:
    message_id: int
    conversation_id: int
    created_at: int
    body: str
    subject: str | None
    message_type: str
    visible: bool


async def _start(
    tx: Transaction,
    ctx: Context,
    *,
    facts: Facts,
    at: int,
    now: int,
    contact_id: str,
    message: dict[str, Any],
    source: dict[str, Any],
) -> tuple[int, int]:
    """Write a new conversation with its source message and first contact; the ids of both."""
    message_id = await store.insert_message(
        tx,
        {"workspace_id": ctx.workspace_id, "conversation_id": None, "created_at": at, **message},
    )
    conversation_id = await store.insert(
        tx,
        {
            **_fact_columns(facts),
            "workspace_id": ctx.workspace_id,
            "created_at": at,
            "updated_at": max(at, now),
            "title": None,
            "priority": "none",
            "source_id": str(message_id),
            "source_subject": message["subject"] or "",
            "source_body": message["body"],
            "source_url": None,
            "source_redacted": False,
            "custom_attributes": "{}",
            "conversation_rating": None,
            "sla_applied": None,
            "ai_agent_participated": False,
            **source,
        },
    )
    await store.link_message(tx, message_id, conversation_id)
    await store.add_contact(tx, conversation_id, contact_id)
    return message_id, conversation_id


async def create_from_contact(
    tx: Transaction,
    ctx: Context,
    *,
    sender: ContactKey,
    body: str,
    subject: str | None,
    attachment_urls: list[str],
    created_at: int | None,
) -> CreatedMessage:
    contact = await named_contact(tx, ctx, sender)
    contact_id = str(contact["id"])
    now = ctx.clock.now()
    at = created_at if created_at is not None else now
    html = as_paragraphs(body, keep_html=False)  # "HTML is not supported" (2.14 description)
    facts = rules.start_by_contact(_new_conversation(ctx, now=at), now=at)
    facts = replace(facts, statistics=timekeeping.initial_statistics(contact_started_at=at))
    message_id, conversation_id = await _start(
        tx, ctx, facts=facts, at=at, now=now, contact_id=contact_id,
        message={"type": "user_message", "message_type": "inapp", "subject": subject,
                 "body": html, "admin_id": None},
        source={"source_type": "conversation", "source_delivered_as": "customer_initiated",
                "source_author_type": str(contact["role"]), "source_author_admin_id": None,
                "source_author_contact_id": contact_id,
                "source_attachments": store.dumps(list(attachments_from(attachment_urls, [])))},
    )  # fmt: skip
    await contacts.touch_replied(tx, contact_id, now)
    await timekeeping.apply_on_create(tx, ctx, conversation_id)
    await outbox.append(
        tx,
        workspace_id=ctx.workspace_id,
        topic="conversation.user.created",
        now=now,
        payload={"conversation_id": str(conversation_id), "part_ids": []},
    )
    return CreatedMessage(message_id, conversation_id, at, html, subject, "inapp", True)


async def create_from_admin(
    tx: Transaction,
    ctx: Context,
    *,
    admin_id: int,
    recipient: ContactKey,
    message_type: str,
    subject: str | None,
    body: str,
    created_at: int | None,
    visible: bool,
) -> CreatedMessage:
    """POST /messages: an admin-initiated in-app message or email, which always makes its
    conversation; it stays out of lists until the contact replies unless `visible`."""
    author = await admin_author(tx, ctx, admin_id)
    contact_id = str((await named_contact(tx, ctx, recipient))["id"])
    now = ctx.clock.now()
    at = created_at if created_at is not None else now
    html = as_paragraphs(body)
    facts = replace(
        _new_conversation(ctx, now=at), visible=visible, read=True, teammate_ids=(admin_id,)
    )
    message_id, conversation_id = await _start(
        tx, ctx, facts=facts, at=at, now=now, contact_id=contact_id,
        message={"type": "admin_message", "message_type": message_type, "subject": subject,
                 "body": html, "admin_id": admin_id},
        source={"source_type": "email" if message_type == "email" else "conversation",
                "source_delivered_as": "admin_initiated", "source_author_type": "admin",
                "source_author_admin_id": author.admin_id, "source_author_contact_id": None,
                "source_attachments": "[]"},
    )  # fmt: skip
    await contacts.touch_contacted(tx, contact_id, now)
    await outbox.append(
        tx,
        workspace_id=ctx.workspace_id,
        topic="conversation.admin.single.created",
        now=now,
        payload={"conversation_id": str(conversation_id), "part_ids": []},
    )
    return CreatedMessage(message_id, conversation_id, at, html, subject, message_type, visible)


# ------------------------------------------------------------------------------ replying


async def resolve(tx: Transaction, ctx: Context, reference: str, contact: Row | None) -> int:
    """A path id, or `last`: the identified contact's most recently updated conversation."""
    if reference == "last":
        if contact is None:
            raise conversation_not_found()
        found = await store.last_for_contact(tx, ctx.workspace_id, str(contact["id"]))
        if found is None:
            raise conversation_not_found()
        return found
    conversation_id = parse_digits(reference, 18)
    if conversation_id is None:
        raise conversation_not_found()
    return conversation_id


def _part_body(body: str | None) -> str | None:
    """The HTML body of an admin's part; None when the text has none: whitespace alone says
    nothing (it made an empty "<p></p>"), as contact replies and messages already held."""
    return as_paragraphs(body) if body is not None and body.strip() else None


async def admin_reply(
    tx: Transaction,
    ctx: Context,
    reference: str,
    *,
    admin_id: int,
    message_type: str,
    body: str | None,
    created_at: int | None,
    reply_options: list[dict[str, str]] | None,
    attachment_urls: list[str],
    attachment_files: list[dict[str, str]],
) -> tuple[int, Applied]:
    conversation_id = await resolve(tx, ctx, reference, None)
    row = await _load(tx, ctx, conversation_id)
    author = await admin_author(tx, ctx, admin_id)
    now = ctx.clock.now()
    at = created_at if created_at is not None else now
    attachments = attachments_from(attachment_urls, attachment_files)
    facts = facts_of(row)
    html = _part_body(body)
    if message_type == "note":
        if html is None:
            raise InvalidParameter("body is required for a note", field="body")
        outcome = rules.note(facts, author=author, now=at, body=html, attachments=attachments)
    elif message_type == "quick_reply":
        if not reply_options:
            raise InvalidParameter(
                "reply_options are required for a quick_reply", field="reply_options"
            )
        metadata = {
            "quick_reply_options": [
                {"text": o["text"], "uuid": o["uuid"], "translations": None} for o in reply_options
            ]
        }
        outcome = rules.admin_reply(
            facts,
            author=author,
            now=at,
            part_type="quick_reply",
            body=html,
            attachments=attachments,
            metadata=metadata,
        )
    else:
        if html is None and not attachments:
            raise InvalidParameter("body is required for a comment", field="body")
        outcome = rules.admin_reply(
            facts,
            author=author,
            now=at,
            part_type="comment",
            body=html,
            attachments=attachments,
        )
    return conversation_id, await _apply(tx, ctx, row, outcome, now=now)


async def contact_reply(
    tx: Transaction,
    ctx: Context,
    reference: str,
    *,
    intercom_user_id: str | None,
    user_id: str | None,
    email: str | None,
    body: str,
    created_at: int | None,
    attachment_urls: list[str],
    attachment_files: list[dict[str, str]],
    reply_options: list[dict[str, str]] | None,
) -> tuple[int, Applied]:
    contact = await find_contact(
        tx, ctx, intercom_user_id=intercom_user_id, user_id=user_id, email=email
    )
    if contact is None:
        raise NotFound("User Not Found")
    conversation_id = await resolve(tx, ctx, reference, contact)
    row = await _load(tx, ctx, conversation_id)
    participants = (await store.contacts_of(tx, [conversation_id])).get(conversation_id, [])
    if str(contact["id"]) not in {str(p["id"]) for p in participants}:
        raise Unprocessable(
            "The contact is not a participant in this conversation", field="intercom_user_id"
        )
    now = ctx.clock.now()
    at = created_at if created_at is not None else now
    metadata = None
    if reply_options:
        # The contact clicked a quick-reply option: a comment carrying the option's uuid.
        metadata = {"quick_reply_uuid": reply_options[0]["uuid"]}
        body = body or reply_options[0]["text"]
    outcome = rules.contact_reply(
        facts_of(row),
        author=contact_author(contact),
        now=at,
        body=as_paragraphs(body, keep_html=False),  # a contact's text, as its message's
        attachments=attachments_from(attachment_urls, attachment_files),
        metadata=metadata,
    )
    held_by = outcome.facts.admin_assignee_id
    assignee = None if held_by is None else await admins.get(tx, ctx.workspace_id, held_by)
    if assignee is not None and assignee["away_mode_enabled"] and assignee["away_mode_reassign"]:
        # "assign any new conversation replies to your default inbox" (away_mode_reassign)
        outcome = rules.reassign_from_away(outcome, bot=await bot_author(tx, ctx), now=at)
    await contacts.touch_replied(tx, str(contact["id"]), now)
    return conversation_id, await _apply(tx, ctx, row, outcome, now=now)


# ------------------------------------------------------------------------------ managing


async def close(
    tx: Transaction, ctx: Context, conversation_id: int, *, admin_id: int, body: str | None
) -> Applied:
    row = await _load(tx, ctx, conversation_id)
    author = await admin_author(tx, ctx, admin_id)
    now = ctx.clock.now()
    outcome = rules.close(facts_of(row), author=author, now=now, body=_part_body(body))
    return await _apply(tx, ctx, row, outcome, now=now)


async def snooze(
    tx: Transaction, ctx: Context, conversation_id: int, *, admin_id: int, until: int
) -> Applied:
    row = await _load(tx, ctx, conversation_id)
    author = await admin_author(tx, ctx, admin_id)
    now = ctx.clock.now()
    outcome = _rule(rules.snooze, facts_of(row), author=author, now=now, until=until)
    return await _apply(tx, ctx, row, outcome, now=now)


async def open_(
    tx: Transaction, ctx: Context, conversation_id: int, *, admin_id: int
) -> Applied | None:
    """None when the conversation was open already: nothing changed."""
    row = await _load(tx, ctx, conversation_id)
    author = await admin_author(tx, ctx, admin_id)
    now = ctx.clock.now()
    outcome = rules.open_(facts_of(row), author=author, now=now)
    if not outcome.parts:
        return None
    return await _apply(tx, ctx, row, outcome, now=now)


async def wake(tx: Transaction, ctx: Context, conversation_id: int, *, now: int) -> bool:
    """The snooze timer: open a conversation whose `snoozed_until` has passed, with an `open`
    part by the workspace bot dated when the snooze ended. False when it is no longer snoozed
    or not due (a request or another process got there first): it never opens twice."""
    row = await store.get(tx, ctx.workspace_id, conversation_id, lock=True)
    if row is None or row["state"] != State.SNOOZED.value:
        return False
    until = row["snoozed_until"]
    if until is None or int(until) > now:
        return False
    outcome = rules.open_(facts_of(row), author=await bot_author(tx, ctx), now=int(until))
    await _apply(tx, ctx, row, outcome, now=now)
    return True


async def assign(
    tx: Transaction,
    ctx: Context,
    conversation_id: int,
    *,
    admin_id: int,
    assignee_type: str | None,
    assignee_id: int,
    body: str | None,
) -> Applied:
    """Assign to the admin or team `assignee_id` names (0: nobody), of kind `assignee_type`;
    None when the request does not say (1.x): whichever the id names, see _assignee_kind."""
    row = await _load(tx, ctx, conversation_id)
    author = await admin_author(tx, ctx, admin_id)
    target: int | None = assignee_id or None  # 0 means nobody
    # Unassigning without a kind clears the admin side, as 1.x's "assignee_id 0" always did.
    kind = assignee_type or "admin"
    if target is not None:
        kind = await _assignee_kind(tx, ctx, assignee_type, target)
    now = ctx.clock.now()
    outcome = _rule(
        rules.assign,
        facts_of(row),
        author=author,
        now=now,
        assignee=Assignee(kind, target),
        body=_part_body(body),
    )
    return await _apply(tx, ctx, row, outcome, now=now)


async def _assignee_kind(
    tx: Transaction, ctx: Context, assignee_type: str | None, assignee_id: int
) -> str:
    """`admin` or `team`: the kind of the workspace's assignee `assignee_id` names, of kind
    `assignee_type` when given. 1.x bodies name only who acts (`type: admin`), and its docs
    assign to a team by "just replace the admin ID with the team ID": then the id is an
    admin's, else a team's. Admins and teams are numbered apart, so an id can name both: the
    admin wins (what the id meant before teams could be reached this way); such a team is
    reached with `POST …/parts` and `type: team`."""
    kinds = (assignee_type,) if assignee_type is not None else ("admin", "team")
    for kind in kinds:
        if kind == "admin":
            found = await admins.get(tx, ctx.workspace_id, assignee_id)
        else:
            found = await teams.get(tx, ctx.workspace_id, assignee_id)
        if found is not None:
            return kind
    raise NotFound(
        f"Assignee not found: assignee_id names no {' or '.join(kinds)} of this workspace",
        code="assignee_not_found",
        field="assignee_id",
    )


# ------------------------------------------------------------------------------ updating


async def update(
    tx: Transaction,
    ctx: Context,
    conversation_id: int,
    *,
    read: bool | None,
    title: str | None,
    title_set: bool,
    custom_attributes: dict[str, Any] | None,
    priority: str | None = None,
) -> None:
    row = await _load(tx, ctx, conversation_id)
    now = ctx.clock.now()
    values: dict[str, Any] = {}
    if read is not None:
        values["read"] = read
    if priority is not None and priority != row["priority"]:
        values["priority"] = priority
    if title_set:
        values["title"] = title
    changed: dict[str, Any] = {}
    if custom_attributes is not None:
        await conversation_attributes.check_values(tx, ctx, custom_attributes)
        current = orjson.loads(row["custom_attributes"])
        for name, value in custom_attributes.items():
            problem = attribute_name_problem(name)
            if problem is not None:
                raise InvalidParameter(problem, field="custom_attributes")
            problem = attribute_value_problem(value)
            if problem is not None:
                field = f"custom_attributes.{name}"
                raise InvalidParameter(f"{field}: {problem}", field=field)
            if value is None:
                # null clears the attribute: the description allows no null values, and an
                # attribute that has none is simply absent.
                if name in current:
                    changed[name] = None
            elif current.get(name, object()) != value:
                changed[name] = value
        for name, value in changed.items():
            if value is None:
                del current[name]
            else:
                current[name] = value
        values["custom_attributes"] = store.dumps(current)
    if changed or "priority" in values:
        # Both parts are the bot's (Intercom's default author, Operator): no admin is named.
        bot = await bot_author(tx, ctx)
        outcome = rules.Outcome(facts_of(row))
        if changed:
            outcome = rules.attribute_updates(outcome.facts, bot=bot, now=now, changes=changed)
        if "priority" in values:
            outcome = rules.then(outcome, rules.priority_change(outcome.facts, author=bot, now=now))
        await _apply(tx, ctx, row, outcome, now=now)
    if values:
        values["updated_at"] = now
        await store.update(tx, conversation_id, values)


async def delete(tx: Transaction, ctx: Context, conversation_id: int) -> None:
    await _load(tx, ctx, conversation_id)
    await store.delete(tx, ctx.workspace_id, conversation_id)
    await outbox.append(
        tx,
        workspace_id=ctx.workspace_id,
        topic="conversation.deleted",
        now=ctx.clock.now(),
        payload={"conversation_id": str(conversation_id)},
    )


# ------------------------------------------------------------------------------ contacts


async def attach_contact(
    tx: Transaction,
    ctx: Context,
    conversation_id: int,
    *,
    admin_id: int,
    intercom_user_id: str | None,
    user_id: str | None,
    email: str | None,
) -> Row:
    row = await _load(tx, ctx, conversation_id)
    author = await admin_author(tx, ctx, admin_id)
    now = ctx.clock.now()
    if email is not None:  # looked up, and a lead's email if none has it: as POST /contacts
        email = contact_service.clean_email(email, field="customer.email")
    contact = await find_contact(
        tx, ctx, intercom_user_id=intercom_user_id, user_id=user_id, email=email
    )
    if contact is None:
        if email is None:
            raise NotFound("User Not Found", field="customer")
        # An unknown email makes a new lead (per the description of this endpoint), made as
        # POST /contacts makes one.
        contact = (await contact_service.create(tx, ctx, {"role": "lead", "email": email})).row
    if await store.add_contact(tx, conversation_id, str(contact["id"])):
        outcome = rules.participant_change(facts_of(row), author=author, now=now, added=True)
        await _apply(tx, ctx, row, outcome, now=now)
    return contact


async def detach_contact(
    tx: Transaction, ctx: Context, conversation_id: int, contact_id: str, *, admin_id: int
) -> None:
    row = await _load(tx, ctx, conversation_id)
    author = await admin_author(tx, ctx, admin_id)
    participants = (await store.contacts_of(tx, [conversation_id])).get(conversation_id, [])
    if contact_id not in {str(p["id"]) for p in participants}:
        raise NotFound("User Not Found")
    if len(participants) == 1:
        raise Unprocessable("Removing the last customer is not allowed")
    now = ctx.clock.now()
    await store.remove_contact(tx, conversation_id, contact_id)
    outcome = rules.participant_change(facts_of(row), author=author, now=now, added=False)
    await _apply(tx, ctx, row, outcome, now=now)


# ------------------------------------------------------------------------------ tags


async def tag(
    tx: Transaction, ctx: Context, conversation_id: int, tag_id: int, *, admin_id: int
) -> Row:
    # The tag's lock before the conversation's, as a rename and a deletion of the tag take them
    # (the foreign key of the tagging would take it after: a cycle, a deadlock on PostgreSQL).
    await tags.lock(tx, ctx.workspace_id, tag_id, exclusive=False)
    await _conversation_for_tagging(tx, ctx, conversation_id)
    await admin_author(tx, ctx, admin_id)
    if await tags.get(tx, ctx.workspace_id, tag_id) is None:
        raise NotFound("Tag not found", code="tag_not_found", field="id")
    now = ctx.clock.now()
    if await store.tag_of(tx, conversation_id, tag_id) is None:
        await store.add_tag(tx, conversation_id, tag_id, admin_id=admin_id, now=now)
        await store.update(tx, conversation_id, {"updated_at": now})
        await outbox.append(
            tx,
            workspace_id=ctx.workspace_id,
            topic="conversation_part.tag.created",
            now=now,
            payload={"conversation_id": str(conversation_id), "tag_ids": [str(tag_id)]},
        )
    applied = await store.tag_of(tx, conversation_id, tag_id)
    assert applied is not None
    return applied


async def untag(
    tx: Transaction, ctx: Context, conversation_id: int, tag_id: int, *, admin_id: int
) -> Row:
    await _conversation_for_tagging(tx, ctx, conversation_id)
    await admin_author(tx, ctx, admin_id)
    applied = await store.tag_of(tx, conversation_id, tag_id)
    if applied is None:
        raise NotFound("Tag not found", code="tag_not_found")
    await store.remove_tag(tx, conversation_id, tag_id)
    await store.update(tx, conversation_id, {"updated_at": ctx.clock.now()})
    return applied


async def _conversation_for_tagging(tx: Transaction, ctx: Context, conversation_id: int) -> None:
    if await store.get(tx, ctx.workspace_id, conversation_id, lock=True) is None:
        raise NotFound("Conversation not found")


# ------------------------------------------------------------------------------ redaction


async def redact_part(tx: Transaction, ctx: Context, conversation_id: int, part_id: int) -> None:
    await _load(tx, ctx, conversation_id)
    part = await store.get_part(tx, conversation_id, part_id)
    if part is None:
        raise NotFound(
            "Conversation part or message not found", code="conversation_part_or_message_not_found"
        )
    if part["body"] is None:
        raise not_redactable("a part without a body cannot be redacted")
    now = ctx.clock.now()
    await store.redact_part(tx, part_id, body=REDACTED_BODY, now=now)
    await store.update(tx, conversation_id, {"updated_at": now})
    await outbox.append(
        tx,
        workspace_id=ctx.workspace_id,
        topic="conversation_part.redacted",
        now=now,
        payload={"conversation_id": str(conversation_id), "part_ids": [str(part_id)]},
    )


async def redact_source(
    tx: Transaction, ctx: Context, conversation_id: int, source_id: str
) -> None:
    row = await _load(tx, ctx, conversation_id)
    if row["source_id"] != source_id:
        raise NotFound(
            "Conversation part or message not found", code="conversation_part_or_message_not_found"
        )
    if row["source_author_type"] == "admin":
        raise not_redactable("only a source message written by a contact can be redacted")
    now = ctx.clock.now()
    await store.update(
        tx,
        conversation_id,
        {
            "source_body": REDACTED_BODY,
            "source_redacted": True,
            "source_attachments": "[]",
            "updated_at": now,
        },
    )
    await outbox.append(
        tx,
        workspace_id=ctx.workspace_id,
        topic="conversation_part.redacted",
        now=now,
        payload={"conversation_id": str(conversation_id), "source_id": source_id},
    )


def not_redactable(message: str) -> ParleyError:
    return InvalidParameter(message, code="conversation_part_not_redactable")
