"""Admins and teams as the API and the CLI see them."""

from __future__ import annotations

from dataclasses import dataclass

from parley.db import admins, teams, tokens, workspaces
from parley.db.database import Row, Transaction
from parley.errors import Conflict, InvalidParameter, NotFound
from parley.kit.clock import Clock
from parley.kit.ids import IdFactory
from parley.services.context import Context


@dataclass(frozen=True, slots=True)
class AdminView:
    row: Row
    team_ids: list[int]


async def me(tx: Transaction, ctx: Context) -> tuple[AdminView, Row]:
    row = await admins.get(tx, ctx.workspace_id, ctx.admin_id)
    workspace = await workspaces.get(tx, ctx.workspace_id)
    assert row is not None, "a valid token has its admin"
    assert workspace is not None, "a valid token has its workspace"
    team_ids = (await admins.team_ids_by_admin(tx, ctx.workspace_id)).get(ctx.admin_id, [])
    return AdminView(row, team_ids), workspace


async def list_admins(tx: Transaction, ctx: Context) -> list[AdminView]:
    memberships = await admins.team_ids_by_admin(tx, ctx.workspace_id)
    rows = await admins.list_for_workspace(tx, ctx.workspace_id)
    return [AdminView(row, memberships.get(int(row["id"]), [])) for row in rows]


async def get_admin(tx: Transaction, ctx: Context, admin_id: int) -> AdminView:
    row = await admins.get(tx, ctx.workspace_id, admin_id)
    if row is None:
        raise NotFound("Admin not found", code="admin_not_found")
    memberships = await admins.team_ids_by_admin(tx, ctx.workspace_id)
    return AdminView(row, memberships.get(admin_id, []))


async def set_away(
    tx: Transaction,
    ctx: Context,
    admin_id: int,
    *,
    enabled: bool,
    reassign: bool,
    reason_id: int | None,
) -> AdminView:
    if await admins.get(tx, ctx.workspace_id, admin_id) is None:
        raise NotFound("Admin for admin_id not found", code="admin_not_found")
    await admins.set_away(tx, admin_id=admin_id, enabled=enabled, reassign=reassign,
                          reason_id=reason_id)  # fmt: skip
    return await get_admin(tx, ctx, admin_id)


@dataclass(frozen=True, slots=True)
class TeamView:
    row: Row
    admin_ids: list[int]


async def list_teams(tx: Transaction, ctx: Context) -> list[TeamView]:
    members = await teams.admin_ids_by_team(tx, ctx.workspace_id)
    rows = await teams.list_for_workspace(tx, ctx.workspace_id)
    return [TeamView(row, members.get(int(row["id"]), [])) for row in rows]


async def get_team(tx: Transaction, ctx: Context, team_id: int) -> TeamView:
    row = await teams.get(tx, ctx.workspace_id, team_id)
    if row is None:
        raise NotFound("Team not found", code="team_not_found")
    return TeamView(row, (await teams.admin_ids_by_team(tx, ctx.workspace_id)).get(team_id, []))


# ---------------------------------------------------------------- administration (CLI)


async def create_admin(
    tx: Transaction, *, clock: Clock, workspace_id: str, name: str, email: str,
    job_title: str | None = None,
) -> int:  # fmt: skip
    if await admins.get_by_email(tx, workspace_id, email) is not None:
        raise Conflict(f"an admin with email {email} already exists")
    return await admins.insert(
        tx, workspace_id=workspace_id, name=name, email=email, now=clock.now(), job_title=job_title
    )


async def create_team(
    tx: Transaction, *, clock: Clock, workspace_id: str, name: str, member_ids: list[int]
) -> int:
    if await teams.get_by_name(tx, workspace_id, name) is not None:
        raise Conflict(f"a team named {name!r} already exists")
    team_id = await teams.insert(tx, workspace_id=workspace_id, name=name, now=clock.now())
    for admin_id in member_ids:
        if await admins.get(tx, workspace_id, admin_id) is None:
            raise InvalidParameter(f"no admin {admin_id} in workspace {workspace_id}")
        await teams.add_member(tx, team_id=team_id, admin_id=admin_id)
    return team_id


async def create_token(
    tx: Transaction, *, clock: Clock, ids: IdFactory, workspace_id: str, admin_id: int, name: str
) -> str:
    if await admins.get(tx, workspace_id, admin_id) is None:
        raise InvalidParameter(f"no admin {admin_id} in workspace {workspace_id}")
    token = ids.access_token()
    await tokens.insert(
        tx, workspace_id=workspace_id, admin_id=admin_id, name=name, token=token, now=clock.now()
    )
    return token


async def workspace_admins(tx: Transaction, workspace_id: str) -> list[AdminView]:
    memberships = await admins.team_ids_by_admin(tx, workspace_id)
    rows = await admins.list_for_workspace(tx, workspace_id)
    return [AdminView(row, memberships.get(int(row["id"]), [])) for row in rows]


async def workspace_teams(tx: Transaction, workspace_id: str) -> list[TeamView]:
    members = await teams.admin_ids_by_team(tx, workspace_id)
    rows = await teams.list_for_workspace(tx, workspace_id)
    return [TeamView(row, members.get(int(row["id"]), [])) for row in rows]


async def list_tokens(tx: Transaction, workspace_id: str | None = None) -> list[Row]:
    """Token rows with their admin's email; the token itself is never stored, only a hint."""
    return await tokens.list_all(tx, workspace_id)


async def revoke_token(tx: Transaction, *, clock: Clock, token_id: int) -> None:
    if await tokens.revoke(tx, token_id, clock.now()) == 0:
        raise NotFound(f"no active access token with id {token_id}")
