"""Workspaces (Intercom "apps")."""

from __future__ import annotations

from parley.db.database import Row, Transaction


async def insert(
    tx: Transaction, *, id: str, name: str, default_version: str, timezone: str, now: int
) -> None:
    await tx.execute(
        "INSERT INTO workspaces (id, name, default_version, timezone, region, created_at)"
        " VALUES (:id, :name, :default_version, :timezone, 'US', :now)",
        {"id": id, "name": name, "default_version": default_version, "timezone": timezone,
         "now": now},
    )  # fmt: skip


async def get(tx: Transaction, workspace_id: str) -> Row | None:
    return await tx.fetch_one("SELECT * FROM workspaces WHERE id = :id", {"id": workspace_id})


async def list_all(tx: Transaction) -> list[Row]:
    return await tx.fetch_all("SELECT * FROM workspaces ORDER BY created_at, id")


async def count(tx: Transaction) -> int:
    return int(await tx.fetch_val("SELECT COUNT(*) FROM workspaces"))


async def set_default_version(tx: Transaction, workspace_id: str, version: str) -> int:
    return await tx.execute(
        "UPDATE workspaces SET default_version = :v WHERE id = :id",
        {"v": version, "id": workspace_id},
    )
