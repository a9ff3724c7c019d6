"""Typed builders for test data that the API under test does not create itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

from parley import seed as seeding
from parley.db import contacts, tags, teams
from parley.db.database import Database
from parley.kit.clock import FrozenClock
from parley.kit.ids import IdFactory
from parley.services import admins as admin_service
from parley.services.workspaces import CreatedWorkspace


async def create_contact(
    db: Database,
    ws: CreatedWorkspace,
    ids: IdFactory,
    clock: FrozenClock,
    *,
    role: str = "user",
    email: str | None = None,
    external_id: str | None = None,
    name: str | None = None,
) -> str:
    contact_id = ids.contact_id()
    async with db.transaction(write=True) as tx:
        await contacts.insert(
            tx,
            id=contact_id,
            workspace_id=ws.workspace_id,
            role=role,
            now=clock.now(),
            email=email,
            external_id=external_id,
            name=name,
        )
    return contact_id


async def create_admin(
    db: Database, ws: CreatedWorkspace, clock: FrozenClock, *, name: str, email: str
) -> int:
    async with db.transaction(write=True) as tx:
        return await admin_service.create_admin(
            tx, clock=clock, workspace_id=ws.workspace_id, name=name, email=email
        )


async def create_team(db: Database, ws: CreatedWorkspace, clock: FrozenClock, *, name: str) -> int:
    async with db.transaction(write=True) as tx:
        return await teams.insert(tx, workspace_id=ws.workspace_id, name=name, now=clock.now())


async def create_tag(db: Database, ws: CreatedWorkspace, clock: FrozenClock, *, name: str) -> int:
    async with db.transaction(write=True) as tx:
        return await tags.insert(tx, workspace_id=ws.workspace_id, name=name, now=clock.now())


async def seed_store(
    path: Path,
    *,
    conversations: int,
    contacts: int,
    admins: int,
    teams: int,
    seed: int,
    span_days: int = 20,
) -> seeding.Seeded:
    """A small SQLite store at `path` filled by `parley seed`, run off the test's event loop
    (seeding.run calls asyncio.run itself)."""
    options = seeding.Options(
        url=f"sqlite:///{path}",
        conversations=conversations,
        contacts=contacts,
        admins=admins,
        teams=teams,
        token="t",
        seed=seed,
        end=1_764_547_200,
        span_days=span_days,
        chunk=100,
        workers=1,
        force=False,
    )
    return await asyncio.get_running_loop().run_in_executor(None, lambda: seeding.run(options))


SUPERSCRIPT_TWO = "²"  # str.isdigit() is true for it, and int() refuses it


def arabic_indic(number: int | str) -> str:
    """`number` in Arabic-Indic digits ("١" for 1): str.isdigit() is true for them and int()
    reads them as the number, yet only ASCII 0-9 are digits to Parley."""
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
