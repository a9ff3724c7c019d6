"""The SQLite database's transactions: group commit with a savepoint per write, reads on their
own connection, checkpoints that keep the WAL bounded. Real files, real SQLite."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from parley.db.database import SqliteDatabase


@pytest.fixture
async def sqlite(sqlite_template: Path, tmp_path: Path) -> SqliteDatabase:
    path = tmp_path / "parley.db"
    shutil.copy(sqlite_template, path)
    return SqliteDatabase(path)


async def _names(db: SqliteDatabase) -> list[str]:
    async with db.transaction() as tx:
        rows = await tx.fetch_all("SELECT name FROM workspaces ORDER BY name")
    return [row["name"] for row in rows]


async def _add(db: SqliteDatabase, name: str, *, fail: bool = False) -> None:
    async with db.transaction(write=True) as tx:
        await tx.execute(
            "INSERT INTO workspaces (id, name, default_version, timezone, region, created_at)"
            " VALUES (:id, :name, '2.14', 'UTC', 'us', 0)",
            {"id": name, "name": name},
        )
        if fail:
            raise RuntimeError("this request fails after writing")


async def test_concurrent_writes_share_a_commit_and_a_failure_undoes_only_its_own(
    sqlite: SqliteDatabase,
) -> None:
    statements: list[str] = []
    sqlite._writer.set_trace_callback(statements.append)
    results = await asyncio.gather(
        *(_add(sqlite, f"w{n}", fail=n % 3 == 0) for n in range(12)), return_exceptions=True
    )
    sqlite._writer.set_trace_callback(None)
    failed = [n for n, result in enumerate(results) if isinstance(result, RuntimeError)]
    assert failed == [0, 3, 6, 9]
    # Twelve writes started in one turn of the loop: one transaction, one savepoint each.
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert statements.count("COMMIT") == 1
    assert statements.count("SAVEPOINT request") == 12
    assert statements.count("ROLLBACK TO request") == 4
    names = await _names(sqlite)
    assert sorted(n for n in names if n.startswith("w")) == sorted(
        f"w{n}" for n in range(12) if n % 3
    )
    await sqlite.close()


async def test_a_read_never_sees_a_write_that_has_not_committed(sqlite: SqliteDatabase) -> None:
    async with sqlite.transaction(write=True) as tx:
        await tx.execute(
            "INSERT INTO workspaces (id, name, default_version, timezone, region, created_at)"
            " VALUES ('pending', 'pending', '2.14', 'UTC', 'us', 0)"
        )
        assert "pending" not in await _names(sqlite)
    assert "pending" in await _names(sqlite)  # the write's transaction() returned: committed
    await sqlite.close()


async def test_the_wal_starts_over_under_a_steady_stream_of_writes(
    sqlite_template: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Checkpoints beside a steady stream of writes never reach the WAL's end; the checkpoint
    at a quiet point does, so the WAL stays bounded instead of growing with every write."""
    monkeypatch.setattr(SqliteDatabase, "CHECKPOINT_INTERVAL", 0.0)
    monkeypatch.setattr(SqliteDatabase, "RESTART_FRAMES", 20)
    shutil.copy(sqlite_template, tmp_path / "parley.db")
    sqlite = SqliteDatabase(tmp_path / "parley.db")
    wal = tmp_path / "parley.db-wal"
    sizes = []
    for batch in range(60):
        await asyncio.gather(*(_add(sqlite, f"b{batch}-{n}") for n in range(5)))
        sizes.append(wal.stat().st_size)
    assert len(await _names(sqlite)) >= 300
    # 300 writes of a page or more each: without restarts the WAL would pass 300 pages.
    assert max(sizes) < 120 * 4096, sizes
    await sqlite.close()
    assert not wal.exists() or wal.stat().st_size == 0  # closing checkpoints it all


async def test_a_failed_commit_fails_every_write_in_its_batch_and_keeps_nothing(
    sqlite: SqliteDatabase,
) -> None:
    """A COMMIT can fail (a full disk, an I/O error): every write that shared it must hear so,
    and none of them may be there afterwards; the next write starts afresh."""
    real = sqlite._writer

    class FailingCommit:  # sqlite3.Connection's methods cannot be patched; stand in for it
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def execute(self, sql: str, params: Any = ()) -> object:
            if sql == "COMMIT":
                raise sqlite3.OperationalError("disk I/O error")
            return real.execute(sql, params)

    sqlite._writer = FailingCommit()  # type: ignore[assignment]
    try:
        results = await asyncio.gather(
            *(_add(sqlite, f"lost{n}") for n in range(3)), return_exceptions=True
        )
    finally:
        sqlite._writer = real
    assert all(isinstance(r, sqlite3.OperationalError) for r in results), results
    assert not [n for n in await _names(sqlite) if n.startswith("lost")]
    await _add(sqlite, "after")
    assert "after" in await _names(sqlite)
    await sqlite.close()


async def test_a_write_cancelled_while_queued_does_not_strand_its_batch(
    sqlite: SqliteDatabase,
) -> None:
    """The last write out of a batch commits it; a write cancelled while it waited for the lock
    must not leave the others waiting for a commit nobody will make."""
    release = asyncio.Event()

    async def slow() -> None:  # holds the write lock across a real await
        async with sqlite.transaction(write=True) as tx:
            await tx.execute(
                "INSERT INTO workspaces (id, name, default_version, timezone, region, created_at)"
                " VALUES ('slow', 'slow', '2.14', 'UTC', 'us', 0)"
            )
            await release.wait()

    first = asyncio.ensure_future(slow())
    await asyncio.sleep(0)  # it holds the lock, in an open batch
    queued = asyncio.ensure_future(_add(sqlite, "queued"))
    await asyncio.sleep(0)  # waiting for the lock
    await asyncio.sleep(0)  # the batch's commit has run once and been put off
    release.set()
    await asyncio.sleep(0)  # the first write ends, handing the lock to the queued one...
    queued.cancel()  # ...which is cancelled before it runs: it was the last one out
    await asyncio.wait_for(first, timeout=5)  # returns only once the batch has committed
    assert "slow" in await _names(sqlite)
    assert "queued" not in await _names(sqlite)
    await sqlite.close()
