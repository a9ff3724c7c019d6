"""Conversation attribute definitions (2.16 `/conversations/attributes`)."""

from __future__ import annotations

from typing import Any

from parley.db.database import Row, Transaction

_FIELDS = (
    "name", "description", "data_type", "required", "visible_to_team_ids", "archived",
    "multiline", "options", "reference", "admin_id",
)  # fmt: skip


async def insert(tx: Transaction, workspace_id: str, values: dict[str, Any], now: int) -> int:
    names = ", ".join(_FIELDS)
    marks = ", ".join(f":{f}" for f in _FIELDS)
    new_id = await tx.fetch_val(
        f"INSERT INTO conversation_attributes (workspace_id, {names}, created_at, updated_at)"
        f" VALUES (:ws, {marks}, :now, :now) RETURNING id",
        {**{f: values.get(f) for f in _FIELDS}, "ws": workspace_id, "now": now},
    )
    return int(new_id)


async def get(tx: Transaction, workspace_id: str, attribute_id: int) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM conversation_attributes WHERE id = :id AND workspace_id = :ws",
        {"id": attribute_id, "ws": workspace_id},
    )


async def get_by_name(tx: Transaction, workspace_id: str, name: str) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM conversation_attributes WHERE workspace_id = :ws AND name = :name",
        {"ws": workspace_id, "name": name},
    )


async def list_for_workspace(
    tx: Transaction, workspace_id: str, *, include_archived: bool
) -> list[Row]:
    if include_archived:
        return await tx.fetch_all(
            "SELECT * FROM conversation_attributes WHERE workspace_id = :ws ORDER BY id",
            {"ws": workspace_id},
        )
    return await tx.fetch_all(
        "SELECT * FROM conversation_attributes WHERE workspace_id = :ws AND archived = :no"
        " ORDER BY id",
        {"ws": workspace_id, "no": False},
    )


async def update(tx: Transaction, attribute_id: int, values: dict[str, Any], now: int) -> None:
    assignments = "".join(f"{name} = :{name}, " for name in values)
    await tx.execute(
        f"UPDATE conversation_attributes SET {assignments}updated_at = :_now WHERE id = :_id",
        {**values, "_now": now, "_id": attribute_id},
    )
