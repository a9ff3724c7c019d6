"""Contacts (users and leads)."""

from __future__ import annotations

from typing import Any

import orjson

from parley.db.database import Row, Transaction


async def get(tx: Transaction, workspace_id: str, contact_id: str) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM contacts WHERE id = :id AND workspace_id = :ws",
        {"id": contact_id, "ws": workspace_id},
    )


# A contact of any role, or (`role`) only users or only leads.
_OF_ROLE = {None: "", "user": " AND role = 'user'", "lead": " AND role = 'lead'"}


async def find_by_external_id(
    tx: Transaction, workspace_id: str, external_id: str, *, role: str | None = None
) -> Row | None:
    """The contact with this external_id, preferring a user over a lead, then the oldest."""
    return await tx.fetch_one(
        "SELECT * FROM contacts WHERE workspace_id = :ws AND external_id = :ext" + _OF_ROLE[role]
        + " ORDER BY CASE WHEN role = 'user' THEN 0 ELSE 1 END, created_at, id LIMIT 1",
        {"ws": workspace_id, "ext": external_id},
    )  # fmt: skip


async def find_by_email(
    tx: Transaction, workspace_id: str, email: str, *, role: str | None = None
) -> Row | None:
    """Case-insensitive; a user is preferred over a lead, then the oldest."""
    return await tx.fetch_one(
        "SELECT * FROM contacts WHERE workspace_id = :ws AND lower(email) = lower(:email)"
        + _OF_ROLE[role]
        + " ORDER BY CASE WHEN role = 'user' THEN 0 ELSE 1 END, created_at, id LIMIT 1",
        {"ws": workspace_id, "email": email},
    )  # fmt: skip


async def insert(
    tx: Transaction,
    *,
    id: str,
    workspace_id: str,
    role: str,
    now: int,
    email: str | None = None,
    external_id: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    avatar_url: str | None = None,
    owner_id: int | None = None,
    unsubscribed_from_emails: bool = False,
    signed_up_at: int | None = None,
    last_seen_at: int | None = None,
    custom_attributes: dict[str, Any] | None = None,
) -> None:
    await tx.execute(
        "INSERT INTO contacts (id, workspace_id, role, email, external_id, phone, name,"
        " avatar_url, owner_id, unsubscribed_from_emails, has_hard_bounced, marked_email_as_spam,"
        " language_override, custom_attributes, archived, signed_up_at, last_seen_at,"
        " last_replied_at, last_contacted_at, created_at, updated_at)"
        " VALUES (:id, :ws, :role, :email, :ext, :phone, :name, :avatar, :owner, :unsub, false,"
        " false, NULL, :custom, false, :signed_up_at, :last_seen_at, NULL, NULL, :now, :now)",
        {"id": id, "ws": workspace_id, "role": role, "email": email, "ext": external_id,
         "phone": phone, "name": name, "avatar": avatar_url, "owner": owner_id,
         "unsub": bool(unsubscribed_from_emails),
         "custom": orjson.dumps(custom_attributes or {}).decode(),
         "signed_up_at": signed_up_at, "last_seen_at": last_seen_at, "now": now},
    )  # fmt: skip


async def touch_replied(tx: Transaction, contact_id: str, now: int) -> None:
    """The contact replied in a conversation."""
    await tx.execute(
        "UPDATE contacts SET last_replied_at = :now, updated_at = :now WHERE id = :id",
        {"now": now, "id": contact_id},
    )


async def touch_contacted(tx: Transaction, contact_id: str, now: int) -> None:
    """An admin contacted the contact (a message or a reply reached them)."""
    await tx.execute(
        "UPDATE contacts SET last_contacted_at = :now WHERE id = :id",
        {"now": now, "id": contact_id},
    )


async def find_user_by_external_id(
    tx: Transaction, workspace_id: str, external_id: str, *, exclude_id: str | None = None
) -> Row | None:
    """A contact with role user and this external_id (leads are not looked up this way)."""
    return await tx.fetch_one(
        "SELECT * FROM contacts WHERE workspace_id = :ws AND external_id = :ext AND role = 'user'"
        " AND id <> :exclude ORDER BY created_at, id LIMIT 1",
        {"ws": workspace_id, "ext": external_id, "exclude": exclude_id or ""},
    )


async def find_user_by_email(
    tx: Transaction, workspace_id: str, email: str, *, exclude_id: str | None = None
) -> Row | None:
    """A contact with role user and this email (case-insensitive)."""
    return await tx.fetch_one(
        "SELECT * FROM contacts WHERE workspace_id = :ws AND lower(email) = lower(:email)"
        " AND role = 'user' AND id <> :exclude ORDER BY created_at, id LIMIT 1",
        {"ws": workspace_id, "email": email, "exclude": exclude_id or ""},
    )


# Columns PUT /contacts/{id} may change, mapped to how each value is stored.
UPDATABLE = frozenset(
    {
        "role", "email", "external_id", "phone", "name", "avatar_url", "owner_id",
        "unsubscribed_from_emails", "signed_up_at", "last_seen_at", "custom_attributes",
    }
)  # fmt: skip


async def update(tx: Transaction, contact_id: str, changes: dict[str, Any], now: int) -> None:
    """Set the given columns (names from UPDATABLE) and bump updated_at."""
    unknown = set(changes) - UPDATABLE
    assert not unknown, f"not updatable: {unknown}"
    params: dict[str, Any] = {"id": contact_id, "now": now}
    sets = ["updated_at = :now"]
    for column, value in changes.items():
        if column == "custom_attributes":
            value = orjson.dumps(value).decode()
        elif column == "unsubscribed_from_emails":
            value = bool(value)
        sets.append(f"{column} = :{column}")
        params[column] = value
    await tx.execute(f"UPDATE contacts SET {', '.join(sets)} WHERE id = :id", params)


async def delete(tx: Transaction, contact_id: str) -> None:
    """Its tags and conversation memberships go with it. The foreign keys cascade too; being
    explicit keeps that true whatever a connection's foreign-key setting."""
    for table in ("contact_tags", "conversation_contacts"):
        await tx.execute(f"DELETE FROM {table} WHERE contact_id = :id", {"id": contact_id})
    await tx.execute("DELETE FROM contacts WHERE id = :id", {"id": contact_id})


async def set_archived(tx: Transaction, contact_id: str, archived: bool, now: int) -> None:
    await tx.execute(
        "UPDATE contacts SET archived = :archived, updated_at = :now WHERE id = :id",
        {"archived": archived, "now": now, "id": contact_id},
    )


async def count_listed(tx: Transaction, workspace_id: str) -> int:
    """How many contacts GET /contacts lists (archived ones are not listed)."""
    count = await tx.fetch_val(
        "SELECT count(*) FROM contacts WHERE workspace_id = :ws AND archived = false",
        {"ws": workspace_id},
    )
    return int(count)


async def list_page(
    tx: Transaction, workspace_id: str, *, limit: int, after: tuple[int, str] | None
) -> list[Row]:
    """Listed contacts, newest first (created_at, then id, descending), strictly after the
    (created_at, id) position `after` in that order."""
    if after is None:
        return await tx.fetch_all(
            "SELECT * FROM contacts WHERE workspace_id = :ws AND archived = false"
            " ORDER BY created_at DESC, id DESC LIMIT :limit",
            {"ws": workspace_id, "limit": limit},
        )
    return await tx.fetch_all(
        "SELECT * FROM contacts WHERE workspace_id = :ws AND archived = false"
        " AND (created_at < :u OR (created_at = :u AND id < :id))"
        " ORDER BY created_at DESC, id DESC LIMIT :limit",
        {"ws": workspace_id, "limit": limit, "u": after[0], "id": after[1]},
    )
