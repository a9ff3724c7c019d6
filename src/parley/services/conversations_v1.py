"""The 1.x conversation list (Intercom-Version 1.0–1.4) with its filters.

`type=user` with `intercom_user_id`, `user_id` or `email`: the conversations that customer takes
part in. `type=admin` with `admin_id`: those assigned to that admin (`nobody`: assigned to no
one). `open`, `unread`, `before` (updated before a time), `sort` and `order`; pages by number.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.db import admins, contacts, legacy
from parley.db.database import Transaction
from parley.errors import MissingParameter, NotFound
from parley.services.context import Context
from parley.services.conversations import ConversationPage, with_relations


@dataclass(frozen=True, slots=True)
class CustomerKey:
    intercom_user_id: str | None = None
    user_id: str | None = None
    email: str | None = None


async def customer_id(tx: Transaction, ctx: Context, key: CustomerKey) -> str:
    """The contact a `type=user` list is about (a user or a lead): 404 if none."""
    row = None
    if key.intercom_user_id:
        row = await contacts.get(tx, ctx.workspace_id, key.intercom_user_id)
    elif key.user_id:
        row = await contacts.find_by_external_id(tx, ctx.workspace_id, key.user_id)
    elif key.email:
        row = await contacts.find_by_email(tx, ctx.workspace_id, key.email)
    else:
        raise MissingParameter(
            "type=user needs one of intercom_user_id, user_id or email", field="intercom_user_id"
        )
    if row is None:
        raise NotFound("User Not Found")
    return str(row["id"])


async def require_admin(tx: Transaction, ctx: Context, admin_id: int) -> None:
    if await admins.get(tx, ctx.workspace_id, admin_id) is None:
        raise NotFound("Admin not found", code="admin_not_found", field="admin_id")


async def list_page(
    tx: Transaction,
    ctx: Context,
    where: legacy.ConversationFilter,
    *,
    sort: str,
    descending: bool,
    page: int,
    per_page: int,
) -> ConversationPage:
    rows = await legacy.conversation_page(
        tx, ctx.workspace_id, where, sort=sort, descending=descending,
        limit=per_page, offset=(page - 1) * per_page,
    )  # fmt: skip
    items = await with_relations(tx, rows)
    total = await legacy.conversation_count(tx, ctx.workspace_id, where)
    return ConversationPage(items, total, page, per_page, None)
