"""Alembic environment: runs migrations on SQLite (sync driver) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine, event, pool
from sqlalchemy.ext.asyncio import create_async_engine

config = context.config


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=None,
        render_as_batch=sqlite,
        # SQLite's DDL is transactional once the driver lets it be (_sqlite_engine): the whole
        # upgrade is then one transaction, the version read included.
        transactional_ddl=True if sqlite else None,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set by parley.db.migrate"
    if url.startswith("postgresql"):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        asyncio.run(_run_async(url))
    else:
        engine = _sqlite_engine(url)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()


def _sqlite_engine(url: str) -> Any:
    """An engine whose transactions are SQLite's own. The sqlite3 driver opens a transaction
    only before INSERT/UPDATE/DELETE, so every CREATE, DROP and ALTER was committed on its own:
    an upgrade killed (or failed) halfway left tables without their revision, and every later
    start failed on "table ... already exists". Two processes migrating a new store at once
    raced the same way. Here the driver leaves transactions alone and each begins with BEGIN
    IMMEDIATE: an upgrade is all or nothing, and a second one waits for the first, then finds
    the schema at head."""
    engine = create_engine(
        url, poolclass=pool.NullPool, connect_args={"isolation_level": None, "timeout": 60}
    )

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `parley db upgrade`")
run_migrations_online()
