"""Creating workspaces: the workspace, its bot, its owner admin and a first access token."""

from __future__ import annotations

from dataclasses import dataclass

from parley.db import admins, tokens, workspaces
from parley.db.database import Transaction
from parley.errors import Conflict
from parley.kit.clock import Clock
from parley.kit.ids import IdFactory

BOT_NAME = "Fin"


@dataclass(frozen=True, slots=True)
class CreatedWorkspace:
    workspace_id: str
    owner_admin_id: int
    token: str


async def create(
    tx: Transaction,
    *,
    clock: Clock,
    ids: IdFactory,
    name: str,
    owner_email: str,
    owner_name: str,
    default_version: str,
    token: str | None = None,
    timezone: str = "UTC",
) -> CreatedWorkspace:
    now = clock.now()
    workspace_id = ids.workspace_id()
    await workspaces.insert(
        tx, id=workspace_id, name=name, default_version=default_version, timezone=timezone, now=now
    )
    await admins.insert(
        tx, workspace_id=workspace_id, name=BOT_NAME, email=admins.BOT_EMAIL, now=now, kind="bot",
        has_inbox_seat=False,
    )  # fmt: skip
    owner_id = await admins.insert(
        tx, workspace_id=workspace_id, name=owner_name, email=owner_email, now=now
    )
    token = token or ids.access_token()
    if await tokens.authenticate(tx, token) is not None:
        raise Conflict("that access token is already in use")
    await tokens.insert(
        tx, workspace_id=workspace_id, admin_id=owner_id, name="bootstrap", token=token, now=now
    )
    return CreatedWorkspace(workspace_id=workspace_id, owner_admin_id=owner_id, token=token)
