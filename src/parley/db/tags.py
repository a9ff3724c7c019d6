"""Tags and their application to contacts. (Conversation tags are in the conversation tables;
deleting a tag removes it everywhere through ON DELETE CASCADE.)"""

from __future__ import annotations

from collections.abc import Sequence

from parley.db.database import Row, Transaction


async def get(tx: Transaction, workspace_id: str, tag_id: int) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM tags WHERE id = :id AND workspace_id = :ws",
        {"id": tag_id, "ws": workspace_id},
    )


async def lock(tx: Transaction, workspace_id: str, tag_id: int, *, exclusive: bool) -> None:
    """PostgreSQL: take the tag's row lock before any conversation's, the order in which a
    rename takes them (its UPDATE locks the tag, then it retires the tag's conversations).
    `exclusive`: a deletion's lock; otherwise the share lock that a foreign key to the tag
    takes anyway (tagging), taken before the conversation's instead of after it."""
    if tx.dialect != "postgresql":
        return
    mode = "UPDATE" if exclusive else "KEY SHARE"
    await tx.fetch_val(
        f"SELECT id FROM tags WHERE id = :id AND workspace_id = :ws FOR {mode}",
        {"id": tag_id, "ws": workspace_id},
    )


async def get_by_name(tx: Transaction, workspace_id: str, name: str) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM tags WHERE workspace_id = :ws AND name = :name",
        {"ws": workspace_id, "name": name},
    )


async def insert(tx: Transaction, *, workspace_id: str, name: str, now: int) -> int:
    tag_id = await tx.fetch_val(
        "INSERT INTO tags (workspace_id, name, created_at) VALUES (:ws, :name, :now) RETURNING id",
        {"ws": workspace_id, "name": name, "now": now},
    )
    return int(tag_id)


async def rename(tx: Transaction, tag_id: int, name: str) -> None:
    await tx.execute("UPDATE tags SET name = :name WHERE id = :id", {"name": name, "id": tag_id})


async def delete(tx: Transaction, tag_id: int) -> None:
    """Removes it from contacts and conversations as well (explicitly, and by the cascade)."""
    for table in ("contact_tags", "conversation_tags"):
        await tx.execute(f"DELETE FROM {table} WHERE tag_id = :id", {"id": tag_id})
    await tx.execute("DELETE FROM tags WHERE id = :id", {"id": tag_id})


async def list_for_workspace(tx: Transaction, workspace_id: str) -> list[Row]:
    return await tx.fetch_all(
        "SELECT * FROM tags WHERE workspace_id = :ws ORDER BY id", {"ws": workspace_id}
    )


# ------------------------------------------------------------------ tags on contacts


async def attach_to_contact(
    tx: Transaction, *, contact_id: str, tag_id: int, now: int, admin_id: int | None
) -> None:
    """Idempotent: a tag already on the contact keeps its first application."""
    await tx.execute(
        "INSERT INTO contact_tags (contact_id, tag_id, created_at, applied_by_admin_id)"
        " VALUES (:contact, :tag, :now, :admin) ON CONFLICT DO NOTHING",
        {"contact": contact_id, "tag": tag_id, "now": now, "admin": admin_id},
    )


async def detach_from_contact(tx: Transaction, *, contact_id: str, tag_id: int) -> None:
    await tx.execute(
        "DELETE FROM contact_tags WHERE contact_id = :contact AND tag_id = :tag",
        {"contact": contact_id, "tag": tag_id},
    )


_APPLIED = (
    "SELECT t.id, t.name, ct.contact_id, ct.created_at AS applied_at, ct.applied_by_admin_id"
    " FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id"
)


async def contact_application(tx: Transaction, *, contact_id: str, tag_id: int) -> Row | None:
    """The tag as applied to the contact (id, name, applied_at, applied_by_admin_id)."""
    return await tx.fetch_one(
        _APPLIED + " WHERE ct.contact_id = :contact AND ct.tag_id = :tag",
        {"contact": contact_id, "tag": tag_id},
    )


async def for_contact(tx: Transaction, contact_id: str) -> list[Row]:
    """The contact's tags as applied, oldest application first."""
    return await tx.fetch_all(
        _APPLIED + " WHERE ct.contact_id = :contact ORDER BY ct.created_at, t.id",
        {"contact": contact_id},
    )


async def for_contacts(tx: Transaction, contact_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Tags of several contacts at once, each list oldest application first."""
    if not contact_ids:
        return {}
    names = {f"c{i}": cid for i, cid in enumerate(contact_ids)}
    rows = await tx.fetch_all(
        _APPLIED + f" WHERE ct.contact_id IN ({', '.join(':' + n for n in names)})"
        " ORDER BY ct.created_at, t.id",
        names,
    )
    out: dict[str, list[Row]] = {cid: [] for cid in contact_ids}
    for row in rows:
        out[row["contact_id"]].append(row)
    return out


async def ensure(tx: Transaction, *, workspace_id: str, name: str, now: int) -> Row:
    """The workspace's tag with this name, created if there is none (race-free)."""
    await tx.execute(
        "INSERT INTO tags (workspace_id, name, created_at) VALUES (:ws, :name, :now)"
        " ON CONFLICT (workspace_id, name) DO NOTHING",
        {"ws": workspace_id, "name": name, "now": now},
    )
    row = await get_by_name(tx, workspace_id, name)
    assert row is not None
    return row
