"""The outbox: side effects (webhook notifications) recorded in the same transaction as the
change that caused them, delivered later by a worker. A rolled-back request leaves none behind."""

from __future__ import annotations

from typing import Any

import orjson

from parley.db.database import Row, Transaction


async def append(
    tx: Transaction, *, workspace_id: str, topic: str, payload: dict[str, Any], now: int
) -> None:
    await tx.execute(
        "INSERT INTO outbox (workspace_id, topic, payload, created_at, delivered_at)"
        " VALUES (:ws, :topic, :payload, :now, NULL)",
        {"ws": workspace_id, "topic": topic, "payload": orjson.dumps(payload).decode(), "now": now},
    )


async def pending(tx: Transaction, workspace_id: str) -> list[Row]:
    return await tx.fetch_all(
        "SELECT * FROM outbox WHERE workspace_id = :ws AND delivered_at IS NULL ORDER BY id",
        {"ws": workspace_id},
    )
