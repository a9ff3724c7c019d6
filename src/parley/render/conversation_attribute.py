"""Conversation attribute definitions (2.16 `conversation_attribute` and its list)."""

from __future__ import annotations

from typing import Any

import orjson

from parley.db.database import Row


def conversation_attribute(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "conversation_attribute",
        "id": int(row["id"]),
        "name": row["name"],
        "description": row["description"],
        "data_type": row["data_type"],
        "required": bool(row["required"]),
        "visible_to_team_ids": orjson.loads(row["visible_to_team_ids"]),
        "archived": bool(row["archived"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "admin_id": None if row["admin_id"] is None else str(row["admin_id"]),
    }
    if row["data_type"] == "string":
        out["multiline"] = bool(row["multiline"])
    elif row["data_type"] == "list":
        out["options"] = orjson.loads(row["options"] or "[]")
    elif row["data_type"] == "relationship":
        out["reference"] = orjson.loads(row["reference"] or "{}")
    return out


def conversation_attribute_list(rows: list[Row]) -> dict[str, Any]:
    return {"type": "list", "data": [conversation_attribute(r) for r in rows]}
