"""Queries only 1.x (Intercom-Version 1.0–1.4) needs: users and leads listed by page number with
the 1.x sorts, conversations with the 1.x list filters (LIMIT/OFFSET: 1.x paged that way), and
the merge of a lead into a user (`POST /contacts/convert`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.db import conversations
from parley.db.database import Row, Transaction

# 1.x sort names -> columns. NULLs sort as 0 so both databases agree on their place.
CONTACT_SORTS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "signed_up_at": "COALESCE(signed_up_at, 0)",
    "last_request_at": "COALESCE(last_seen_at, 0)",
}
# waiting_since sorts as 1.x shows it: nobody waiting is the year-4018 sentinel.
CONVERSATION_SORTS = {
    "created_at": "c.created_at",
    "updated_at": "c.updated_at",
    "waiting_since": "COALESCE(c.waiting_since, 64654125776)",
}


async def find_lead_by_user_id(tx: Transaction, workspace_id: str, user_id: str) -> Row | None:
    """A lead by its 1.x `user_id` (stored as `external_id`), the oldest if several."""
    return await tx.fetch_one(
        "SELECT * FROM contacts WHERE workspace_id = :ws AND external_id = :ext"
        " AND role = :role ORDER BY created_at, id LIMIT 1",
        {"ws": workspace_id, "ext": user_id, "role": "lead"},
    )


@dataclass(frozen=True, slots=True)
class ContactFilter:
    role: str
    email: str | None = None
    created_since: int | None = None  # created_at >= this

    def where(self) -> tuple[str, dict[str, Any]]:
        sql = "workspace_id = :ws AND role = :role AND archived = :archived"
        params: dict[str, Any] = {"role": self.role, "archived": False}
        if self.email is not None:
            sql += " AND lower(email) = lower(:email)"
            params["email"] = self.email
        if self.created_since is not None:
            sql += " AND created_at >= :since"
            params["since"] = self.created_since
        return sql, params


async def contact_page(
    tx: Transaction,
    workspace_id: str,
    where: ContactFilter,
    *,
    sort: str,
    descending: bool,
    limit: int,
    offset: int,
) -> list[Row]:
    sql, params = where.where()
    direction = "DESC" if descending else "ASC"
    return await tx.fetch_all(
        f"SELECT * FROM contacts WHERE {sql}"
        f" ORDER BY {CONTACT_SORTS[sort]} {direction}, id {direction} LIMIT :limit OFFSET :offset",
        {**params, "ws": workspace_id, "limit": limit, "offset": offset},
    )


async def contact_count(tx: Transaction, workspace_id: str, where: ContactFilter) -> int:
    sql, params = where.where()
    value = await tx.fetch_val(
        f"SELECT COUNT(*) FROM contacts WHERE {sql}", {**params, "ws": workspace_id}
    )
    return int(value)


@dataclass(frozen=True, slots=True)
class ConversationFilter:
    contact_id: str | None = None  # a participant (type=user)
    admin_id: int | None = None  # assigned to (type=admin)
    unassigned: bool = False  # admin_id=nobody
    open: bool | None = None
    unread: bool | None = None
    before: int | None = None  # updated_at < before

    def where(self) -> tuple[str, dict[str, Any]]:
        sql = "c.workspace_id = :ws AND c.visible = :visible"
        params: dict[str, Any] = {"visible": True}
        if self.contact_id is not None:
            sql += (
                " AND EXISTS (SELECT 1 FROM conversation_contacts cc"
                " WHERE cc.conversation_id = c.id AND cc.contact_id = :contact)"
            )
            params["contact"] = self.contact_id
        if self.admin_id is not None:
            sql += " AND c.admin_assignee_id = :admin"
            params["admin"] = self.admin_id
        if self.unassigned:
            sql += " AND c.admin_assignee_id IS NULL AND c.team_assignee_id IS NULL"
        if self.open is not None:
            sql += " AND c.state <> :closed" if self.open else " AND c.state = :closed"
            params["closed"] = "closed"
        if self.unread is not None:
            sql += " AND c.read = :read"
            params["read"] = not self.unread
        if self.before is not None:
            sql += " AND c.updated_at < :before"
            params["before"] = self.before
        return sql, params


async def conversation_page(
    tx: Transaction,
    workspace_id: str,
    where: ConversationFilter,
    *,
    sort: str,
    descending: bool,
    limit: int,
    offset: int,
) -> list[Row]:
    sql, params = where.where()
    direction = "DESC" if descending else "ASC"
    return await tx.fetch_all(
        f"{conversations.SELECT} WHERE {sql} ORDER BY {CONVERSATION_SORTS[sort]} {direction},"
        f" c.id {direction} LIMIT :limit OFFSET :offset",
        {**params, "ws": workspace_id, "limit": limit, "offset": offset},
    )


async def conversation_count(tx: Transaction, workspace_id: str, where: ConversationFilter) -> int:
    sql, params = where.where()
    value = await tx.fetch_val(
        f"SELECT COUNT(*) FROM conversations c WHERE {sql}", {**params, "ws": workspace_id}
    )
    return int(value)


async def merge_contact(tx: Transaction, workspace_id: str, *, from_id: str, into_id: str) -> None:
    """Moves everything of contact `from_id` onto `into_id` (conversation memberships, tags,
    authorship of sources and parts), skipping what `into_id` already has; the caller deletes
    `from_id` afterwards."""
    params = {"old": from_id, "new": into_id, "ws": workspace_id}
    for table, key in (("conversation_contacts", "conversation_id"), ("contact_tags", "tag_id")):
        await tx.execute(
            f"DELETE FROM {table} WHERE contact_id = :old AND {key} IN"
            f" (SELECT {key} FROM {table} WHERE contact_id = :new)",
            {"old": from_id, "new": into_id},
        )
        await tx.execute(
            f"UPDATE {table} SET contact_id = :new WHERE contact_id = :old",
            {"old": from_id, "new": into_id},
        )
    await tx.execute(
        "UPDATE conversations SET source_author_contact_id = :new"
        " WHERE source_author_contact_id = :old AND workspace_id = :ws",
        params,
    )
    await tx.execute(
        "UPDATE conversation_parts SET author_contact_id = :new WHERE author_contact_id = :old",
        {"old": from_id, "new": into_id},
    )
