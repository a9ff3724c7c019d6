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
import logging
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

Params = Mapping[str, Any]
log = logging.getLogger("parley.db")


class UniqueViolation(Exception):
    """A write broke a unique constraint (the loser of a race the service's check cannot see)."""


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

    def for_update(self) -> str:
        """The row-lock suffix for a SELECT: ` FOR UPDATE` on PostgreSQL, nothing on SQLite
        (where the write transaction already holds the database lock)."""
        ...


class Database(Protocol):
    dialect: str

    def transaction(self, *, write: bool = False) -> Any:  # an async context manager
        ...

    async def close(self) -> None: ...


# --------------------------------------------------------------------------- SQLite


class _SqliteTransaction:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # Rows become plain dicts, built here once per result set: sqlite3.Row looks names up by a
    # linear case-insensitive scan (it dominated rendering a 40-column conversation), and a
    # row_factory would rebuild cursor.description for every row.

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        cursor = self._conn.execute(sql, params or {})
        values = cursor.fetchone()
        if values is None:
            return None
        return dict(zip([d[0] for d in cursor.description], values, strict=True))

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        cursor = self._conn.execute(sql, params or {})
        rows = cursor.fetchall()
        if not rows:
            return []
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in rows]

    async def fetch_val(self, sql: str, params: Params | None = None) -> Any:
        try:
            values = self._conn.execute(sql, params or {}).fetchone()
        except sqlite3.IntegrityError as exc:  # INSERT … RETURNING
            raise _integrity(exc) from exc
        return None if values is None else values[0]

    async def execute(self, sql: str, params: Params | None = None) -> int:
        try:
            return self._conn.execute(sql, params or {}).rowcount
        except sqlite3.IntegrityError as exc:
            raise _integrity(exc) from exc

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise _integrity(exc) from exc

    def for_update(self) -> str:
        return ""


def _integrity(exc: sqlite3.IntegrityError) -> Exception:
    if "UNIQUE" in str(exc):
        return UniqueViolation(str(exc))
    return exc


def sqlite_path(url: str) -> Path:
    # sqlite:///relative/or/absolute ; sqlite+pysqlite:////abs also accepted
    path = re.sub(r"^sqlite(\+\w+)?:///", "", url)
    return Path(path)


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, cached_statements=512
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across application crashes in WAL mode; an OS crash can lose the last
        # transactions but never corrupts the file (https://www.sqlite.org/wal.html).
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=10000")
        # 32 MiB of page cache (the default is 2 MiB): index pages of a large store stay in
        # the process instead of being re-read from the OS on every write.
        self._conn.execute("PRAGMA cache_size=-32768")
        # Checkpoints (copying the WAL back into the database file, with an fsync) run in a
        # thread of their own, not inside whichever request's COMMIT crossed the threshold: on a
        # large store that commit took tens of milliseconds and stalled the event loop with it.
        self._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = _Checkpointer(path)
        # A transaction that awaits something real would let another request interleave on the
        # same connection; the lock makes that impossible. Uncontended, it costs no loop turn.
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self, *, write: bool = False) -> AsyncIterator[Transaction]:
        async with self._lock:
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield _SqliteTransaction(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    async def close(self) -> None:
        self._checkpointer.stop()
        self._conn.close()


class _Checkpointer:
    """Checkpoints the WAL from a background thread with its own connection.

    PASSIVE checkpoints never block readers or writers; a writer starts the WAL over once a
    checkpoint has copied all of it. A last TRUNCATE checkpoint on stop leaves a small file."""

    INTERVAL = 0.5  # seconds between checkpoints

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while not self._stopping.wait(self.INTERVAL):
                self._checkpoint(conn, "PASSIVE")
            self._checkpoint(conn, "TRUNCATE")
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection, mode: str) -> None:
        try:
            conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        except sqlite3.Error:
            log.warning("WAL checkpoint of %s failed; will retry", self._path, exc_info=True)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)


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

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def _args(self, sql: str, params: Params | None) -> tuple[str, list[Any]]:
        compiled = to_positional(sql)
        params = params or {}
        return compiled.sql, [params[name] for name in compiled.names]

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        text, args = self._args(sql, params)
        row: Row | None = await self._conn.fetchrow(text, *args)
        return row

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        text, args = self._args(sql, params)
        rows: list[Row] = await self._conn.fetch(text, *args)
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
        await self._conn.executemany(
            compiled.sql, [[row[name] for name in compiled.names] for row in rows]
        )

    def for_update(self) -> str:
        return " FOR UPDATE"


def _pg_error(exc: Exception) -> Exception:
    import asyncpg

    if isinstance(exc, asyncpg.UniqueViolationError):
        return UniqueViolation(str(exc))
    return exc


def asyncpg_dsn(url: str) -> str:
    return re.sub(r"^postgresql(\+\w+)?://", "postgresql://", url)


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, url: str, *, min_size: int = 2, max_size: int = 20) -> PostgresDatabase:
        import asyncpg

        pool = await asyncpg.create_pool(
            asyncpg_dsn(url), min_size=min_size, max_size=max_size, statement_cache_size=512
        )
        return cls(pool)

    @asynccontextmanager
    async def transaction(self, *, write: bool = False) -> AsyncIterator[Transaction]:
        async with self._pool.acquire() as conn, conn.transaction(readonly=not write):
            yield _PgTransaction(conn)

    async def close(self) -> None:
        await self._pool.close()


async def connect(url: str) -> Database:
    if url.startswith("postgresql"):
        return await PostgresDatabase.connect(url)
    return SqliteDatabase(sqlite_path(url))
