"""Contacts (users and leads): create, read, update, delete, archive, list.

Requests arrive as the set of fields the client sent (already type-checked at the edge); the
rules here are the domain's: roles, email shape, uniqueness of users, custom attribute values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from parley.db import admins, contacts, conversations, tags
from parley.db.database import Row, Transaction
from parley.domain.search import attribute_name_problem, attribute_value_problem
from parley.errors import Conflict, InvalidParameter, MissingParameter, NotFound
from parley.kit import cursor
from parley.kit.clock import MAX_TIMESTAMP
from parley.kit.numbers import INT64_MAX, parse_digits
from parley.services.context import Context

ROLES = ("user", "lead")
USER_NOT_FOUND = "User Not Found"
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 150
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

# Request field -> column.
_COLUMNS = {
    "role": "role", "email": "email", "external_id": "external_id", "phone": "phone",
    "name": "name", "avatar": "avatar_url", "owner_id": "owner_id",
    "unsubscribed_from_emails": "unsubscribed_from_emails", "signed_up_at": "signed_up_at",
    "last_seen_at": "last_seen_at", "custom_attributes": "custom_attributes",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ContactView:
    row: Row
    tag_ids: list[int]


@dataclass(frozen=True, slots=True)
class ContactPage:
    views: list[ContactView]
    total_count: int
    page: int
    per_page: int
    next_cursor: str | None


def not_found() -> NotFound:
    return NotFound(USER_NOT_FOUND)


async def require(tx: Transaction, ctx: Context, contact_id: str) -> Row:
    """The workspace's contact, or 404 `not_found: User Not Found`."""
    row = await contacts.get(tx, ctx.workspace_id, contact_id)
    if row is None:
        raise not_found()
    return row


async def _view(tx: Transaction, row: Row) -> ContactView:
    applied = await tags.for_contact(tx, row["id"])
    return ContactView(row, [int(t["id"]) for t in applied])


async def get(tx: Transaction, ctx: Context, contact_id: str) -> ContactView:
    return await _view(tx, await require(tx, ctx, contact_id))


async def find_user_by_external_id(tx: Transaction, ctx: Context, external_id: str) -> ContactView:
    row = await contacts.find_user_by_external_id(tx, ctx.workspace_id, external_id)
    if row is None:
        raise not_found()
    return await _view(tx, row)


# ------------------------------------------------------------------ validation


def _invalid(field: str, message: str) -> InvalidParameter:
    return InvalidParameter(f"{field}: {message}", field=field)


def _timestamp(field: str, value: Any) -> int | None:
    if value is None:
        return None
    if not 0 <= value <= MAX_TIMESTAMP:
        raise _invalid(field, "must be a unix timestamp in seconds")
    return int(value)


def _custom_attributes(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        field = f"custom_attributes.{key}"
        problem = attribute_name_problem(key)
        if problem is not None:
            raise _invalid("custom_attributes", problem)
        problem = attribute_value_problem(item)
        if problem is not None:
            raise _invalid(field, problem)
        out[key] = item
    return out


def clean_email(value: str, field: str = "email") -> str:
    """A contact's email as stored: trimmed, and shaped local@domain (else a 400 naming
    `field`). Every way of making or changing a contact goes through it."""
    value = value.strip()
    if not _EMAIL.match(value):
        raise _invalid(field, "is not a valid email address")
    return value


async def _owner(tx: Transaction, ctx: Context, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and (number := parse_digits(value, 18)) is not None:
        value = number
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid("owner_id", "must be an integer admin id")
    if not 0 < value <= INT64_MAX or await admins.get(tx, ctx.workspace_id, value) is None:
        raise _invalid("owner_id", f"no admin with id {value}")
    return value


async def _columns(tx: Transaction, ctx: Context, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check each sent field and map it to its column (custom_attributes: the sent values)."""
    out: dict[str, Any] = {}
    for field, value in fields.items():
        column = _COLUMNS[field]
        if field in ("role", "email", "external_id") and value is None:
            raise _invalid(field, "must be a string")
        if field == "role" and value not in ROLES:
            raise _invalid("role", "must be one of: user, lead")
        elif field == "email":
            value = clean_email(value)
        elif field == "external_id" and not value.strip():
            raise _invalid("external_id", "must not be empty")
        elif field == "avatar" and value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise _invalid("avatar", "must be an http(s) URL")
        elif field in ("signed_up_at", "last_seen_at"):
            value = _timestamp(field, value)
        elif field == "owner_id":
            value = await _owner(tx, ctx, value)
        elif field == "unsubscribed_from_emails":
            value = bool(value)
        elif field == "custom_attributes":
            if value is None:
                continue  # null: nothing to set
            value = _custom_attributes(value)
        out[column] = value
    return out


async def _check_unique_user(
    tx: Transaction,
    ctx: Context,
    *,
    email: str | None,
    external_id: str | None,
    exclude_id: str | None = None,
) -> None:
    """A user's email (case-insensitively) and external_id are unique among users."""
    existing = None
    if external_id is not None:
        existing = await contacts.find_user_by_external_id(
            tx, ctx.workspace_id, external_id, exclude_id=exclude_id
        )
    if existing is None and email is not None:
        existing = await contacts.find_user_by_email(
            tx, ctx.workspace_id, email, exclude_id=exclude_id
        )
    if existing is not None:
        raise Conflict(f"A contact matching those details already exists with id={existing['id']}")


# ------------------------------------------------------------------ use cases


# Contact columns that a rendered conversation shows (contact references, part and source
# authors): changing one makes stored conversation documents stale.
SHOWN_IN_CONVERSATIONS = frozenset({"external_id", "name", "email", "role"})


async def create(tx: Transaction, ctx: Context, fields: Mapping[str, Any]) -> ContactView:
    if not any(fields.get(key) is not None for key in ("email", "external_id", "role")):
        raise MissingParameter("One of email, external_id or role is required")
    columns = await _columns(tx, ctx, fields)
    role = columns.pop("role", "user")
    if role == "user":
        await _check_unique_user(
            tx, ctx, email=columns.get("email"), external_id=columns.get("external_id")
        )
    contact_id = ctx.ids.contact_id()
    await contacts.insert(
        tx, id=contact_id, workspace_id=ctx.workspace_id, role=role, now=ctx.clock.now(),
        **columns,
    )  # fmt: skip
    return await get(tx, ctx, contact_id)


async def update(
    tx: Transaction, ctx: Context, contact_id: str, fields: Mapping[str, Any]
) -> ContactView:
    row = await require(tx, ctx, contact_id)
    changes = await _columns(tx, ctx, fields)
    if not changes:
        return await _view(tx, row)
    role = changes.get("role", row["role"])
    if row["role"] == "user" and role == "lead":
        raise _invalid("role", "a user cannot be converted to a lead")
    if "custom_attributes" in changes:
        merged = orjson.loads(row["custom_attributes"])
        merged.update(changes["custom_attributes"])
        changes["custom_attributes"] = merged
    if role == "user" and {"role", "email", "external_id"} & changes.keys():
        await _check_unique_user(
            tx, ctx, email=changes.get("email", row["email"]),
            external_id=changes.get("external_id", row["external_id"]), exclude_id=contact_id,
        )  # fmt: skip
    if SHOWN_IN_CONVERSATIONS & changes.keys():
        # The conversations first, then the contact: the order in which a reply takes their
        # locks (its conversation, then its contact's last reply), so that the two never wait
        # for each other in a cycle on PostgreSQL.
        await conversations.drop_documents_showing_contact(tx, ctx.workspace_id, contact_id)
    await contacts.update(tx, contact_id, changes, ctx.clock.now())
    if role != row["role"]:
        await conversations.set_contact_author_type(tx, ctx.workspace_id, contact_id, role)
    return await get(tx, ctx, contact_id)


async def delete(tx: Transaction, ctx: Context, contact_id: str) -> Row:
    """Deletes the contact, its tags and its conversation memberships; returns the old row."""
    row = await require(tx, ctx, contact_id)
    await conversations.drop_documents_showing_contact(tx, ctx.workspace_id, contact_id)
    await contacts.delete(tx, contact_id)
    return row


async def set_archived(tx: Transaction, ctx: Context, contact_id: str, archived: bool) -> Row:
    row = await require(tx, ctx, contact_id)
    if bool(row["archived"]) != archived:
        await contacts.set_archived(tx, contact_id, archived, ctx.clock.now())
    return await require(tx, ctx, contact_id)


def _decode_cursor(value: str) -> tuple[int, str, int]:
    try:
        updated_at, contact_id, page = cursor.decode(value, 3)
    except cursor.CursorError:
        raise _invalid("starting_after", "is not a valid cursor") from None
    if not (
        isinstance(updated_at, int) and isinstance(contact_id, str) and isinstance(page, int)
    ) or not (0 <= updated_at <= INT64_MAX and 1 <= page <= INT64_MAX):
        raise _invalid("starting_after", "is not a valid cursor")
    return updated_at, contact_id, page


async def list_page(
    tx: Transaction, ctx: Context, *, per_page: int, starting_after: str | None
) -> ContactPage:
    """Listed (not archived) contacts, newest first (created_at, then id, descending: immutable
    keys, so a cursor walk is stable while contacts change; docs/behaviour.md, Search); the
    cursor is the base64 JSON [created_at, id, page] of the last contact of the previous page."""
    after: tuple[int, str] | None = None
    page = 1
    if starting_after:
        created_at, last_id, page = _decode_cursor(starting_after)
        after = (created_at, last_id)
    rows = await contacts.list_page(tx, ctx.workspace_id, limit=per_page + 1, after=after)
    more = len(rows) > per_page
    rows = rows[:per_page]
    applied = await tags.for_contacts(tx, [row["id"] for row in rows])
    views = [ContactView(row, [int(t["id"]) for t in applied[row["id"]]]) for row in rows]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = cursor.encode([int(last["created_at"]), str(last["id"]), page + 1])
    total = await contacts.count_listed(tx, ctx.workspace_id)
    return ContactPage(views, total, page, per_page, next_cursor)
