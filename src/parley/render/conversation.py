"""Conversations, their parts and list pages, in the wire format of the requested version.

Version differences live here and only here: unassigned is null before 2.16 and 0 from 2.16;
priority is priority/not_priority before 2.16 and the level itself from 2.16.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from parley.db.database import Row
from parley.errors import InvalidParameter
from parley.kit.html import to_plaintext
from parley.render import conversation_v1
from parley.render.version import VERSIONS, ApiVersion

# The version whose rendering of a conversation is stored as its document (the default one).
DOCUMENT_VERSION = VERSIONS["2.14"]

STAT_KEYS = (
    "time_to_assignment",
    "time_to_admin_reply",
    "time_to_first_close",
    "time_to_last_close",
    "median_time_to_reply",
    "first_contact_reply_at",
    "first_assignment_at",
    "first_admin_reply_at",
    "first_close_at",
    "last_assignment_at",
    "last_assignment_admin_reply_at",
    "last_contact_reply_at",
    "last_admin_reply_at",
    "last_close_at",
    "last_closed_by_id",
    "count_reopens",
    "count_assignments",
    "count_conversation_parts",
    "handling_time",
)


def _json(value: str | None) -> Any:
    return None if value is None else orjson.loads(value)


def _assignee(value: int | None, version: ApiVersion) -> int | None:
    if value is None:
        return 0 if version.at_least("2.16") else None
    return int(value)


def _priority(level: str, version: ApiVersion) -> str:
    if version.at_least("2.16"):
        return level
    return "not_priority" if level == "none" else "priority"


PRIORITY_LEVELS = ("none", "low", "medium", "high", "urgent")


def priority_level(value: str, version: ApiVersion) -> str:
    """Read a requested priority (PUT /conversations/{id} `priority`, a Parley extension) in the
    requested version's vocabulary: the level from 2.16; `priority` (stored as `high`) or
    `not_priority` (`none`) before. Anything else is a 400 naming the field."""
    if version.at_least("2.16"):
        if value in PRIORITY_LEVELS:
            return value
        allowed = ", ".join(PRIORITY_LEVELS)
    else:
        if value in {"priority", "not_priority"}:
            return "high" if value == "priority" else "none"
        allowed = "priority, not_priority"
    raise InvalidParameter(f"priority must be one of {allowed}", field="priority")


def _body(body: str | None, plaintext: bool) -> str | None:
    return to_plaintext(body) if plaintext else body


def _author(
    kind: str, admin_id: Any, contact_id: Any, name: str | None, email: str | None
) -> dict[str, Any]:
    identifier = str(admin_id) if admin_id is not None else str(contact_id)
    return {
        "type": kind,
        "id": identifier,
        "name": name,
        "email": email or "",
        "from_ai_agent": False,
        "is_ai_answer": False,
    }


def _statistics(raw: str) -> dict[str, Any]:
    """Unset members are left out rather than null: the description types them as non-null."""
    stored = orjson.loads(raw)
    out: dict[str, Any] = {"type": "conversation_statistics"}
    for key in STAT_KEYS:
        value = stored.get(key)
        if value is not None:
            out[key] = value
    by_team = stored.get("assigned_team_first_response_time", [])
    out["assigned_team_first_response_time"] = by_team
    # The official SDKs (python-intercom, intercom-client) read the wall-clock list under the
    # Preview name `..._by_team`: sent under both names, as teammates.admins/teammates are.
    out["assigned_team_first_response_time_by_team"] = by_team
    out["assigned_team_first_response_time_in_office_hours"] = stored.get(
        "assigned_team_first_response_time_in_office_hours", []
    )
    return out


def _source_author_216(author: dict[str, Any]) -> dict[str, Any]:
    """2.16 types the source author as conversation_source_author: type, id, name, email, the
    last three nullable (an unknown email is null there, not "")."""
    return {
        "type": author["type"],
        "id": author["id"],
        "name": author["name"],
        "email": author["email"] or None,
    }


def _channel(source_type: str) -> dict[str, Any]:
    """2.16 `channel`: email conversations started by email, everything else in the messenger."""
    initial = "email" if source_type == "email" else "messenger"
    return {"initial": initial, "current": initial}


def source(
    row: Row, *, plaintext: bool = False, version: ApiVersion | None = None
) -> dict[str, Any]:
    if row["source_author_type"] == "admin":
        author = _author(
            "bot" if row["source_admin_kind"] == "bot" else "admin",
            row["source_author_admin_id"],
            None,
            row["source_admin_name"],
            row["source_admin_email"],
        )
    else:
        author = _author(
            row["source_author_type"],
            None,
            row["source_author_contact_id"],
            row["source_contact_name"],
            row["source_contact_email"],
        )
    if version is not None and version.at_least("2.16"):
        author = _source_author_216(author)
    return {
        "type": row["source_type"],
        "id": row["source_id"],
        "delivered_as": row["source_delivered_as"],
        "subject": row["source_subject"],
        "body": _body(row["source_body"], plaintext) or "",
        "author": author,
        "attachments": _json(row["source_attachments"]),
        "url": row["source_url"],
        "redacted": bool(row["source_redacted"]),
    }


def rating(raw: str | None, contacts: Sequence[Row]) -> dict[str, Any] | None:
    """The stored rating facts as `conversation_rating`; the teammate is left out when nobody
    was assigned (the description types it as a non-null reference)."""
    stored = _json(raw)
    if stored is None:
        return None
    external_ids = {str(c["id"]): c["external_id"] for c in contacts}
    out: dict[str, Any] = {
        "rating": stored["rating"],
        "remark": stored["remark"],
        "created_at": stored["created_at"],
        "updated_at": stored["updated_at"],
        "contact": {
            "type": "contact",
            "id": stored["contact_id"],
            "external_id": external_ids.get(stored["contact_id"]),
        },
    }
    if stored["admin_id"] is not None:
        out["teammate"] = {"type": "admin", "id": stored["admin_id"]}
    return out


def contact_reference(row: Row) -> dict[str, Any]:
    return {"type": "contact", "id": row["id"], "external_id": row["external_id"]}


def applied_tag(row: Row) -> dict[str, Any]:
    return {
        "type": "tag",
        "id": str(row["id"]),
        "name": row["name"],
        "applied_at": row["applied_at"],
        "applied_by": {"type": row["applied_by_type"], "id": row["applied_by_id"]},
    }


def part(row: Row, *, plaintext: bool = False) -> dict[str, Any]:
    if row["author_admin_id"] is not None:
        author = _author(
            row["author_type"], row["author_admin_id"], None, row["admin_name"], row["admin_email"]
        )
    else:
        author = _author(
            row["author_type"],
            None,
            row["author_contact_id"],
            row["contact_name"],
            row["contact_email"],
        )
    assigned_to = None
    if row["assigned_to_type"] is not None:
        assigned_to = {"type": row["assigned_to_type"], "id": row["assigned_to_id"]}
    return {
        "type": "conversation_part",
        "id": str(row["id"]),
        "part_type": row["part_type"],
        "body": _body(row["body"], plaintext),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "notified_at": row["notified_at"],
        "assigned_to": assigned_to,
        "author": author,
        "attachments": _json(row["attachments"]),
        "external_id": row["external_id"],
        "redacted": bool(row["redacted"]),
        "metadata": _json(row["metadata"]) or {},
        "state": row["state"],
        "tags": [],
        "event_details": _json(row["event_details"]),
        "app_package_code": row["app_package_code"],
    }


def conversation(
    row: Row,
    *,
    contacts: Sequence[Row],
    tags: Sequence[Row],
    parts: Sequence[Row] | None,
    version: ApiVersion,
    plaintext: bool = False,
) -> dict[str, Any]:
    """A conversation; with `parts=None` it is a list item (no conversation_parts).

    The one entry point for every version: 1.x is the legacy model (render/conversation_v1.py);
    2.x gates the later fields here (`company` from 2.15; the 2.16 additions)."""
    if version.is_legacy:
        return conversation_v1.conversation(
            row, contacts=contacts, tags=tags, parts=parts, plaintext=plaintext
        )
    teammates = [{"type": "admin", "id": str(i)} for i in orjson.loads(row["teammate_ids"])]
    first_reply = row["first_contact_reply_at"]
    out: dict[str, Any] = {
        "type": "conversation",
        "id": str(row["id"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "waiting_since": row["waiting_since"],
        "snoozed_until": row["snoozed_until"],
        "source": source(row, plaintext=plaintext, version=version),
        "contacts": {"type": "contact.list", "contacts": [contact_reference(c) for c in contacts]},
        "first_contact_reply": (
            None
            if first_reply is None
            else {"created_at": first_reply, "type": "conversation", "url": None}
        ),
        "admin_assignee_id": _assignee(row["admin_assignee_id"], version),
        "team_assignee_id": _assignee(row["team_assignee_id"], version),
        "open": row["state"] != "closed",
        "state": row["state"],
        "read": bool(row["read"]),
        "tags": {"type": "tag.list", "tags": [applied_tag(t) for t in tags]},
        "priority": _priority(row["priority"], version),
        "sla_applied": _json(row["sla_applied"]),
        "statistics": _statistics(row["statistics"]),
        "conversation_rating": rating(row["conversation_rating"], contacts),
        # The description names the list `teammates`; the live API and the official SDKs use
        # `admins`. Both keys are sent so that either reader finds it (docs/behaviour.md).
        "teammates": {"type": "admin.list", "teammates": teammates, "admins": teammates},
        "title": row["title"],
        "custom_attributes": _json(row["custom_attributes"]),
        "topics": {},
        "ticket": None,
        "linked_objects": {"type": "list", "total_count": 0, "has_more": False, "data": []},
        "ai_agent": None,
        "ai_agent_participated": bool(row["ai_agent_participated"]),
    }
    if version.at_least("2.15"):
        out["company"] = None  # Parley has no companies
    if version.at_least("2.16"):
        out["sales_agent_participated"] = False
        out["sales_agent"] = None
        out["channel"] = _channel(row["source_type"])
        out["external_references"] = []
    if parts is not None:
        out["conversation_parts"] = {
            "type": "conversation_part.list",
            "conversation_parts": [part(p, plaintext=plaintext) for p in parts],
            "total_count": int(row["part_count"]),
        }
    return out


_PARTS_OPEN = b'"conversation_parts":{"type":"conversation_part.list","conversation_parts":['
_PARTS_CLOSE = b'],"total_count":'


def extend_document(previous: bytes, rendered: dict[str, Any]) -> bytes | None:
    """The document of a conversation after parts were appended to it, made from `rendered` (its
    rendering with only the new parts) and the earlier parts as they stand, as bytes, in
    `previous` (the document of the revision before, which showed them all). Parsing and
    re-serialising those ~10 KB cost more than the rest of a reply's rendering.

    The parts list is the document's last member, and the last place its opening and closing
    appear unescaped (every string inside is escaped JSON; no part member has those keys). None
    if `previous` is not of that shape."""
    start = previous.rfind(_PARTS_OPEN)
    end = previous.rfind(_PARTS_CLOSE)
    if start < 0 or end < start or not previous.endswith(b"}}"):
        return None
    earlier = previous[start + len(_PARTS_OPEN) : end]
    parts = rendered.pop("conversation_parts")
    added = orjson.dumps(parts["conversation_parts"])[1:-1]
    head = orjson.dumps(rendered)
    return b"".join(
        (
            head[:-1],
            b",",
            _PARTS_OPEN,
            earlier,
            b"," if earlier and added else b"",
            added,
            _PARTS_CLOSE,
            str(parts["total_count"]).encode(),
            b"}}",
        )
    )


_CONTACTS_OPEN = b'"contacts":{"type":"contact.list","contacts":'
_CONTACTS_CLOSE = b'},"first_contact_reply":'
_TAGS_OPEN = b'"tags":{"type":"tag.list","tags":'
_TAGS_CLOSE = b'},"priority":'


def relations_in_document(document: bytes) -> tuple[list[Row], list[Row]] | None:
    """The contacts and tags a document shows, as rows that render them the same way
    (`contact_reference`, `applied_tag`, `rating`): a write that changes neither builds on its
    document without querying them. None if `document` is not of that shape.

    Both lists sit in the head, before the parts, in the order `conversation` writes its keys.
    Their first opening is theirs (the source before them has no such member), and the closing
    after it ends them: it has unescaped quotes, so it occurs in no string, and contact and tag
    references hold no list of their own."""
    contacts = _member(document, _CONTACTS_OPEN, _CONTACTS_CLOSE)
    tags = _member(document, _TAGS_OPEN, _TAGS_CLOSE)
    if contacts is None or tags is None:
        return None
    contact_rows: list[Row] = list(contacts)
    return contact_rows, [
        {
            "id": tag["id"],
            "name": tag["name"],
            "applied_at": tag["applied_at"],
            "applied_by_type": tag["applied_by"]["type"],
            "applied_by_id": tag["applied_by"]["id"],
        }
        for tag in tags
    ]


def _member(document: bytes, opening: bytes, closing: bytes) -> list[dict[str, Any]] | None:
    start = document.find(opening)
    if start < 0:
        return None
    start += len(opening)
    end = document.find(closing, start)
    if end < 0:
        return None
    try:
        value = orjson.loads(document[start:end])
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def conversation_list(
    items: list[dict[str, Any]],
    *,
    total_count: int,
    page: int,
    per_page: int,
    next_cursor: str | None,
    version: ApiVersion | None = None,
    url: str = "/conversations",
) -> dict[str, Any]:
    """A list page: cursor pagination in 2.x; in 1.x page numbers with `pages.next` a URL
    (`url` is the list's absolute URL without the query)."""
    if version is not None and version.is_legacy:
        return conversation_v1.conversation_list(
            items, total_count=total_count, page=page, per_page=per_page, url=url
        )
    pages: dict[str, Any] = {
        "type": "pages",
        "page": page,
        "per_page": per_page,
        "total_pages": max(1, -(-total_count // per_page)),
    }
    if next_cursor is not None:
        pages["next"] = {"per_page": per_page, "starting_after": next_cursor}
    return {
        "type": "conversation.list",
        "conversations": items,
        "total_count": total_count,
        "pages": pages,
    }


def deleted(conversation_id: int) -> dict[str, Any]:
    return {"id": str(conversation_id), "object": "conversation", "deleted": True}


def message(
    *,
    kind: str,
    message_id: int,
    created_at: int,
    subject: str | None,
    body: str,
    message_type: str,
    conversation_id: int | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": kind,
        "id": str(message_id),
        "created_at": created_at,
        "body": body,
        "message_type": message_type,
    }
    if subject is not None:
        out["subject"] = subject
    if conversation_id is not None:
        out["conversation_id"] = str(conversation_id)
    return out
