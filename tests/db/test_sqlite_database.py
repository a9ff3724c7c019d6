"""The SQLite database's transactions: group commit with a savepoint per write, reads on their
own connection, checkpoints that keep the WAL bounded. Real files, real SQLite."""

from __future__ import annotations

import asyncio
import mmap
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from parley.db.database import SqliteDatabase, _SqliteReader, writes_memo_table
from parley.kit.clock import SystemClock
from parley.kit.ids import IdFactory
from parley.worker.timers import run_once


@pytest.fixture
async def sqlite(sqlite_template: Path, tmp_path: Path) -> SqliteDatabase:
    path = tmp_path / "parley.db"
    shutil.copy(sqlite_template, path)
    return SqliteDatabase(path)


async def _names(db: SqliteDatabase) -> list[str]:
    async with db.transaction() as tx:
        rows = await tx.fetch_all("SELECT name FROM workspaces ORDER BY name")
    return [row["name"] for row in rows]


async def _add(
    db: SqliteDatabase, name: str, *, fail: bool = False, hold: asyncio.Event | None = None
) -> None:
    """One write request; `hold` keeps it (the write lock, its batch open) until it is set."""
    async with db.transaction(write=True) as tx:
        await tx.execute(
            "INSERT INTO workspaces (id, name, default_version, timezone, region, created_at)"
            " VALUES (:id, :name, '2.14', 'UTC', 'us', 0)",
            {"id": name, "name": name},
        )
        if hold is not None:
            await hold.wait()
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


async def _journal_kept_by(db: SqliteDatabase, name: str, *, bulk: bool) -> int:
    """One write; returns the writer's `temp_store` while it ran (2: memory, 1: file)."""
    async with db.transaction(write=True, bulk=bulk) as tx:
        await tx.execute(
            "INSERT INTO workspaces (id, name, default_version, timezone, region, created_at)"
            " VALUES (:id, :name, '2.14', 'UTC', 'us', 0)",
            {"id": name, "name": name},
        )
        kept = int(await tx.fetch_val("PRAGMA temp_store"))
    return kept


async def test_batches_keep_their_journal_in_memory_and_a_bulk_write_runs_alone_on_disk(
    sqlite: SqliteDatabase,
) -> None:
    """The sub-journal of a batch (the originals of the pages its savepoints change) stays in
    memory, but a write that may change a great many rows keeps it on disk, in a batch of its
    own: the writes already in the open batch commit first, and the next batch is back in
    memory."""
    statements: list[str] = []
    sqlite._writer.set_trace_callback(statements.append)
    before, bulk, joined = await asyncio.gather(
        _journal_kept_by(sqlite, "a", bulk=False),
        _journal_kept_by(sqlite, "b", bulk=True),
        _journal_kept_by(sqlite, "c", bulk=False),
    )
    after = await _journal_kept_by(sqlite, "d", bulk=False)
    sqlite._writer.set_trace_callback(None)
    assert (before, bulk, joined, after) == (2, 1, 1, 2)
    # "a" committed on its own when the bulk write came; "c" joined the bulk write's batch.
    assert statements.count("BEGIN IMMEDIATE") == 3
    assert statements.count("COMMIT") == 3
    assert await _names(sqlite) == ["a", "b", "c", "d"]
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


async def test_a_checkpoint_that_finds_a_long_wal_lets_the_next_write_start_it_over(
    sqlite_template: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Under a steady stream of writes a checkpoint runs while a batch is open, so it never
    copies the WAL's end, and SQLite starts a WAL over only when a write begins with all of it
    copied: the WAL grew without bound (500 MB in 10 s of replies). A checkpoint that finds
    RESTART_FRAMES or more therefore takes one more at a quiet point — holding the write lock,
    after the open batch commits — and the next write starts the WAL over.

    Arranged deterministically (no race with the checkpoint thread): frames are committed, a
    write holds its batch open across the checkpoint, and only then is released."""
    monkeypatch.setattr(SqliteDatabase, "RESTART_FRAMES", 20)
    shutil.copy(sqlite_template, tmp_path / "parley.db")
    sqlite = SqliteDatabase(tmp_path / "parley.db")
    sqlite._next_checkpoint = float("inf")  # no checkpoint but the one this test runs
    wal = tmp_path / "parley.db-wal"
    for n in range(30):  # 30 commits: at least 30 frames, none copied yet
        await _add(sqlite, f"before{n}")
    assert len(await _names(sqlite)) == 30  # the reader holds a snapshot: it must let go too
    restarts = _wal_restarts(wal)

    release = asyncio.Event()
    held = asyncio.create_task(_add(sqlite, "held", hold=release))
    await asyncio.sleep(0)  # it holds the write lock and its batch is open
    checkpoint = asyncio.create_task(sqlite._checkpoint())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while not sqlite._write_lock._waiters:  # the PASSIVE one ran; the quiet one waits its turn
        assert not checkpoint.done(), "no checkpoint at a quiet point"
        assert loop.time() < deadline
        await asyncio.sleep(0.01)
    release.set()
    await held
    await checkpoint
    await _add(sqlite, "after")
    assert _wal_restarts(wal) == restarts + 1  # "after" was written at the WAL's start
    assert {"held", "after"} <= set(await _names(sqlite))
    await sqlite.close()
    assert not wal.exists() or wal.stat().st_size == 0  # closing checkpoints it all


async def test_a_reader_lets_another_processs_long_wal_start_over(
    sqlite_template: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A writer can start its WAL over only at a moment when no reader holds a snapshot in it,
    and a server answering reads without a pause always held one: the WAL of a store shared by
    a reading and a writing server grew without bound. While the WAL is long and not copied
    back, a read's snapshot ends with the read; once it is copied back, a snapshot reads the
    database file alone and is kept. Two databases on one file stand for the two processes
    (SQLite's locks between connections are the same within a process)."""
    monkeypatch.setattr(SqliteDatabase, "RESTART_FRAMES", 20)
    shutil.copy(sqlite_template, tmp_path / "parley.db")
    writer = SqliteDatabase(tmp_path / "parley.db")
    reader = SqliteDatabase(tmp_path / "parley.db")
    writer._next_checkpoint = reader._next_checkpoint = float("inf")  # only the test's
    wal = tmp_path / "parley.db-wal"
    for n in range(30):
        await _add(writer, f"w{n}")
    assert len(await _names(reader)) == 30
    assert not reader._reader.in_transaction  # a long WAL, nothing copied back: let go
    restarts = _wal_restarts(wal)

    await writer._checkpoint()  # copies it all back
    assert len(await _names(reader)) == 30
    assert reader._reader.in_transaction  # kept: it reads the database file alone
    await _add(writer, "after")
    assert _wal_restarts(wal) == restarts + 1  # "after" was written at the WAL's start
    assert "after" in await _names(reader)
    await reader.close()
    await writer.close()


@pytest.mark.parametrize(("caught_up", "rounds"), [(float("inf"), 1), (0.0, 4)])
async def test_before_the_quiet_checkpoint_others_catch_up_until_one_is_quick(
    sqlite: SqliteDatabase, monkeypatch: pytest.MonkeyPatch, caught_up: float, rounds: int
) -> None:
    """The quiet checkpoint holds every write back while it copies and syncs what the one
    before it missed, so checkpoints without the write lock run first until one is quick
    (CAUGHT_UP), at most CATCH_UP_ROUNDS of them."""
    monkeypatch.setattr(SqliteDatabase, "RESTART_FRAMES", 1)
    monkeypatch.setattr(SqliteDatabase, "CAUGHT_UP", caught_up)
    sqlite._next_checkpoint = float("inf")  # no checkpoint but the one this test runs
    await _add(sqlite, "a")
    checkpoints: list[tuple[str, bool]] = []
    run = sqlite._run_checkpoint

    def recorded(mode: str = "PASSIVE") -> int:
        checkpoints.append((mode, sqlite._write_lock.locked()))
        return run(mode)

    monkeypatch.setattr(sqlite, "_run_checkpoint", recorded)
    await sqlite._checkpoint()
    assert checkpoints == [("PASSIVE", False)] * (1 + rounds) + [("PASSIVE", True)]
    await sqlite.close()


def _wal_restarts(wal: Path) -> int:
    """The WAL header's checkpoint sequence number, which SQLite increments each time it
    starts the WAL over (https://sqlite.org/fileformat2.html#walformat)."""
    with wal.open("rb") as f:
        header = f.read(32)
    return int.from_bytes(header[12:16], "big") if len(header) == 32 else 0


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
    first = asyncio.ensure_future(_add(sqlite, "slow", hold=release))  # across a real await
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


async def test_a_remembered_row_is_read_again_after_any_commit(
    sqlite: SqliteDatabase, tmp_path: Path
) -> None:
    """fetch_one_memo (the bearer token's row) answers from memory only while nothing has been
    committed: a change by this process's writer or by another process (the CLI revoking a
    token) is seen by the very next read."""
    sql = "SELECT name FROM workspaces WHERE id = :id"
    await _add(sqlite, "memo")
    reads: list[str] = []
    sqlite._reader.set_trace_callback(reads.append)

    async def name() -> str | None:
        async with sqlite.transaction() as tx:
            row = await tx.fetch_one_memo(sql, {"id": "memo"})
        return None if row is None else str(row["name"])

    assert await name() == "memo"
    assert await name() == "memo"
    selects = "SELECT name FROM workspaces"  # the trace shows the statement with its values
    assert sum(selects in s for s in reads) == 1  # the second answer came from memory

    async with sqlite.transaction(write=True) as tx:  # this process's writer
        await tx.execute("UPDATE workspaces SET name = 'renamed' WHERE id = 'memo'")
    assert await name() == "renamed"

    other = sqlite3.connect(tmp_path / "parley.db")  # another process's connection
    other.execute("UPDATE workspaces SET name = 'elsewhere' WHERE id = 'memo'")
    other.commit()
    other.close()
    assert await name() == "elsewhere"
    assert sum(selects in s for s in reads) == 3

    other = sqlite3.connect(tmp_path / "parley.db")
    other.execute("DELETE FROM workspaces WHERE id = 'memo'")
    other.commit()
    other.close()
    assert await name() is None
    await sqlite.close()


async def _memo_reads(
    db: SqliteDatabase, count: int, *, rename: str | None = None, fail: bool = False
) -> list[str | None]:
    """One write request that reads the workspace 'memo' through the memo `count` times,
    renaming it first if asked, and failing at the end if asked."""
    sql = "SELECT name FROM workspaces WHERE id = :id"
    seen: list[str | None] = []
    async with db.transaction(write=True) as tx:
        if rename is not None:
            await tx.execute("UPDATE workspaces SET name = :n WHERE id = 'memo'", {"n": rename})
        for _ in range(count):
            row = await tx.fetch_one_memo(sql, {"id": "memo"})
            seen.append(None if row is None else str(row["name"]))
        if fail:
            raise RuntimeError("this request fails after reading")
    return seen


async def test_the_writer_remembers_a_row_for_one_batch_unless_a_write_in_it_may_change_it(
    sqlite: SqliteDatabase, tmp_path: Path
) -> None:
    """On the writing connection fetch_one_memo (token, acting admin, office hours: read by
    every reply) answers from memory for the rest of the batch. A write in the batch to one of
    the MEMO_TABLES, a write that rolls back, and a new batch (another process may have
    committed before it) make it read again; what it answers is always what the query would."""
    await _add(sqlite, "memo")
    statements: list[str] = []
    sqlite._writer.set_trace_callback(statements.append)

    def reads() -> int:
        return sum("SELECT name FROM workspaces" in s for s in statements)

    # Three requests in one batch, two reads each: one read of the store.
    results = await asyncio.gather(*(_memo_reads(sqlite, 2) for _ in range(3)))
    assert results == [["memo", "memo"]] * 3
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert reads() == 1

    # In one batch: a rename is seen by the request that made it and by those after it; a
    # request that renames, reads (the memo then holds its name) and fails leaves the memo
    # holding nothing that its rollback undid.
    statements.clear()
    outcomes = await asyncio.gather(
        _memo_reads(sqlite, 1),
        _memo_reads(sqlite, 2, rename="renamed"),
        _memo_reads(sqlite, 1),
        _memo_reads(sqlite, 1, rename="undone", fail=True),
        _memo_reads(sqlite, 1),
        return_exceptions=True,
    )
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert list(outcomes[:3]) == [["memo"], ["renamed", "renamed"], ["renamed"]]
    assert isinstance(outcomes[3], RuntimeError)
    assert outcomes[4] == ["renamed"]
    assert reads() == 4  # the first; after the rename; after the second rename; after the rollback

    # A change by another process between batches is seen by the next batch.
    other = sqlite3.connect(tmp_path / "parley.db")
    other.execute("UPDATE workspaces SET name = 'elsewhere' WHERE id = 'memo'")
    other.commit()
    other.close()
    assert await _memo_reads(sqlite, 1) == ["elsewhere"]

    # A row that is not there is remembered too, until a write may have put it there.
    sqlite._writer.set_trace_callback(None)
    missing = "SELECT name FROM workspaces WHERE id = :id"

    async def create_and_look() -> list[str | None]:
        seen: list[str | None] = []
        async with sqlite.transaction(write=True) as tx:
            for step in range(3):
                if step == 2:
                    await tx.execute(
                        "INSERT INTO workspaces (id, name, default_version, timezone, region,"
                        " created_at) VALUES ('late', 'late', '2.14', 'UTC', 'us', 0)"
                    )
                row = await tx.fetch_one_memo(missing, {"id": "late"})
                seen.append(None if row is None else str(row["name"]))
        return seen

    assert await create_and_look() == [None, None, "late"]
    await sqlite.close()


def test_which_statements_may_change_a_remembered_row() -> None:
    assert writes_memo_table("UPDATE admins SET away_mode_enabled = 1 WHERE id = :id")
    assert writes_memo_table("  delete from workspaces WHERE id = :id")
    assert writes_memo_table("INSERT INTO access_tokens (id) VALUES (1) RETURNING id")
    assert writes_memo_table("INSERT INTO office_hours (workspace_id) VALUES (:ws)")
    assert not writes_memo_table("SELECT * FROM admins WHERE id = :id")
    assert not writes_memo_table("UPDATE conversations SET admin_assignee_id = :a WHERE id = :i")
    assert not writes_memo_table("INSERT INTO conversation_parts (author_admin_id) VALUES (:a)")


async def test_reads_share_a_snapshot_until_anything_commits(
    sqlite: SqliteDatabase, tmp_path: Path
) -> None:
    """Reads stay in one read transaction while the WAL index header is unchanged (no lock per
    read); a commit anywhere — this process's writer, another connection — changes the header,
    and the next read sees it."""
    await _add(sqlite, "one")
    reads: list[str] = []
    sqlite._reader.set_trace_callback(reads.append)
    assert await _names(sqlite) == ["one"]
    assert await _names(sqlite) == ["one"]
    assert reads.count("BEGIN") == 1  # one snapshot for both reads

    other = sqlite3.connect(tmp_path / "parley.db")
    other.execute(
        "INSERT INTO workspaces (id, name, default_version, timezone, region, created_at)"
        " VALUES ('two', 'two', '2.14', 'UTC', 'us', 0)"
    )
    other.commit()
    other.close()
    assert await _names(sqlite) == ["one", "two"]
    await _add(sqlite, "three")
    assert await _names(sqlite) == ["one", "three", "two"]
    assert reads.count("BEGIN") == 3
    await sqlite.close()


async def test_a_snapshot_is_let_go_when_idle_and_when_a_write_batch_begins(
    sqlite: SqliteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An open snapshot holds a WAL read lock, which would keep checkpoints from copying past it
    and the WAL from starting over: it ends when this process starts a write batch, and after
    IDLE seconds without a read (another process may be the one writing)."""
    monkeypatch.setattr(_SqliteReader, "IDLE", 0.05)
    await _names(sqlite)
    assert sqlite._reader.in_transaction
    release = asyncio.Event()
    held = asyncio.create_task(_add(sqlite, "held", hold=release))
    await asyncio.sleep(0)  # the batch has begun
    assert not sqlite._reader.in_transaction
    await _names(sqlite)  # a read during the batch takes a snapshot again...
    assert sqlite._reader.in_transaction
    release.set()
    await held
    await asyncio.sleep(0.2)  # ...which goes once idle
    assert not sqlite._reader.in_transaction
    await sqlite.close()


async def test_without_a_mappable_shm_file_every_read_takes_its_own_snapshot(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the -shm file cannot be mapped, reads still see every commit (and the memo never
    answers from an older state): each takes a snapshot of its own."""

    def unmappable(*args: object, **kwargs: object) -> None:
        raise OSError("no mapping here")

    monkeypatch.setattr(mmap, "mmap", unmappable)
    shutil.copy(sqlite_template, tmp_path / "parley.db")
    sqlite = SqliteDatabase(tmp_path / "parley.db")
    sql = "SELECT name FROM workspaces WHERE id = :id"
    await _add(sqlite, "x")
    for name in ("renamed", "again"):
        other = sqlite3.connect(tmp_path / "parley.db")
        other.execute("UPDATE workspaces SET name = ? WHERE id = 'x'", (name,))
        other.commit()
        other.close()
        async with sqlite.transaction() as tx:
            row = await tx.fetch_one_memo(sql, {"id": "x"})
        assert row is not None
        assert row["name"] == name
    assert await _names(sqlite) == ["again"]
    await sqlite.close()


# SQLite's "DMS" byte of the -shm file (src/os_unix.c: UNIX_SHM_DMS, 120 + 8): every connection
# holds a shared lock on it while open; a process that can lock it exclusively takes the store
# for unused and truncates and rebuilds the -shm.
_IN_USE_PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
except OSError:
    print("in use")
else:
    print("unused")
"""


def _shm_of(path: Path) -> Path:
    return path.with_name(f"{path.name}-shm")


def _seen_in_use_by_another_process(path: Path) -> bool:
    probe = subprocess.run(
        [sys.executable, "-c", _IN_USE_PROBE, str(_shm_of(path))],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return probe.stdout.strip() == "in use"


async def test_other_processes_see_the_store_in_use_for_as_long_as_a_database_is_open(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """Closing any descriptor of a file drops all of a process's locks on it (POSIX). The reader
    maps the WAL index header, and the descriptor behind that mapping used to be closed at once:
    SQLite's lock went with it, and the next process to open the store (the CLI, a backup, a
    second server) rebuilt the -shm under the running server, which died of SIGBUS. Now the
    mapping is shared by the process's databases on one file and closed after the last one's
    connections."""
    unlocked = tmp_path / "unlocked.db"
    _shm_of(unlocked).write_bytes(bytes(256))  # a -shm file that nobody locks
    assert not _seen_in_use_by_another_process(unlocked)  # the probe tells the difference

    path = tmp_path / "parley.db"
    shutil.copy(sqlite_template, path)
    first = SqliteDatabase(path)
    await _add(first, "one")
    assert await _names(first) == ["one"]
    assert _seen_in_use_by_another_process(path)

    second = SqliteDatabase(path)
    assert await _names(second) == ["one"]
    await second.close()
    assert _seen_in_use_by_another_process(path)  # the first still has the store open
    assert await _names(first) == ["one"]

    await first.close()
    assert not _shm_of(path).exists()  # the last connection out removed it


async def test_the_snooze_timers_scans_do_not_keep_the_snapshot_open(
    sqlite: SqliteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snooze timer reads every PARLEY_TIMER_INTERVAL (1 s) seconds, whether requests come
    or not. Counted as reads, its scans kept the reader's snapshot, and its WAL read lock, open
    for good (IDLE is 1 s too): another process's checkpoint could never finish, so the WAL of
    a store two servers share grew without bound, and every TRUNCATE checkpoint (the CLI's and
    a server's at close) waited out its busy timeout. Its scans neither keep the snapshot nor
    leave one of their own open."""
    monkeypatch.setattr(_SqliteReader, "IDLE", 0.05)
    clock, ids = SystemClock(), IdFactory()
    await _add(sqlite, "one")
    await _names(sqlite)  # a request's read: the snapshot is open
    assert sqlite._reader.in_transaction
    for _ in range(15):  # scans, more often than IDLE
        assert not await run_once(sqlite, clock, ids)
        await asyncio.sleep(0.02)
    assert not sqlite._reader.in_transaction
    await _add(sqlite, "two")
    assert not await run_once(sqlite, clock, ids)  # a scan with no snapshot open
    assert not sqlite._reader.in_transaction
    assert await _names(sqlite) == ["one", "two"]
    await sqlite.close()


async def test_closing_does_not_wait_for_another_process_reading_the_store(
    sqlite: SqliteDatabase, tmp_path: Path
) -> None:
    """Closing takes a TRUNCATE checkpoint, which must wait until no reader uses the WAL. A
    reader of another process (a serving `parley serve` keeps its snapshot while GETs come)
    made every close wait out the 10 s busy timeout: every CLI command against a serving store
    took 20 s (two closes), a second server took 20 s to start. The checkpoint copies what it
    can and leaves the rest to the process still using the store."""
    await _add(sqlite, "one")
    other = sqlite3.connect(tmp_path / "parley.db", isolation_level=None)
    other.execute("BEGIN")
    assert other.execute("SELECT count(*) FROM workspaces").fetchone() == (1,)  # its snapshot
    started = time.monotonic()
    await sqlite.close()
    assert time.monotonic() - started < 2
    assert other.execute("SELECT name FROM workspaces").fetchall() == [("one",)]
    other.execute("COMMIT")
    other.close()
    reopened = SqliteDatabase(tmp_path / "parley.db")
    assert await _names(reopened) == ["one"]
    await reopened.close()
