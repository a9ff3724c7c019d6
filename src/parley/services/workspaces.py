"""Creating workspaces: the workspace, its bot, its owner admin and a first access token."""

from __future__ import annotations

from dataclasses import dataclass

from parley.config import API_VERSIONS
from parley.db import admins, tokens, workspaces
from parley.db.database import Row, Transaction
from parley.errors import Conflict, InvalidParameter, NotFound
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


# ---------------------------------------------------------------- administration (CLI, first start)


async def list_all(tx: Transaction) -> list[Row]:
    return await workspaces.list_all(tx)


async def resolve(tx: Transaction, ref: str | None) -> Row:
    """The workspace named by id or exact name; with no ref, the only workspace there is."""
    rows = await workspaces.list_all(tx)
    if ref is None:
        if len(rows) == 1:
            return rows[0]
        if not rows:
            raise NotFound("there is no workspace yet: run `parley workspaces create NAME`")
        choices = ", ".join(f"{row['id']} ({row['name']})" for row in rows)
        raise InvalidParameter(
            f"there are {len(rows)} workspaces; pick one with --workspace: {choices}"
        )
    by_id = [row for row in rows if row["id"] == ref]
    if by_id:
        return by_id[0]
    by_name = [row for row in rows if row["name"] == ref]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise InvalidParameter(f"several workspaces are named {ref!r}; use the id instead")
    raise NotFound(f"no workspace with id or name {ref!r}")


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """What first start did. `created` is set when the store was empty; `token_added` when the
    store had workspaces and the supplied bootstrap token was new (it was given to the owner of
    the first workspace)."""

    created: CreatedWorkspace | None
    token_added: bool
    workspace_id: str | None
    workspace_count: int


async def bootstrap(
    tx: Transaction,
    *,
    clock: Clock,
    ids: IdFactory,
    name: str,
    owner_email: str,
    owner_name: str,
    default_version: str,
    token: str | None,
) -> Bootstrap:
    rows = await workspaces.list_all(tx)
    if not rows:
        created = await create(
            tx, clock=clock, ids=ids, name=name, owner_email=owner_email, owner_name=owner_name,
            default_version=default_version, token=token,
        )  # fmt: skip
        return Bootstrap(created, False, created.workspace_id, 1)
    first = rows[0]
    if token is None:
        return Bootstrap(None, False, str(first["id"]), len(rows))
    wanted = tokens.hash_token(token)
    for row in await tokens.list_all(tx):
        if row["token_hash"] == wanted:
            if row["revoked_at"] is not None:
                raise Conflict(
                    "the bootstrap token was revoked and is not reinstated; unset "
                    "PARLEY_BOOTSTRAP_TOKEN / --bootstrap-token or choose a new value"
                )
            return Bootstrap(None, False, str(row["workspace_id"]), len(rows))
    owners = await admins.list_for_workspace(tx, first["id"])
    if not owners:
        raise NotFound(f"workspace {first['id']} has no admin to own the bootstrap token")
    await tokens.insert(
        tx, workspace_id=first["id"], admin_id=int(owners[0]["id"]), name="bootstrap",
        token=token, now=clock.now(),
    )  # fmt: skip
    return Bootstrap(None, True, str(first["id"]), len(rows))


async def set_default_version(tx: Transaction, ref: str | None, version: str) -> str:
    """Change the version a workspace's requests get without an Intercom-Version header."""
    if version not in API_VERSIONS:
        raise InvalidParameter(
            f"unknown Intercom API version {version!r}; use one of {', '.join(API_VERSIONS)}"
        )
    workspace_id = str((await resolve(tx, ref))["id"])
    await workspaces.set_default_version(tx, workspace_id, version)
    return workspace_id
