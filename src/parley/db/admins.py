"""Admins (teammates) and each workspace's bot, which authors automatic parts."""

from __future__ import annotations

from parley.db.database import Row, Transaction

BOT_EMAIL = "operator+bot@parley.invalid"


async def insert(
    tx: Transaction,
    *,
    workspace_id: str,
    name: str,
    email: str,
    now: int,
    kind: str = "admin",
    job_title: str | None = None,
    has_inbox_seat: bool = True,
) -> int:
    admin_id = await tx.fetch_val(
        "INSERT INTO admins (workspace_id, kind, name, email, job_title, away_mode_enabled,"
        " away_mode_reassign, away_status_reason_id, has_inbox_seat, avatar_url, created_at)"
        " VALUES (:ws, :kind, :name, :email, :job_title, false, false, NULL, :seat, NULL, :now)"
        " RETURNING id",
        {"ws": workspace_id, "kind": kind, "name": name, "email": email, "job_title": job_title,
         "seat": has_inbox_seat, "now": now},
    )  # fmt: skip
    return int(admin_id)


async def get(tx: Transaction, workspace_id: str, admin_id: int) -> Row | None:
    """A human admin of the workspace (the bot is not addressable through the API). Read by
    every write that an admin makes: remembered while it cannot have changed."""
    return await tx.fetch_one_memo(
        "SELECT * FROM admins WHERE id = :id AND workspace_id = :ws AND kind = 'admin'",
        {"id": admin_id, "ws": workspace_id},
    )


async def get_any(tx: Transaction, workspace_id: str, admin_id: int) -> Row | None:
    """An admin or the bot: for rendering authors."""
    return await tx.fetch_one(
        "SELECT * FROM admins WHERE id = :id AND workspace_id = :ws",
        {"id": admin_id, "ws": workspace_id},
    )


async def get_by_email(tx: Transaction, workspace_id: str, email: str) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM admins WHERE workspace_id = :ws AND email = :email",
        {"ws": workspace_id, "email": email},
    )


async def bot(tx: Transaction, workspace_id: str) -> Row:
    row = await tx.fetch_one_memo(
        "SELECT * FROM admins WHERE workspace_id = :ws AND kind = 'bot' ORDER BY id LIMIT 1",
        {"ws": workspace_id},
    )
    assert row is not None, "every workspace is created with its bot"
    return row


async def list_for_workspace(tx: Transaction, workspace_id: str) -> list[Row]:
    return await tx.fetch_all(
        "SELECT * FROM admins WHERE workspace_id = :ws AND kind = 'admin' ORDER BY id",
        {"ws": workspace_id},
    )


async def team_ids_by_admin(tx: Transaction, workspace_id: str) -> dict[int, list[int]]:
    rows = await tx.fetch_all(
        "SELECT m.admin_id, m.team_id FROM team_members m JOIN teams t ON t.id = m.team_id"
        " WHERE t.workspace_id = :ws ORDER BY m.team_id",
        {"ws": workspace_id},
    )
    out: dict[int, list[int]] = {}
    for row in rows:
        out.setdefault(int(row["admin_id"]), []).append(int(row["team_id"]))
    return out


async def set_away(
    tx: Transaction,
    *,
    admin_id: int,
    enabled: bool,
    reassign: bool,
    reason_id: int | None,
) -> None:
    await tx.execute(
        "UPDATE admins SET away_mode_enabled = :enabled, away_mode_reassign = :reassign,"
        " away_status_reason_id = :reason WHERE id = :id",
        {"enabled": enabled, "reassign": reassign, "reason": reason_id, "id": admin_id},
    )
