"""Conversations: create, list, retrieve, update, delete, reply, manage, contacts, tags, redact."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator

from parley.api.endpoint import Call, parse_model
from parley.api.fields import ContactRef, NumericId, Timestamp
from parley.api.routes import conversations_v1
from parley.api.routing import numeric_id, route
from parley.db.database import Transaction
from parley.errors import InvalidParameter, MissingParameter, NotFound
from parley.kit.numbers import parse_digits
from parley.render import conversation as render
from parley.services import conversations as service
from parley.services.conversations import Applied, ConversationView, StoredDocument


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AttachmentFile(Body):
    content_type: StrictStr
    data: StrictStr
    name: StrictStr


class ReplyOption(Body):
    text: StrictStr
    uuid: StrictStr


def _render(call: Call, view: ConversationView) -> dict[str, Any]:
    return render.conversation(
        view.row,
        contacts=view.contacts,
        tags=view.tags,
        parts=view.parts,
        version=call.version,
        plaintext=call.query.get("display_as") == "plaintext",
    )


def _document_form(call: Call) -> bool:
    """Whether this request wants exactly what a stored conversation document holds."""
    if call.version != render.DOCUMENT_VERSION:
        return False
    # Parse the query string only if there is one (the hot GET has none).
    return not call.scope["query_string"] or call.query.get("display_as") != "plaintext"


async def _respond(
    call: Call,
    conversation_id: int,
    *,
    before: StoredDocument | None = None,
    appended: Applied | None = None,
) -> bytes:
    """The conversation after a write. In the document form, the rendering is also kept as the
    conversation's document (same transaction), so the next GET is a single-row read.

    A write that only appended parts (`appended`: what it wrote) to a conversation whose
    document was current just `before` it renders the conversation with its new parts only and
    takes the earlier parts from that document: reading and rendering every part was a third
    of a reply, and reading back the row and the parts just written another tenth."""
    if _document_form(call):
        body = await _respond_from_document(call, conversation_id, before, appended)
        if body is not None:
            return body
    view = await service.view(call.tx, call.ctx, conversation_id)
    body = orjson.dumps(_render(call, view))
    if _document_form(call):
        await service.keep_document(call.tx, call.ctx, conversation_id, body, view.row["revision"])
    return body


async def _respond_from_document(
    call: Call, conversation_id: int, before: StoredDocument | None, appended: Applied | None
) -> bytes | None:
    if before is None or appended is None:
        return None
    # Replies and manage actions change neither contacts nor tags (changing either retires
    # the document), so the previous document's are current.
    view = await service.view_after_append(
        call.tx,
        appended,
        base_revision=before.revision,
        relations=render.relations_in_document(before.body),
    )
    if view is None:
        return None
    body = render.extend_document(before.body, _render(call, view))
    if body is None:
        return None
    await service.keep_document(call.tx, call.ctx, conversation_id, body, view.row["revision"])
    return body


async def _document_before(call: Call, reference: str) -> StoredDocument | None:
    """The stored document of the conversation a write is about to change, if it is current
    (and the write names it by id), for _respond."""
    if not _document_form(call):
        return None
    try:
        conversation_id = numeric_id(reference)
    except NotFound:
        return None  # `last`: the write itself resolves it
    return await service.stored_document(call.tx, call.ctx, conversation_id)


def _object_body(call: Call) -> dict[str, Any]:
    """The JSON body of a route that reads a key before choosing its model: an object (none
    sent: empty), else the 400 every other body gets (parse_model)."""
    if call.json is None:
        return {}
    if not isinstance(call.json, dict):
        raise InvalidParameter("Request body must be a JSON object")
    return call.json


def _conversation_id(call: Call) -> int:
    return numeric_id(call.path["conversation_id"])


# ----------------------------------------------------------------------------- create & read


class CreateConversation(Body):
    from_: ContactRef = Field(alias="from")
    body: StrictStr
    subject: StrictStr | None = None
    attachment_urls: list[StrictStr] = Field(default_factory=list, max_length=10)
    created_at: Timestamp | None = None


async def create_conversation(call: Call) -> dict[str, Any]:
    body = call.body(CreateConversation)
    if not body.body.strip():
        raise InvalidParameter("body is required", field="body")
    created = await service.create_from_contact(
        call.tx,
        call.ctx,
        sender=body.from_.key("from"),
        body=body.body,
        subject=body.subject,
        attachment_urls=body.attachment_urls,
        created_at=body.created_at,
    )
    return render.message(
        kind="user_message",
        message_id=created.message_id,
        created_at=created.created_at,
        subject=None,
        body=created.body,
        message_type="inapp",
        conversation_id=created.conversation_id,
    )


def _per_page(raw: str | None, default: int = 20) -> int:
    if raw is None:
        return default
    value = parse_digits(raw, 9)
    if value is None or not 1 <= value <= 150:
        raise InvalidParameter("per_page must be an integer between 1 and 150", field="per_page")
    return value


def _page_number(raw: str | None) -> int | None:
    """1.x pages by number (`page`, from 1); 2.x clients may send it too."""
    if raw is None or raw == "":
        return None
    value = parse_digits(raw, 9)
    if value is None or not 1 <= value <= 1_000_000:
        raise InvalidParameter("page must be a positive integer", field="page")
    return value


async def list_conversations(call: Call) -> dict[str, Any]:
    if call.version.is_legacy:  # the 1.x filters, sorts and page numbers
        return await conversations_v1.list_conversations(call)
    page = await service.list_page(
        call.tx,
        call.ctx,
        per_page=_per_page(call.query.get("per_page")),
        starting_after=call.query.get("starting_after") or None,
        page=_page_number(call.query.get("page")),
    )
    items = [_render(call, item) for item in page.items]
    return render.conversation_list(
        items,
        total_count=page.total_count,
        page=page.page,
        per_page=page.per_page,
        next_cursor=page.next_cursor,
        version=call.version,
        url=str(call.request.url.replace(query="")),
    )


async def retrieve_conversation(call: Call) -> bytes:
    conversation_id = _conversation_id(call)
    if not _document_form(call):
        view = await service.view(call.tx, call.ctx, conversation_id)
        return orjson.dumps(_render(call, view))
    stored = await service.stored_document(call.tx, call.ctx, conversation_id)
    if stored is not None:
        return stored.body
    # Not stored since its last change (e.g. a contact it shows was renamed): render it, and keep
    # the rendering once this read has finished, unless a write has moved the conversation on.
    view = await service.view(call.tx, call.ctx, conversation_id)
    body = orjson.dumps(_render(call, view))
    revision = int(view.row["revision"])

    async def keep(tx: Transaction) -> None:
        await service.keep_document(tx, call.ctx, conversation_id, body, revision)

    call.after_commit.append(keep)
    return body


class UpdateConversation(Body):
    read: StrictBool | None = None
    title: StrictStr | None = None
    custom_attributes: dict[str, Any] | None = None
    company_id: StrictStr | None = None
    priority: StrictStr | None = None  # an extension: no description has a way to set it


async def update_conversation(call: Call) -> bytes:
    conversation_id = _conversation_id(call)
    body = call.body(UpdateConversation)
    await service.update(
        call.tx,
        call.ctx,
        conversation_id,
        read=body.read,
        title=body.title,
        title_set="title" in body.model_fields_set,
        custom_attributes=body.custom_attributes,
        priority=(
            None if body.priority is None else render.priority_level(body.priority, call.version)
        ),
    )
    return await _respond(call, conversation_id)


async def delete_conversation(call: Call) -> dict[str, Any]:
    conversation_id = _conversation_id(call)
    await service.delete(call.tx, call.ctx, conversation_id)
    return render.deleted(conversation_id)


# ----------------------------------------------------------------------------- reply


class AdminReply(Body):
    message_type: Literal["comment", "note", "quick_reply"]
    type: Literal["admin"]
    admin_id: NumericId
    body: StrictStr | None = None
    created_at: Timestamp | None = None
    reply_options: list[ReplyOption] | None = None
    attachment_urls: list[StrictStr] = Field(default_factory=list, max_length=10)
    attachment_files: list[AttachmentFile] = Field(default_factory=list, max_length=10)
    skip_notifications: StrictBool | None = None


class ContactReply(Body):
    message_type: Literal["comment", "quick_reply"]
    type: Literal["user", "lead", "contact"]
    body: StrictStr | None = None
    intercom_user_id: StrictStr | None = None
    user_id: StrictStr | None = None
    email: StrictStr | None = None
    created_at: Timestamp | None = None
    reply_options: list[ReplyOption] | None = None
    attachment_urls: list[StrictStr] = Field(default_factory=list, max_length=10)
    attachment_files: list[AttachmentFile] = Field(default_factory=list, max_length=10)

    def check(self) -> ContactReply:
        """What the fields cannot say alone: missing ones are 400 parameter_not_found naming
        the field (docs/behaviour.md, Errors), as 1.x's list names `intercom_user_id`."""
        if not (self.intercom_user_id or self.user_id or self.email):
            raise MissingParameter(
                "one of intercom_user_id, user_id or email is required", field="intercom_user_id"
            )
        if not (self.body and self.body.strip()) and not self.reply_options:
            raise MissingParameter("body is required", field="body")
        return self


def _files(files: list[AttachmentFile]) -> list[dict[str, str]]:
    return [f.model_dump() for f in files]


async def reply_conversation(call: Call) -> bytes:
    reference = call.path["conversation_id"]
    data = _object_body(call)
    kind = data.get("type")
    if kind is None:
        raise MissingParameter("type is required", field="type")
    if not isinstance(kind, str):  # e.g. an object: not hashable, not a type
        raise InvalidParameter("type must be admin or user", field="type")
    legacy_action = call.version.is_legacy and str(data.get("message_type")) in MANAGE_TYPES
    if kind == "admin" and legacy_action:
        # 1.x acts through the reply endpoint (open, close, assignment, snoozed).
        return await manage_conversation(call)
    before = await _document_before(call, reference)
    if kind == "admin":
        admin = call.body(AdminReply)
        conversation_id, appended = await service.admin_reply(
            call.tx,
            call.ctx,
            reference,
            admin_id=admin.admin_id,
            message_type=admin.message_type,
            body=admin.body,
            created_at=admin.created_at,
            reply_options=[o.model_dump() for o in admin.reply_options or []],
            attachment_urls=admin.attachment_urls,
            attachment_files=_files(admin.attachment_files),
        )
    elif kind in {"user", "lead", "contact"}:
        contact = call.body(ContactReply).check()
        conversation_id, appended = await service.contact_reply(
            call.tx,
            call.ctx,
            reference,
            intercom_user_id=contact.intercom_user_id,
            user_id=contact.user_id,
            email=contact.email,
            body=contact.body or "",
            created_at=contact.created_at,
            attachment_urls=contact.attachment_urls,
            attachment_files=_files(contact.attachment_files),
            reply_options=[o.model_dump() for o in contact.reply_options or []],
        )
    else:
        raise InvalidParameter("type must be admin or user", field="type")
    return await _respond(call, conversation_id, before=before, appended=appended)


# ----------------------------------------------------------------------------- manage


class Close(Body):
    message_type: Literal["close"]
    type: Literal["admin"]
    admin_id: NumericId
    body: StrictStr | None = None


class Snooze(Body):
    message_type: Literal["snoozed"]
    admin_id: NumericId
    snoozed_until: Timestamp


class Open(Body):
    message_type: Literal["open"]
    admin_id: NumericId


class Assign(Body):
    message_type: Literal["assignment"]
    type: Literal["admin", "team"]
    admin_id: NumericId
    assignee_id: NumericId
    body: StrictStr | None = None


MANAGE_TYPES = frozenset({"close", "snoozed", "open", "assignment"})


async def manage_conversation(call: Call) -> bytes:
    conversation_id = numeric_id(call.path["conversation_id"])
    data = _object_body(call)
    kind = data.get("message_type")
    tx, ctx = call.tx, call.ctx
    before = await _document_before(call, call.path["conversation_id"])
    appended: Applied | None = None
    if kind == "close":
        close = call.body(Close)
        appended = await service.close(
            tx, ctx, conversation_id, admin_id=close.admin_id, body=close.body
        )
    elif kind == "snoozed":
        snooze = call.body(Snooze)
        appended = await service.snooze(
            tx, ctx, conversation_id, admin_id=snooze.admin_id, until=snooze.snoozed_until
        )
    elif kind == "open":
        appended = await service.open_(tx, ctx, conversation_id, admin_id=call.body(Open).admin_id)
    elif kind == "assignment":
        assign = call.body(Assign)
        # 1.x's `type: admin` says who acts (its bodies have no assignee type): the assignee
        # is then whatever assignee_id names, an admin or a team. 2.x's `type` decides.
        legacy_admin = call.version.is_legacy and assign.type == "admin"
        appended = await service.assign(
            tx,
            ctx,
            conversation_id,
            admin_id=assign.admin_id,
            assignee_type=None if legacy_admin else assign.type,
            assignee_id=assign.assignee_id,
            body=assign.body,
        )
    elif kind is None:
        raise MissingParameter("message_type is required", field="message_type")
    else:
        raise InvalidParameter(
            "message_type must be one of close, snoozed, open, assignment", field="message_type"
        )
    if appended is None and before is not None:
        return before.body  # opening an open conversation changes nothing: still current
    return await _respond(call, conversation_id, before=before, appended=appended)


# ----------------------------------------------------------------------------- contacts


class CustomerRef(Body):
    intercom_user_id: StrictStr | None = None
    user_id: StrictStr | None = None
    email: StrictStr | None = None


class AttachContact(Body):
    admin_id: NumericId
    customer: CustomerRef

    @model_validator(mode="after")
    def _one_identifier(self) -> AttachContact:
        given = [
            v
            for v in (self.customer.intercom_user_id, self.customer.user_id, self.customer.email)
            if v
        ]
        if len(given) != 1:
            raise ValueError("customer needs exactly one of intercom_user_id, user_id or email")
        return self


class DetachContact(Body):
    admin_id: NumericId


def _with_customers(call: Call, view: ConversationView) -> dict[str, Any]:
    """The schema says conversation, the examples show `customers`: send both (spec-digest
    §6.4); SDKs read the conversation and ignore the extra key."""
    out = _render(call, view)
    out["customers"] = [{"type": str(c["role"]), "id": str(c["id"])} for c in view.contacts]
    return out


async def attach_contact(call: Call) -> dict[str, Any]:
    conversation_id = numeric_id(call.path["conversation_id"])
    body = call.body(AttachContact)
    await service.attach_contact(
        call.tx,
        call.ctx,
        conversation_id,
        admin_id=body.admin_id,
        intercom_user_id=body.customer.intercom_user_id,
        user_id=body.customer.user_id,
        email=body.customer.email,
    )
    return _with_customers(call, await service.view(call.tx, call.ctx, conversation_id))


async def detach_contact(call: Call) -> dict[str, Any]:
    conversation_id = numeric_id(call.path["conversation_id"])
    body = call.body(DetachContact)
    await service.detach_contact(
        call.tx, call.ctx, conversation_id, call.path["contact_id"], admin_id=body.admin_id
    )
    return _with_customers(call, await service.view(call.tx, call.ctx, conversation_id))


# ----------------------------------------------------------------------------- tags


class AttachTag(Body):
    id: NumericId
    admin_id: NumericId


class DetachTag(Body):
    admin_id: NumericId


def _tag_path_id(call: Call) -> int:
    return numeric_id(call.path["conversation_id"], message="Conversation not found")


async def attach_tag(call: Call) -> dict[str, Any]:
    conversation_id = _tag_path_id(call)
    body = call.body(AttachTag)
    applied = await service.tag(call.tx, call.ctx, conversation_id, body.id, admin_id=body.admin_id)
    return render.applied_tag(applied)


async def detach_tag(call: Call) -> dict[str, Any]:
    conversation_id = _tag_path_id(call)
    tag_id = numeric_id(call.path["tag_id"], message="Tag not found", code="tag_not_found")
    body = call.body(DetachTag)
    applied = await service.untag(
        call.tx, call.ctx, conversation_id, tag_id, admin_id=body.admin_id
    )
    return render.applied_tag(applied)


# ----------------------------------------------------------------------------- redact


class RedactPart(Body):
    type: Literal["conversation_part"]
    conversation_id: NumericId
    conversation_part_id: NumericId


class RedactSource(Body):
    type: Literal["source"]
    conversation_id: NumericId
    source_id: StrictStr


async def redact_conversation(call: Call) -> bytes:
    data = _object_body(call)
    kind = data.get("type")
    if kind == "conversation_part":
        part = parse_model(RedactPart, data)
        conversation_id = part.conversation_id
        await service.redact_part(call.tx, call.ctx, conversation_id, part.conversation_part_id)
    elif kind == "source":
        source = parse_model(RedactSource, data)
        conversation_id = source.conversation_id
        await service.redact_source(call.tx, call.ctx, conversation_id, source.source_id)
    elif kind is None:
        raise MissingParameter("type is required", field="type")
    else:
        raise InvalidParameter("type must be conversation_part or source", field="type")
    return await _respond(call, conversation_id)


routes = [
    route("POST", "/conversations", create_conversation),
    route("GET", "/conversations", list_conversations),
    route("POST", "/conversations/redact", redact_conversation),
    route("GET", "/conversations/{conversation_id}", retrieve_conversation),
    route("PUT", "/conversations/{conversation_id}", update_conversation),
    route("DELETE", "/conversations/{conversation_id}", delete_conversation),
    route("POST", "/conversations/{conversation_id}/reply", reply_conversation),
    route("POST", "/conversations/{conversation_id}/parts", manage_conversation),
    route("POST", "/conversations/{conversation_id}/customers", attach_contact),
    route("DELETE", "/conversations/{conversation_id}/customers/{contact_id}", detach_contact),
    route("POST", "/conversations/{conversation_id}/tags", attach_tag),
    route("DELETE", "/conversations/{conversation_id}/tags/{tag_id}", detach_tag),
]
