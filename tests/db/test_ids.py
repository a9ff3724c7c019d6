"""Integer ids are never handed out twice on SQLite (migration 0009: AUTOINCREMENT), on a new
store and on a populated one brought up from 0008. PostgreSQL's sequences never reuse an id;
the API-level race this prevents is in tests/api/test_conversation_documents.py."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from parley.db import migrate
from tests.factories import seed_store

TABLES = ("conversations", "conversation_parts", "tags", "messages", "admins")


def _newest_id_after_deleting_the_newest(path: Path, table: str) -> tuple[int, int]:
    """Delete the table's newest row (with its dependants), insert a copy of another row with
    a fresh id, roll back; returns (the deleted id, the id the copy got)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        newest = conn.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0]
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})") if row[1] != "id"]
        listed = ", ".join(columns)
        conn.execute(
            f"CREATE TEMP TABLE copy AS SELECT {listed} FROM {table} WHERE id = ?", (newest,)
        )
        conn.execute(f"DELETE FROM {table} WHERE id = ?", (newest,))
        conn.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM copy")
        given = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
        conn.execute("ROLLBACK")
        return int(newest), int(given)
    finally:
        conn.close()


def _layout(path: Path) -> tuple[dict[str, int], list[str], list[tuple[str, int]]]:
    conn = sqlite3.connect(path)
    try:
        counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
        indexes = sorted(
            str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        )
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        sequences = conn.execute("SELECT name, seq FROM sqlite_sequence ORDER BY name").fetchall()
        return counts, indexes, sequences
    finally:
        conn.close()


async def test_a_populated_store_keeps_its_rows_and_indexes_and_stops_reusing_ids(
    tmp_path: Path,
) -> None:
    path = tmp_path / "parley.db"
    url = f"sqlite:///{path}"
    await seed_store(path, conversations=60, contacts=20, admins=3, teams=2, seed=5)
    counts, indexes, _ = _layout(path)
    assert all(counts.values()), counts

    await asyncio.to_thread(migrate.downgrade, url, "0008_part_words_by_conversation")
    assert _layout(path)[:2] == (counts, indexes)
    for table in TABLES:  # what 0008 did: the newest id went to the next row
        deleted, given = _newest_id_after_deleting_the_newest(path, table)
        assert given == deleted, table

    await asyncio.to_thread(migrate.upgrade, url)
    after, indexes_after, sequences = _layout(path)
    assert (after, indexes_after) == (counts, indexes)
    conn = sqlite3.connect(path)
    newest = {t: conn.execute(f"SELECT MAX(id) FROM {t}").fetchone()[0] for t in TABLES}
    conn.close()
    assert {name: seq for name, seq in sequences if name in TABLES} == newest
    for table in TABLES:
        deleted, given = _newest_id_after_deleting_the_newest(path, table)
        assert given == deleted + 1, table
