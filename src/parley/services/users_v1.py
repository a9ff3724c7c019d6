"""1.x users (Intercom-Version 1.0–1.4): find, create-or-update, as 1.x clients address them.

1.x keys a user by Intercom `id`, by `user_id` (2.x `external_id`) or by `email`; `POST /users`
updates the user it finds and creates one otherwise. Underneath they are 2.x contacts with role
`user`; leads are contacts with role `lead` (1.x renders them as `type: "contact"`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from parley.db import contacts, legacy, tags
from parley.db.database import Row, Transaction
from parley.errors import MissingParameter, NotFound
from parley.services import contacts as contact_service
from parley.services.context import Context


@dataclass(frozen=True, slots=True)
class UserView:
    row: Row
    tags: list[tuple[int, str]]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A 1.x page: `page` from 1, `per_page`, the sort (a key of `legacy.CONTACT_SORTS`) and the
    direction."""

    page: int = 1
    per_page: int = 50
    sort: str = "created_at"
    descending: bool = True


@dataclass(frozen=True, slots=True)
class UserPage:
    views: list[UserView]
    total_count: int
    page: int
    per_page: int


def not_found() -> NotFound:
    return NotFound("User Not Found")


async def view(tx: Transaction, row: Row) -> UserView:
    applied = await tags.for_contact(tx, str(row["id"]))
    return UserView(row, [(int(t["id"]), str(t["name"])) for t in applied])


async def get(tx: Transaction, ctx: Context, contact_id: str) -> UserView:
    """`GET /users/{id}`: users only; a lead's id is 404, as in 1.x."""
    row = await contacts.get(tx, ctx.workspace_id, contact_id)
    if row is None or row["role"] != "user":
        raise not_found()
    return await view(tx, row)


async def _find(
    tx: Transaction, ctx: Context, *, user_id: str | None, email: str | None
) -> Row | None:
    if user_id:
        return await contacts.find_user_by_external_id(tx, ctx.workspace_id, user_id)
    if email:
        return await contacts.find_user_by_email(tx, ctx.workspace_id, email)
    return None


async def find(
    tx: Transaction, ctx: Context, *, user_id: str | None, email: str | None
) -> UserView:
    """`GET /users?user_id=` or `?email=`."""
    if not user_id and not email:
        raise MissingParameter("user_id or email is required", field="user_id")
    row = await _find(tx, ctx, user_id=user_id, email=email)
    if row is None:
        raise not_found()
    return await view(tx, row)


async def upsert(
    tx: Transaction, ctx: Context, *, intercom_id: str | None, fields: Mapping[str, Any]
) -> UserView:
    """`POST /users`: update the user found by id, user_id or email, else create one."""
    user_id, email = fields.get("external_id"), fields.get("email")
    if not intercom_id and not user_id and not email:
        raise MissingParameter("One of id, user_id or email is required", field="user_id")
    row: Row | None
    if intercom_id:
        row = (await get(tx, ctx, intercom_id)).row
    else:
        row = await _find(tx, ctx, user_id=user_id, email=email)
    if row is None:
        created = await contact_service.create(tx, ctx, {**fields, "role": "user"})
        row = created.row
    else:
        updated = await contact_service.update(tx, ctx, str(row["id"]), fields)
        row = updated.row
    return await view(tx, row)


async def list_page(
    tx: Transaction, ctx: Context, where: legacy.ContactFilter, request: PageRequest
) -> UserPage:
    """`GET /users` (role user) and `GET /contacts` (role lead) in 1.x: page by number."""
    rows = await legacy.contact_page(
        tx, ctx.workspace_id, where, sort=request.sort, descending=request.descending,
        limit=request.per_page, offset=(request.page - 1) * request.per_page,
    )  # fmt: skip
    applied = await tags.for_contacts(tx, [row["id"] for row in rows])
    views = [
        UserView(row, [(int(t["id"]), str(t["name"])) for t in applied[row["id"]]]) for row in rows
    ]
    total = await legacy.contact_count(tx, ctx.workspace_id, where)
    return UserPage(views, total, request.page, request.per_page)
