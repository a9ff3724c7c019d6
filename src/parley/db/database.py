"""A deliberately thin SQL layer over two drivers.

Why not the SQLAlchemy ORM or async engine on the request path: on this hardware the storage
path decides throughput (see docs/decisions.md, "storage path"). The stdlib sqlite3 driver called
directly in the event loop is the fastest way to read a few rows, and asyncpg is the fastest way
to PostgreSQL. SQLAlchemy still owns the schema (Alembic migrations); queries are plain SQL in the
repositories, written in the subset both databases accept, with `:name` parameters.

SQLite transactions never yield to the event loop (the driver is synchronous), so a transaction in
one process is atomic with respect to every other request in it; `BEGIN IMMEDIATE` takes the write
lock up front so several processes on one file serialise instead of deadlocking.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import mmap
import os
import re
import sqlite3
import sys
import threading
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

Params = Mapping[str, Any]
log = logging.getLogger("parley.db")


class UniqueViolation(Exception):
    """A write broke a unique constraint (the loser of a race the service's check cannot see)."""


class TransientConflict(Exception):
    """The database gave up on a transaction to let a concurrent one finish (PostgreSQL's
    deadlock_detected, serialization_failure): nothing of it was committed, and running it
    again is expected to succeed. The edge retries the request (api/endpoint.py)."""


class Row(Protocol):
    """What both a SQLite row (a dict) and asyncpg.Record offer: access by column name."""

    def __getitem__(self, key: str, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...


class Transaction(Protocol):
    dialect: str

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None: ...

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]: ...

    async def fetch_val(self, sql: str, params: Params | None = None) -> Any: ...

    async def execute(self, sql: str, params: Params | None = None) -> int:
        """Run a statement; returns the number of rows it changed."""
        ...

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None: ...

    async def fetch_one_memo(self, sql: str, params: Params) -> Row | None:
        """fetch_one for a row that nearly every request reads and that seldom changes (the
        bearer token's, the acting admin's, the office hours). `sql` may read only the
        MEMO_TABLES. On SQLite the answer comes from memory while it cannot have changed: on
        the reading connection, while nothing has been committed to the store, by this process
        or any other; on the writing connection, for the rest of the batch of writes, unless a
        write in the batch touches one of the MEMO_TABLES or rolls back. Elsewhere it is
        fetch_one. The caller must not change the row it gets."""
        ...

    def for_update(self) -> str:
        """The row-lock suffix for a SELECT: ` FOR UPDATE` on PostgreSQL, nothing on SQLite
        (where the write transaction already holds the database lock)."""
        ...

    async def snapshot(self) -> None:
        """The statements that follow read one moment of the store, as a rendering made of
        several queries must (a row and its parts). A write transaction and SQLite's reads
        already do; a PostgreSQL read, whose statements each see the latest commit, begins a
        REPEATABLE READ READ ONLY transaction here (only then: most reads are one query)."""
        ...


class Database(Protocol):
    dialect: str

    def transaction(
        self, *, write: bool = False, bulk: bool = False, background: bool = False
    ) -> Any:
        """An async context manager. `bulk`: a write that may change a great many rows (renaming
        a tag shown by thousands of conversations); on SQLite it keeps what it would need to roll
        back on disk rather than in memory. `background`: a read that is no request's (the
        snooze timer's scan); on SQLite it does not keep the reading snapshot open."""
        ...

    async def close(self) -> None: ...


# --------------------------------------------------------------------------- SQLite


# The tables that fetch_one_memo may read: they change seldom, so their rows can be remembered.
MEMO_TABLES = ("access_tokens", "workspaces", "admins", "office_hours")


@functools.lru_cache(maxsize=1024)
def writes_memo_table(sql: str) -> bool:
    """Whether a statement may change a row that a memo holds (any statement other than a
    SELECT that names one of the MEMO_TABLES: a conservative test, made once per text)."""
    return sql.lstrip()[:6].upper() != "SELECT" and any(t in sql for t in MEMO_TABLES)


class _Memo:
    """Rows of the MEMO_TABLES remembered by a connection while they cannot have changed, so an
    answer from here is what the query would return.

    The reading connection's is emptied whenever anything has been committed since it was
    filled, by this process's writer or by another process (`_SqliteReader`): a token revoked
    by the CLI fails on the very next request. The writing connection's lasts one batch of
    writes: emptied when a batch begins (another process may have committed before it), when a
    write in the batch touches one of the MEMO_TABLES, and when a write rolls back."""

    LIMIT = 1024  # distinct queries remembered before starting over

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: dict[tuple[str, tuple[Any, ...]], Row | None] = {}


class _SqliteTransaction:
    dialect = "sqlite"

    __slots__ = ("_conn", "_memo", "_writes")

    def __init__(self, conn: sqlite3.Connection, memo: _Memo, *, writes: bool) -> None:
        self._conn = conn
        self._memo = memo
        self._writes = writes  # the writing connection: its statements may change memo rows

    # Rows become plain dicts, built here once per result set: sqlite3.Row looks names up by a
    # linear case-insensitive scan (it dominated rendering a 40-column conversation), and a
    # row_factory would rebuild cursor.description for every row.

    def _forget_what_it_may_change(self, sql: str) -> None:
        """Empty the writer's memo before a statement that may change a row it holds."""
        if self._writes and self._memo.rows and writes_memo_table(sql):
            self._memo.rows.clear()

    def _run(self, sql: str, params: Params | None) -> sqlite3.Cursor:
        self._forget_what_it_may_change(sql)
        return self._conn.execute(sql, params or {})

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        cursor = self._run(sql, params)
        values = cursor.fetchone()
        if values is None:
            return None
        return dict(zip([d[0] for d in cursor.description], values, strict=True))

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        cursor = self._run(sql, params)
        rows = cursor.fetchall()
        if not rows:
            return []
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in rows]

    async def fetch_val(self, sql: str, params: Params | None = None) -> Any:
        try:
            values = self._run(sql, params).fetchone()
        except sqlite3.IntegrityError as exc:  # INSERT … RETURNING
            raise _integrity(exc) from exc
        return None if values is None else values[0]

    async def execute(self, sql: str, params: Params | None = None) -> int:
        try:
            return self._run(sql, params).rowcount
        except sqlite3.IntegrityError as exc:
            raise _integrity(exc) from exc

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        self._forget_what_it_may_change(sql)
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise _integrity(exc) from exc

    async def fetch_one_memo(self, sql: str, params: Params) -> Row | None:
        rows = self._memo.rows
        key = (sql, tuple(params.values()))
        try:
            return rows[key]
        except KeyError:
            pass
        row = await self.fetch_one(sql, params)
        if len(rows) >= _Memo.LIMIT:
            rows.clear()
        rows[key] = row  # a row that is not there is remembered too (no office hours)
        return row

    def for_update(self) -> str:
        return ""

    async def snapshot(self) -> None:
        return None  # a write's savepoint, or the reading connection's snapshot


def _integrity(exc: sqlite3.IntegrityError) -> Exception:
    if "UNIQUE" in str(exc):
        return UniqueViolation(str(exc))
    return exc


def sqlite_path(url: str) -> Path:
    # sqlite:///relative/or/absolute ; sqlite+pysqlite:////abs also accepted
    path = re.sub(r"^sqlite(\+\w+)?:///", "", url)
    return Path(path)


class SqliteDatabase:
    """SQLite in the event loop: one connection that writes, one that reads, group commit, and
    checkpoints at quiet points.

    Writes share transactions. The first write request to start in a turn of the event loop
    opens a transaction (`BEGIN IMMEDIATE`); each write request runs inside a savepoint of it
    (its failure rolls back its savepoint only), and the transaction commits once no write is
    running or waiting, at the end of the loop's current batch of ready work. A write request's
    `transaction()` returns only after that COMMIT, so nothing is reported done before it is
    durable (as durable as `synchronous=NORMAL` makes any commit). Under load this turns N
    commits into one: every page that N replies share (the tails of the parts and outbox tables
    and of the updated_at indexes, the full-text index segment) is written to the WAL once.

    Reads use their own connection, so they see only committed data and never wait for a batch;
    they share a snapshot while nothing is committed (`_SqliteReader`).

    Checkpoints (copying the WAL back into the database file, then an fsync) run in a worker
    thread with a connection of its own, never inside a request's COMMIT (on a large store one
    took tens of milliseconds, all of them stalling the event loop). Their I/O overlaps the
    requests. A checkpoint running beside a steady stream of writes never copies the WAL's very
    end, though, and SQLite starts a WAL over only when a write begins with all of it copied; so
    once the WAL passes RESTART_FRAMES, one checkpoint is taken at a quiet point: with the write
    lock held (reads go on), it copies the little that the last one missed, and the next write
    starts the WAL over. Without that the WAL grew without bound (500 MB in 10 s of replies).
    Its time is mostly the fsync of what it copies, so checkpoints without the lock run first
    until one is quick: the writes it holds back then wait ~25 ms, not ~120 ms.
    """

    dialect = "sqlite"
    CHECKPOINT_INTERVAL = 1.0  # seconds between checkpoints while writes go on
    RESTART_FRAMES = 8192  # WAL frames (of a page each) before a checkpoint at a quiet point
    CATCH_UP_ROUNDS = 4  # checkpoints without the write lock before that one, at most
    CAUGHT_UP = 0.02  # seconds: a checkpoint this quick leaves little for the quiet one

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = _connect(path)
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA wal_autocheckpoint=0")  # ours, at quiet points
        self._journal_in_memory = False
        self._keep_journal_in_memory(True)
        self._batch_memo = _Memo()  # the writer's (see _Memo)
        self._reader = _connect(path)
        self._reader.execute("PRAGMA query_only=ON")
        self._reader.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # the -shm exists
        self._path = path
        self._read = _SqliteReader(
            self._reader, WAL_INDEX_MAPS.acquire(path), long_wal=self.RESTART_FRAMES
        )
        self._checkpointer = _connect(path)
        self._checkpoint_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint")
        # A write that awaits something real would let another write interleave on the same
        # connection; the lock makes that impossible. Uncontended, it costs no loop turn.
        self._write_lock = asyncio.Lock()
        self._writers_waiting = 0
        self._batch: asyncio.Future[None] | None = None  # the open shared transaction
        self._commit_deferred = False
        self._next_checkpoint = 0.0  # on the event loop's clock
        self._checkpointing: asyncio.Task[None] | None = None

    def transaction(
        self, *, write: bool = False, bulk: bool = False, background: bool = False
    ) -> Any:
        if write:
            return self._write(bulk)
        return self._read.background() if background else self._read

    def _keep_journal_in_memory(self, in_memory: bool) -> None:
        """Where the writer keeps the originals of the pages a batch changes (SQLite's
        sub-journal: each write request is a savepoint, which it must be able to roll back).
        Decided when a batch begins (SQLite reads `temp_store` at BEGIN).

        On disk, the journal spills to a temporary file once past 64 KB — a reply or two — and
        every reply then wrote ~70 times to it, more system calls than the WAL gets: in memory,
        replies went 13% faster (docs/throughput.md). But in memory it holds every page that
        a batch changes until it commits: retiring the documents of a tag shown by 3,387
        conversations took 116 MB. So a `bulk` write runs in a batch of its own with the
        journal on disk."""
        if in_memory != self._journal_in_memory:
            self._writer.execute(f"PRAGMA temp_store={'MEMORY' if in_memory else 'FILE'}")
            self._journal_in_memory = in_memory

    @asynccontextmanager
    async def _write(self, bulk: bool = False) -> AsyncIterator[Transaction]:
        self._writers_waiting += 1
        try:
            await self._write_lock.acquire()
        except BaseException:  # cancelled while queued: it may have been the one to commit
            self._writers_waiting -= 1
            self._commit_if_deferred()
            raise
        self._writers_waiting -= 1
        try:
            batch = self._batch
            if batch is not None and bulk and self._journal_in_memory:
                # The writes before it keep their journal in memory; this one starts a batch
                # of its own (theirs commits now: they are done, waiting for the COMMIT).
                self._commit_now()
                batch = None
            if batch is None:
                # A snapshot held by the reader would keep this batch from starting the WAL
                # over after a full checkpoint (and checkpoints from copying past it).
                self._read.release()
                self._keep_journal_in_memory(not bulk)
                self._writer.execute("BEGIN IMMEDIATE")
                self._batch_memo.rows.clear()
                loop = asyncio.get_running_loop()
                batch = self._batch = loop.create_future()
                loop.call_soon(self._commit_batch)
            self._writer.execute("SAVEPOINT request")
            try:
                yield _SqliteTransaction(self._writer, self._batch_memo, writes=True)
            except BaseException:
                self._writer.execute("ROLLBACK TO request")
                self._writer.execute("RELEASE request")
                self._batch_memo.rows.clear()  # it may hold what the rollback undid
                raise
            self._writer.execute("RELEASE request")
        finally:
            self._write_lock.release()
            self._commit_if_deferred()
        # shield: a request cancelled while waiting must not cancel the commit others wait for.
        await asyncio.shield(batch)

    def _commit_if_deferred(self) -> None:
        """The last write out of a batch whose commit was put off commits it."""
        if self._commit_deferred and not self._writers_waiting and not self._write_lock.locked():
            self._commit_deferred = False
            asyncio.get_running_loop().call_soon(self._commit_batch)

    def _commit_batch(self) -> None:
        if self._write_lock.locked() or self._writers_waiting:
            # A write is running (awaiting something) or queued: it joins this batch, and the
            # last one out commits.
            self._commit_deferred = True
            return
        self._commit_now()
        loop = asyncio.get_running_loop()
        if self._checkpointing is None and loop.time() >= self._next_checkpoint:
            self._checkpointing = loop.create_task(self._checkpoint())

    def _commit_now(self) -> None:
        batch, self._batch = self._batch, None
        if batch is None:
            return
        try:
            self._writer.execute("COMMIT")
        except BaseException as exc:
            if self._writer.in_transaction:
                self._writer.execute("ROLLBACK")
            log.exception("COMMIT of a batch of writes failed; every write in it is undone")
            batch.set_exception(exc)
        else:
            batch.set_result(None)

    async def _checkpoint(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            frames = await loop.run_in_executor(self._checkpoint_thread, self._run_checkpoint)
            if frames >= self.RESTART_FRAMES:
                # Every write waits while the quiet checkpoint copies and syncs what the one
                # before it could not: the frames committed while that one ran. Its time is
                # mostly the fsync of those pages, so catch up without the lock first, until a
                # checkpoint is quick (under steady replies the quiet one took ~120 ms a second).
                for _ in range(self.CATCH_UP_ROUNDS):
                    started = loop.time()
                    await loop.run_in_executor(self._checkpoint_thread, self._run_checkpoint)
                    if loop.time() - started < self.CAUGHT_UP:
                        break
                await self._quiet_checkpoint("PASSIVE")
        finally:
            self._next_checkpoint = loop.time() + self.CHECKPOINT_INTERVAL
            self._checkpointing = None

    async def _quiet_checkpoint(self, mode: str) -> None:
        loop = asyncio.get_running_loop()
        async with self._write_lock:
            self._commit_now()  # a batch still open would keep the WAL from starting over
            self._read.release()  # and so would a snapshot: the checkpoint could not finish
            await loop.run_in_executor(self._checkpoint_thread, self._run_checkpoint, mode)

    def _run_checkpoint(self, mode: str = "PASSIVE") -> int:
        """One checkpoint; returns the number of frames in the WAL (0 if it failed)."""
        try:
            row = self._checkpointer.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        except sqlite3.Error:
            log.warning("WAL checkpoint failed; the next one will retry", exc_info=True)
            return 0
        return int(row[1])

    async def close(self) -> None:
        if self._checkpointing is not None:
            await self._checkpointing
        # Leaves an empty WAL behind when no other process is using the store. When one is (a
        # server's reader holds a snapshot, a writer is busy), what this checkpoint cannot
        # copy is theirs to copy: waiting for them (the 10 s busy timeout) made every CLI
        # command against a serving store take 20 s, a second server 20 s to start and 10 s
        # to stop.
        self._checkpointer.execute("PRAGMA busy_timeout=0")
        await self._quiet_checkpoint("TRUNCATE")
        self._checkpoint_thread.shutdown()
        self._read.close()
        self._writer.close()
        self._reader.close()
        self._checkpointer.close()
        WAL_INDEX_MAPS.release(self._path)  # only now: its descriptor's close drops locks


# The WAL index header (the first of its two copies, which a commit writes last), in bytes.
WAL_INDEX_HEADER = 48
# What the reader maps of the WAL index (https://sqlite.org/walformat.html, native byte order):
# the header, whose mxFrame (the WAL's frames) is at 16, its second copy, then the checkpoint
# information, whose nBackfill (the frames a checkpoint has copied back) is at 96.
WAL_INDEX_MAPPED = 100


class _WalIndexMaps:
    """Read-only memory maps of stores' WAL index headers, one per `-shm` file in this process,
    shared by every `SqliteDatabase` on that store and unmapped when the last one has closed its
    connections.

    Why a descriptor is never closed earlier: POSIX drops *all* of a process's `fcntl` locks on a
    file when *any* of its descriptors for that file is closed. For as long as a connection is
    open, SQLite holds a shared lock on the `-shm` file that tells other processes the store is
    in use; a descriptor of our own closed meanwhile dropped it, so the next process to open the
    store (the CLI, a backup, a second server) took the store for unused, truncated the `-shm`
    and rebuilt it under the running server, which then died of SIGBUS reading its mapping
    (https://www.sqlite.org/howtocorrupt.html, 2.2). SQLite keeps its own descriptors open for
    the same reason. Python's `mmap` holds a duplicate of the descriptor, closed by `close()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._maps: dict[str, tuple[int, mmap.mmap | None, int]] = {}  # path: (fd, map, users)

    def acquire(self, path: Path) -> mmap.mmap | None:
        """The header's mapping of the store at `path` (whose `-shm` file exists), or None where
        it cannot be mapped (then every read takes a snapshot of its own: slower, still exact)."""
        key = os.path.realpath(f"{path}-shm")
        with self._lock:
            if key in self._maps:
                fd, shm, users = self._maps[key]
                self._maps[key] = (fd, shm, users + 1)
                return shm
            try:
                fd = os.open(key, os.O_RDONLY)
            except OSError:
                fd, shm = -1, None
            else:
                try:
                    shm = mmap.mmap(fd, WAL_INDEX_MAPPED, access=mmap.ACCESS_READ)
                except (OSError, ValueError):  # e.g. a file system without shared mappings
                    shm = None
            if shm is None:
                log.warning("cannot map %s: every read takes a snapshot of its own", key)
            self._maps[key] = (fd, shm, 1)
            return shm

    def release(self, path: Path) -> None:
        """Called once per `acquire`, after the caller's connections to the store are closed."""
        key = os.path.realpath(f"{path}-shm")
        with self._lock:
            fd, shm, users = self._maps[key]
            if users > 1:
                self._maps[key] = (fd, shm, users - 1)
                return
            del self._maps[key]
            if shm is not None:
                shm.close()
            if fd >= 0:
                os.close(fd)


WAL_INDEX_MAPS = _WalIndexMaps()


class _SqliteReader:
    """Reads on the reading connection, inside a read transaction (a snapshot) kept open from
    one request to the next for as long as nothing is committed to the store.

    A read transaction costs SQLite two `fcntl` locks on the WAL index and an `fstat` — 14% of a
    GET's time in a native profile, more than finding the document. So instead of one per
    statement, the snapshot stays open while the WAL index header is unchanged: the header (the
    first 48 bytes of the `-shm` file, https://sqlite.org/walformat.html) changes with every
    commit by any connection, of this process or another, and reading it through a memory map
    costs no system call. A request that finds it changed ends the old snapshot and begins a
    new one, taken at its first statement, after the header was read: every read sees every
    commit that finished before the request began, as a PostgreSQL READ COMMITTED read does,
    and never a batch that has not committed. (Within this process no commit can land between a
    read's statements anyway: they never yield to the event loop.)

    An open snapshot holds a WAL read lock, which keeps a checkpoint from copying past it and the
    WAL from starting over; so it is ended when this process begins a write batch (release), and
    once no read has used it for IDLE to 2 × IDLE seconds (another process may be writing). And
    while the WAL is long (`long_wal` frames, the writer's RESTART_FRAMES) and not all copied
    back, a snapshot ends with the read that began it: another process writing the store can
    only start its WAL over at a moment when no reader holds a snapshot in it, and a server
    answering reads without a pause always held one (the WAL of a store shared by a reading and
    a writing server grew without bound). A snapshot begun once everything is copied back reads
    the database file alone and holds no one up."""

    IDLE = 1.0  # seconds a snapshot stays open without a read

    __slots__ = ("_conn", "_idle_timer", "_keep", "_long_wal", "_memo", "_memo_header",
                 "_reads", "_shm", "_snapshot", "_tx")  # fmt: skip

    def __init__(self, conn: sqlite3.Connection, shm: mmap.mmap | None, long_wal: int) -> None:
        self._conn = conn
        self._shm = shm  # the WAL index's mapping; WAL_INDEX_MAPS owns it
        self._long_wal = long_wal
        self._keep = True  # whether the open snapshot outlives its read
        self._snapshot: bytes | None = None  # the header when the open snapshot began
        self._memo = _Memo()
        self._memo_header = b""  # the header the memo's rows were read under
        self._tx = _SqliteTransaction(conn, self._memo, writes=False)
        self._reads = 0
        self._idle_timer: asyncio.TimerHandle | None = None

    def _current(self) -> bool:
        """Make the open snapshot current: a new one when anything was committed since it began
        (or always, without a mapping: slower, still exact). True when it began one."""
        if self._shm is None:
            self._begin(None)
            return True
        header = self._shm[:WAL_INDEX_HEADER]
        if header == self._snapshot:
            return False
        self._begin(header)
        frames = int.from_bytes(header[16:20], sys.byteorder)
        self._keep = frames < self._long_wal or (
            int.from_bytes(self._shm[96:100], sys.byteorder) >= frames
        )
        return True

    async def __aenter__(self) -> Transaction:
        self._current()
        # Counted, not timed: asyncio.get_running_loop() (for the loop's clock) makes a getpid
        # system call, 6% of a GET.
        self._reads += 1
        return self._tx

    async def __aexit__(self, *exc_info: object) -> None:
        if not self._keep:
            self.release()

    @asynccontextmanager
    async def background(self) -> AsyncIterator[Transaction]:
        """A read that is no request's (the snooze timer's scan, every second): it uses the open
        snapshot if that is current, without counting as a read that keeps it open, and
        otherwise reads in a snapshot of its own that it lets go at once. Counted as a read,
        the timer's scan kept the snapshot, and its WAL read lock, open for good: another
        process's checkpoint could never finish (the WAL of a store two servers share grew
        without bound) and every TRUNCATE checkpoint (a CLI command's close, a second server's
        start and stop) waited out its busy timeout."""
        began = self._current()
        try:
            yield self._tx
        finally:
            if began:
                self.release()

    def _begin(self, header: bytes | None) -> None:
        self.release()
        self._conn.execute("BEGIN")  # the snapshot is taken by the first statement
        self._snapshot = header if header is not None else b""
        if header is None or header != self._memo_header:
            self._memo.rows.clear()
            self._memo_header = header or b""
        if self._idle_timer is None:
            self._idle_timer = asyncio.get_running_loop().call_later(
                self.IDLE, self._release_if_idle, self._reads
            )

    def release(self) -> None:
        """End the open snapshot, if any (its locks go with it)."""
        if self._snapshot is not None:
            self._snapshot = None
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")

    def _release_if_idle(self, reads_before: int) -> None:
        """Let the snapshot go if no read used it for IDLE seconds (checked every IDLE)."""
        if self._reads == reads_before or self._snapshot is None:
            self._idle_timer = None
            self.release()
        else:
            self._idle_timer = asyncio.get_running_loop().call_later(
                self.IDLE, self._release_if_idle, self._reads
            )

    def close(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self.release()


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves.
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=512
    )
    # NORMAL is durable across application crashes in WAL mode; an OS crash can lose the last
    # transactions but never corrupts the file (https://www.sqlite.org/wal.html).
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    # 32 MiB of page cache each (the default is 2 MiB): index pages of a large store stay in
    # the process instead of being re-read from the OS on every request.
    conn.execute("PRAGMA cache_size=-32768")
    return conn


# --------------------------------------------------------------------------- PostgreSQL

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


class _Compiled:
    __slots__ = ("names", "sql")

    def __init__(self, sql: str, names: list[str]) -> None:
        self.sql = sql
        self.names = names


_compiled_cache: dict[str, _Compiled] = {}


def to_positional(sql: str) -> _Compiled:
    """Rewrite `:name` parameters as asyncpg's `$n` (cached per statement text)."""
    compiled = _compiled_cache.get(sql)
    if compiled is None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        compiled = _Compiled(_NAMED.sub(number, sql), names)
        _compiled_cache[sql] = compiled
    return compiled


class _PgTransaction:
    dialect = "postgresql"

    def __init__(self, conn: Any, *, read: bool = False) -> None:
        self._conn = conn
        self._read = read  # no transaction around the statements (PostgresDatabase.transaction)
        self.snapshot_transaction: Any = None

    def _args(self, sql: str, params: Params | None) -> tuple[str, list[Any]]:
        compiled = to_positional(sql)
        params = params or {}
        return compiled.sql, [params[name] for name in compiled.names]

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        text, args = self._args(sql, params)
        try:
            row: Row | None = await self._conn.fetchrow(text, *args)
        except Exception as exc:  # UPDATE … RETURNING, SELECT … FOR UPDATE
            raise _pg_error(exc) from exc
        return row

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        text, args = self._args(sql, params)
        try:
            rows: list[Row] = await self._conn.fetch(text, *args)
        except Exception as exc:
            raise _pg_error(exc) from exc
        return rows

    async def fetch_val(self, sql: str, params: Params | None = None) -> Any:
        text, args = self._args(sql, params)
        try:
            return await self._conn.fetchval(text, *args)
        except Exception as exc:  # INSERT … RETURNING
            raise _pg_error(exc) from exc

    async def execute(self, sql: str, params: Params | None = None) -> int:
        text, args = self._args(sql, params)
        try:
            status: str = await self._conn.execute(text, *args)
        except Exception as exc:
            raise _pg_error(exc) from exc
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        compiled = to_positional(sql)
        try:
            await self._conn.executemany(
                compiled.sql, [[row[name] for name in compiled.names] for row in rows]
            )
        except Exception as exc:
            raise _pg_error(exc) from exc

    async def fetch_one_memo(self, sql: str, params: Params) -> Row | None:
        # No cheap "has anything been committed" here; the primary-key read is the memo.
        return await self.fetch_one(sql, params)

    def for_update(self) -> str:
        return " FOR UPDATE"

    async def snapshot(self) -> None:
        if self._read and self.snapshot_transaction is None:
            self.snapshot_transaction = self._conn.transaction(
                isolation="repeatable_read", readonly=True
            )
            await self.snapshot_transaction.start()


def _pg_error(exc: Exception) -> Exception:
    import asyncpg

    if isinstance(exc, asyncpg.UniqueViolationError):
        return UniqueViolation(str(exc))
    if isinstance(exc, asyncpg.DeadlockDetectedError | asyncpg.SerializationError):
        return TransientConflict(str(exc))
    return exc


def asyncpg_dsn(url: str) -> str:
    return re.sub(r"^postgresql(\+\w+)?://", "postgresql://", url)


# How long a statement waits for a row or table lock before it fails (SQLite's busy timeout),
# and a request for a pooled connection. Unbounded, one row locked elsewhere (an operator's
# session, a stalled process) held every connection of the pool in waiting requests, and then
# every request of the server waited too, GET /me included: a hung server, not an error.
LOCK_TIMEOUT = 10.0
ACQUIRE_TIMEOUT = 30.0


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, pool: Any, *, acquire_timeout: float = ACQUIRE_TIMEOUT) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        min_size: int = 2,
        max_size: int = 20,
        lock_timeout: float = LOCK_TIMEOUT,
        acquire_timeout: float = ACQUIRE_TIMEOUT,
    ) -> PostgresDatabase:
        import asyncpg

        pool = await asyncpg.create_pool(
            asyncpg_dsn(url), min_size=min_size, max_size=max_size, statement_cache_size=512,
            server_settings={"lock_timeout": str(int(lock_timeout * 1000))},
        )  # fmt: skip
        return cls(pool, acquire_timeout=acquire_timeout)

    @asynccontextmanager
    async def transaction(
        self, *, write: bool = False, bulk: bool = False, background: bool = False
    ) -> AsyncIterator[Transaction]:
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            if not write:
                # A read is its statements, each seeing the latest commit: exactly what a READ
                # COMMITTED transaction around them would see, minus its BEGIN and COMMIT round
                # trips (half of those of a GET served from its document). A rendering made
                # of several queries asks for one snapshot (Transaction.snapshot).
                tx = _PgTransaction(conn, read=True)
                try:
                    yield tx
                finally:
                    if tx.snapshot_transaction is not None:
                        await tx.snapshot_transaction.rollback()  # read only: nothing to keep
                return
            try:
                async with conn.transaction():
                    yield _PgTransaction(conn)
            except Exception as exc:  # COMMIT can fail as a statement can
                translated = _pg_error(exc)
                if translated is exc:
                    raise
                raise translated from exc

    async def close(self) -> None:
        await self._pool.close()


async def connect(url: str) -> Database:
    if url.startswith("postgresql"):
        return await PostgresDatabase.connect(url)
    return SqliteDatabase(sqlite_path(url))
