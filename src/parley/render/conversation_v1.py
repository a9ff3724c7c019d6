"""The 1.x conversation model (Intercom-Version 1.0–1.4), field for field as seed 003 shows it.

Selected by `render.conversation.conversation()` / `conversation_list()` for legacy versions; the
routes never choose. The model differs from 2.x in shape, not in facts, so it renders the same
rows: `user` and `customers` instead of `contacts`, `assignee` (`nobody_admin` when unassigned)
instead of the assignee ids, `conversation_message` instead of `source`, `customer_first_reply`
instead of `first_contact_reply`, a rating with `customer`/`teammate`, and `waiting_since` set to
the year-4018 sentinel when nobody is waiting. Its JSON Schema is
`src/parley/schemas/v1_conversation.json`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import orjson

from parley.db.database import Row
from parley.kit.html import to_plaintext

# "In these cases we will set the date to 2000 years in the future" (seed 003): 4018-10-22.
WAITING_SENTINEL = 64654125776


def _json(value: str | None) -> Any:
    return None if value is None else orjson.loads(value)


def _body(body: str | None, plaintext: bool) -> str | None:
    return to_plaintext(body) if plaintext else body


def _author(kind: str, identifier: Any, name: str | None, email: str | None) -> dict[str, Any]:
    return {"type": kind, "id": str(identifier), "name": name or "", "email": email or ""}


def customer(row: Row) -> dict[str, Any]:
    """A contact as 1.x names it: `{type: user|lead, id}`."""
    return {"type": str(row["role"]), "id": str(row["id"])}


def _assignee(row: Row) -> dict[str, Any]:
    if row["admin_assignee_id"] is not None:
        return {"type": "admin", "id": str(row["admin_assignee_id"])}
    if row["team_assignee_id"] is not None:
        return {"type": "team", "id": str(row["team_assignee_id"])}
    return {"type": "nobody_admin", "id": None}


def _attachments(raw: str | None) -> list[dict[str, Any]]:
    return list(_json(raw) or [])


def conversation_message(row: Row, *, plaintext: bool = False) -> dict[str, Any]:
    if row["source_author_type"] == "admin":
        kind = "bot" if row["source_admin_kind"] == "bot" else "admin"
        author = _author(
            kind, row["source_author_admin_id"], row["source_admin_name"], row["source_admin_email"]
        )
    else:
        author = _author(
            row["source_author_type"],
            row["source_author_contact_id"],
            row["source_contact_name"],
            row["source_contact_email"],
        )
    return {
        "type": row["source_type"],
        "id": str(row["source_id"]),
        "delivered_as": row["source_delivered_as"],
        "subject": row["source_subject"] or "",
        "body": _body(row["source_body"], plaintext) or "",
        "author": author,
        "attachments": _attachments(row["source_attachments"]),
        "url": row["source_url"] or "",  # seed 003: blank where there is none
    }


def part(row: Row, *, plaintext: bool = False) -> dict[str, Any]:
    if row["author_admin_id"] is not None:
        author = _author(
            row["author_type"], row["author_admin_id"], row["admin_name"], row["admin_email"]
        )
    else:
        author = _author(
            row["author_type"], row["author_contact_id"], row["contact_name"], row["contact_email"]
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
        "attachments": _attachments(row["attachments"]),
        "external_id": row["external_id"],
    }


def _rating(raw: str | None, contacts: Sequence[Row]) -> dict[str, Any]:
    """The 2.x rating (`contact`, `teammate`) as 1.x shows it (`customer`, `teammate`); with no
    rating every member is null, as in seed 003."""
    stored: Mapping[str, Any] = _json(raw) or {}
    roles = {str(c["id"]): str(c["role"]) for c in contacts}
    rater_id = stored.get("contact_id")
    admin_id = stored.get("admin_id")
    return {
        "rating": stored.get("rating"),
        "remark": stored.get("remark"),
        "created_at": stored.get("created_at"),
        "customer": {
            "type": None if rater_id is None else roles.get(str(rater_id), "user"),
            "id": None if rater_id is None else str(rater_id),
        },
        "teammate": {"type": None if admin_id is None else "admin", "id": admin_id},
    }


def _tag(row: Row) -> dict[str, Any]:
    return {"type": "tag", "id": str(row["id"]), "name": row["name"]}


def conversation(
    row: Row,
    *,
    contacts: Sequence[Row],
    tags: Sequence[Row],
    parts: Sequence[Row] | None,
    plaintext: bool = False,
) -> dict[str, Any]:
    """A 1.x conversation; with `parts=None` it is a list item, which 1.x sends without
    `conversation_parts` and without `tags` (intercom-behavior §7.3)."""
    waiting_since = row["waiting_since"]
    first_reply = row["first_contact_reply_at"]
    out: dict[str, Any] = {
        "type": "conversation",
        "id": str(row["id"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "waiting_since": WAITING_SENTINEL if waiting_since is None else waiting_since,
        "snoozed_until": row["snoozed_until"],
        "conversation_message": conversation_message(row, plaintext=plaintext),
        "user": customer(contacts[0]) if contacts else None,
        "customers": [customer(c) for c in contacts],
        "assignee": _assignee(row),
        "open": row["state"] != "closed",
        "state": row["state"],
        "read": bool(row["read"]),
        "customer_first_reply": (
            None
            if first_reply is None
            else {
                "created_at": first_reply,
                "type": row["source_type"],
                "url": row["source_url"] or "",
            }
        ),
        "conversation_rating": _rating(row["conversation_rating"], contacts),
    }
    if parts is not None:
        out["tags"] = {"type": "tag.list", "tags": [_tag(t) for t in tags]}
        out["conversation_parts"] = {
            "type": "conversation_part.list",
            "conversation_parts": [part(p, plaintext=plaintext) for p in parts],
            "total_count": int(row["part_count"]),
        }
    return out


def pages(
    *,
    total_count: int,
    page: int,
    per_page: int,
    url: str,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """1.x page-number pagination: `next` is the URL of the next page (carrying the request's
    other parameters, so filters survive), null on the last."""
    total_pages = max(1, -(-total_count // per_page))
    next_url = None
    if page < total_pages:
        kept = {k: v for k, v in (params or {}).items() if k not in ("page", "per_page")}
        next_url = f"{url}?{urlencode({**kept, 'per_page': per_page, 'page': page + 1})}"
    return {
        "type": "pages",
        "next": next_url,
        "page": page,
        "per_page": per_page,
        "total_pages": total_pages,
    }


def conversation_list(
    items: list[dict[str, Any]],
    *,
    total_count: int,
    page: int,
    per_page: int,
    url: str,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A 1.x conversation list page (no `total_count`, as in 1.x)."""
    return {
        "type": "conversation.list",
        "pages": pages(
            total_count=total_count, page=page, per_page=per_page, url=url, params=params
        ),
        "conversations": items,
    }
