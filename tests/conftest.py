"""Test fixtures: real databases built by the real migrations, and an HTTP client whose every
response is validated against Intercom's official description.

Backends: every test that uses `db` runs on SQLite and on PostgreSQL. PostgreSQL is found at
PARLEY_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) and skipped, with the
reason, where none is reachable. PARLEY_TEST_BACKENDS=sqlite limits a run to one backend.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from parley.api.app import create_app
from parley.config import Settings
from parley.db import migrate
from parley.db.database import Database, PostgresDatabase, SqliteDatabase
from parley.kit.clock import FrozenClock
from parley.kit.ids import IdFactory
from parley.render.version import VERSIONS
from parley.services import workspaces
from parley.services.workspaces import CreatedWorkspace
from tests.contract.openapi import validate_response
from tests.contract.v1 import spec_version, validate_v1_response

PG_URL = os.environ.get("PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("PARLEY_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
T = TypeVar("T")
START = 1_700_000_000  # 2023-11-14T22:13:20Z: the frozen clock's first reading in tests

# Every table but Alembic's, read from the schema so that new migrations need no edit here.
TABLES_SQL = (
    "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables"
    " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
)


async def _pg_reachable() -> str | None:
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(PG_URL), timeout=3)
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}: {exc}"
    await conn.close()
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated by Alembic; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "parley.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def _in_thread(fn: Callable[[], T]) -> T:
    """Run blocking setup (asyncio.run inside) off the test's running event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    problem = _in_thread(lambda: asyncio.run(_pg_reachable()))
    if problem:
        pytest.skip(problem)

    async def reset_schema() -> None:
        import asyncpg

        conn = await asyncpg.connect(PG_URL)
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await conn.close()

    _in_thread(lambda: asyncio.run(reset_schema()))
    _in_thread(lambda: migrate.upgrade(PG_URL))
    return PG_URL


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def db(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Database]:
    database: Database
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "parley.db"
        shutil.copy(template, path)
        database = SqliteDatabase(path)
    else:
        url: str = request.getfixturevalue("postgresql_url_fixture")
        database = await PostgresDatabase.connect(url, min_size=1, max_size=60)
        async with database.transaction(write=True) as tx:
            tables = await tx.fetch_val(TABLES_SQL)
            await tx.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def postgresql_url_fixture(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def ids() -> IdFactory:
    return IdFactory(seed=1234)


@pytest.fixture
async def workspace(db: Database, clock: FrozenClock, ids: IdFactory) -> CreatedWorkspace:
    async with db.transaction(write=True) as tx:
        return await workspaces.create(
            tx, clock=clock, ids=ids, name="Test Workspace", owner_email="owner@example.com",
            owner_name="Olivia Owner", default_version="2.14",
        )  # fmt: skip


class ValidatingClient(httpx.AsyncClient):
    """An httpx client that checks every response against the official description of its
    operation, for the Intercom-Version the request asked for (2.14 when none): 1.x against the
    seed 003 JSON Schema (tests/contract/v1.py), 2.16 against the 2.16 description, every other
    2.x against 2.14. Requests relying on a workspace default other than 2.14 must validate
    themselves (the client cannot see the server's default)."""

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = await super().send(request, **kwargs)
        await response.aread()
        version = request.headers.get("intercom-version", "2.14")
        body: Any = orjson.loads(response.content) if response.content else None
        method, path, status = request.method, request.url.path, response.status_code
        if path.startswith("/_parley") or version not in VERSIONS:
            pass  # Parley's own API; an unknown version is refused before any rendering
        elif VERSIONS[version].is_legacy:
            validate_v1_response(method, path, status, body)  # the seed 003 JSON Schema
        else:
            validate_response(method, path, status, body, version=spec_version(version))
        return response


def make_client(app: Any, token: str | None) -> ValidatingClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return ValidatingClient(
        transport=httpx.ASGITransport(app=app), base_url="http://parley.test", headers=headers
    )


@pytest.fixture
def app(db: Database, clock: FrozenClock, ids: IdFactory) -> Any:
    return create_app(Settings(), db=db, clock=clock, ids=ids)


@pytest.fixture
async def api(app: Any, workspace: CreatedWorkspace) -> AsyncIterator[ValidatingClient]:
    async with make_client(app, workspace.token) as client:
        yield client


@pytest.fixture
async def anon(app: Any, workspace: CreatedWorkspace) -> AsyncIterator[ValidatingClient]:
    """A client without credentials."""
    async with make_client(app, None) as client:
        yield client


@pytest.fixture
def other_workspace_token(db: Database, clock: FrozenClock, ids: IdFactory) -> Any:
    """Factory for a second workspace, to prove isolation."""

    async def create() -> CreatedWorkspace:
        async with db.transaction(write=True) as tx:
            return await workspaces.create(
                tx, clock=clock, ids=ids, name="Other", owner_email="other@example.com",
                owner_name="Oscar Other", default_version="2.14",
            )  # fmt: skip

    return create
