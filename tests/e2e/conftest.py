"""End-to-end fixtures: a private PostgreSQL database for served processes.

Real servers must not share the database the API tests truncate, so the e2e tests use their own
databases on the same server, named after the database of PARLEY_TEST_POSTGRES_URL with `_e2e`
(and `_e2e_sdk`) appended, dropped and re-created for each use. PARLEY_TEST_E2E_POSTGRES_URL
names the `_e2e` database explicitly (`_e2e_sdk` is then derived from it).
"""

from __future__ import annotations

import asyncio
import os
import re

import pytest

from tests.conftest import PG_URL


def _e2e_url(suffix: str) -> str:
    explicit = os.environ.get("PARLEY_TEST_E2E_POSTGRES_URL")
    if explicit:  # names the `_e2e` database; others get the rest of their suffix appended
        return explicit + suffix.removeprefix("_e2e")
    base, _, name = PG_URL.partition("?")[0].rpartition("/")
    return f"{base}/{name or 'postgres'}{suffix}"


async def _recreate(url: str) -> str | None:
    """Drop and create the database of `url` through the server at PG_URL; a reason on failure."""
    import asyncpg

    name = url.rpartition("/")[2].split("?", 1)[0]
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        return f"unsupported e2e database name {name!r}"
    admin_url = re.sub(r"^postgresql(\+\w+)?://", "postgresql://", PG_URL)
    try:
        conn = await asyncio.wait_for(asyncpg.connect(admin_url), timeout=3)
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}: {exc}"
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        return f"cannot create the e2e database {name!r}: {exc.__class__.__name__}: {exc}"
    finally:
        await conn.close()
    return None


def fresh_postgres_database(suffix: str = "_e2e") -> str:
    """A new, empty PostgreSQL database (no schema) as a postgresql+asyncpg:// URL, or a skip
    that says why."""
    url = _e2e_url(suffix)
    problem = asyncio.run(_recreate(url))
    if problem:
        pytest.skip(problem)
    return re.sub(r"^postgresql(\+\w+)?://", "postgresql+asyncpg://", url)


@pytest.fixture
def e2e_postgres_url() -> str:
    return fresh_postgres_database()
