"""Teams and their members."""

from __future__ import annotations

from parley.db.database import Row, Transaction


async def insert(tx: Transaction, *, workspace_id: str, name: str, now: int) -> int:
    team_id = await tx.fetch_val(
        "INSERT INTO teams (workspace_id, name, assignment_limit, distribution_method, created_at)"
        " VALUES (:ws, :name, NULL, 'round_robin', :now) RETURNING id",
        {"ws": workspace_id, "name": name, "now": now},
    )
    return int(team_id)


async def add_member(tx: Transaction, *, team_id: int, admin_id: int) -> None:
    await tx.execute(
        "INSERT INTO team_members (team_id, admin_id) VALUES (:team, :admin)"
        " ON CONFLICT DO NOTHING",
        {"team": team_id, "admin": admin_id},
    )


async def get(tx: Transaction, workspace_id: str, team_id: int) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM teams WHERE id = :id AND workspace_id = :ws",
        {"id": team_id, "ws": workspace_id},
    )


async def get_by_name(tx: Transaction, workspace_id: str, name: str) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM teams WHERE workspace_id = :ws AND name = :name",
        {"ws": workspace_id, "name": name},
    )


async def list_for_workspace(tx: Transaction, workspace_id: str) -> list[Row]:
    return await tx.fetch_all(
        "SELECT * FROM teams WHERE workspace_id = :ws ORDER BY id", {"ws": workspace_id}
    )


async def admin_ids_by_team(tx: Transaction, workspace_id: str) -> dict[int, list[int]]:
    rows = await tx.fetch_all(
        "SELECT m.team_id, m.admin_id FROM team_members m JOIN teams t ON t.id = m.team_id"
        " WHERE t.workspace_id = :ws ORDER BY m.admin_id",
        {"ws": workspace_id},
    )
    out: dict[int, list[int]] = {}
    for row in rows:
        out.setdefault(int(row["team_id"]), []).append(int(row["admin_id"]))
    return out
