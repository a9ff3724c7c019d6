"""Office hours, SLA policies and trackers, the statistics history and the snooze timer's scan."""

from __future__ import annotations

from typing import Any

from parley.db.database import Row, Transaction

# ------------------------------------------------------------------------ office hours


async def office_hours(tx: Transaction, workspace_id: str) -> str | None:
    """The workspace's schedule (JSON), if it has one. Read by most replies: remembered while it
    cannot have changed."""
    row = await tx.fetch_one_memo(
        "SELECT schedule FROM office_hours WHERE workspace_id = :ws", {"ws": workspace_id}
    )
    return None if row is None else str(row["schedule"])


async def set_office_hours(tx: Transaction, workspace_id: str, schedule: str, now: int) -> None:
    await tx.execute(
        "INSERT INTO office_hours (workspace_id, schedule, updated_at) VALUES (:ws, :s, :now)"
        " ON CONFLICT (workspace_id) DO UPDATE SET schedule = :s, updated_at = :now",
        {"ws": workspace_id, "s": schedule, "now": now},
    )


async def clear_office_hours(tx: Transaction, workspace_id: str) -> int:
    return await tx.execute(
        "DELETE FROM office_hours WHERE workspace_id = :ws", {"ws": workspace_id}
    )


# ------------------------------------------------------------------------ SLA policies


async def insert_policy(tx: Transaction, values: dict[str, Any]) -> int:
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    new_id = await tx.fetch_val(
        f"INSERT INTO sla_policies ({columns}) VALUES ({params}) RETURNING id", values
    )
    return int(new_id)


async def policies(tx: Transaction, workspace_id: str) -> list[Row]:
    return await tx.fetch_all(
        "SELECT * FROM sla_policies WHERE workspace_id = :ws ORDER BY id", {"ws": workspace_id}
    )


async def policy(tx: Transaction, workspace_id: str, policy_id: int) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM sla_policies WHERE workspace_id = :ws AND id = :id",
        {"ws": workspace_id, "id": policy_id},
    )


async def policy_named(tx: Transaction, workspace_id: str, name: str) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM sla_policies WHERE workspace_id = :ws AND name = :name",
        {"ws": workspace_id, "name": name},
    )


async def policy_for_new_conversations(tx: Transaction, workspace_id: str) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM sla_policies WHERE workspace_id = :ws AND apply_to_new_conversations = :y"
        " ORDER BY id LIMIT 1",
        {"ws": workspace_id, "y": True},
    )


# ------------------------------------------------------------------------ SLA trackers


async def tracker(tx: Transaction, conversation_id: int) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM conversation_slas WHERE conversation_id = :id", {"id": conversation_id}
    )


async def put_tracker(
    tx: Transaction, conversation_id: int, *, policy_id: int | None, initial: str, tracker: str
) -> None:
    await tx.execute(
        "INSERT INTO conversation_slas (conversation_id, policy_id, initial, tracker)"
        " VALUES (:id, :p, :i, :t) ON CONFLICT (conversation_id)"
        " DO UPDATE SET policy_id = :p, initial = :i, tracker = :t",
        {"id": conversation_id, "p": policy_id, "i": initial, "t": tracker},
    )


async def update_tracker(tx: Transaction, conversation_id: int, tracker: str) -> None:
    await tx.execute(
        "UPDATE conversation_slas SET tracker = :t WHERE conversation_id = :id",
        {"t": tracker, "id": conversation_id},
    )


# ------------------------------------------------------------------------ statistics history


async def history(tx: Transaction, conversation_id: int) -> tuple[Row | None, list[Row]]:
    """What the statistics replay reads: the conversation's start and its parts, in order."""
    head = await tx.fetch_one(
        "SELECT created_at, source_author_type FROM conversations WHERE id = :id",
        {"id": conversation_id},
    )
    parts = await tx.fetch_all(
        "SELECT p.part_type, p.author_type, p.author_admin_id, p.created_at,"
        " p.assigned_to_type, p.assigned_to_id, p.assigned_side, t.name AS team_name"
        " FROM conversation_parts p"
        " LEFT JOIN teams t ON p.assigned_to_type = 'team'"
        " AND t.id = CAST(p.assigned_to_id AS BIGINT)"
        " WHERE p.conversation_id = :id ORDER BY p.id",
        {"id": conversation_id},
    )
    return head, parts


async def team_name(tx: Transaction, workspace_id: str, team_id: int) -> str | None:
    value = await tx.fetch_val(
        "SELECT name FROM teams WHERE workspace_id = :ws AND id = :id",
        {"ws": workspace_id, "id": team_id},
    )
    return None if value is None else str(value)


# ------------------------------------------------------------------------ snooze timer


async def due_snoozes(tx: Transaction, now: int, limit: int) -> list[Row]:
    """Snoozed conversations whose time has come, in every workspace, earliest first."""
    return await tx.fetch_all(
        "SELECT id, workspace_id, snoozed_until FROM conversations"
        " WHERE state = 'snoozed' AND snoozed_until <= :now"
        " ORDER BY snoozed_until, id LIMIT :limit",
        {"now": now, "limit": limit},
    )


async def claim_snoozed(tx: Transaction, conversation_id: int, now: int) -> bool:
    """Lock one due snoozed conversation for this transaction. On PostgreSQL a row another
    process holds is skipped (it is opening it); the state is re-read under the lock, so a
    conversation opened meanwhile is not due any more. SQLite's write transaction already
    excludes every other writer."""
    lock = " FOR UPDATE SKIP LOCKED" if tx.dialect == "postgresql" else ""
    value = await tx.fetch_val(
        "SELECT id FROM conversations WHERE id = :id AND state = 'snoozed'"
        " AND snoozed_until <= :now" + lock,
        {"id": conversation_id, "now": now},
    )
    return value is not None
