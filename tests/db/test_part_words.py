"""The part words of the SQLite full-text index, keyed by conversation (db/fulltext.py,
part_key; migration 0008): the keys each write produces, their removal on redaction and
deletion, and the migration that re-keys a populated store (and back)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from parley.db import fulltext, migrate
from parley.db.database import SqliteDatabase
from parley.kit.clock import FrozenClock
from parley.kit.ids import IdFactory
from parley.render.version import VERSIONS
from parley.services import search
from parley.services.context import Context
from parley.services.workspaces import CreatedWorkspace
from tests.conftest import ValidatingClient
from tests.factories import create_contact, seed_store


def test_part_key_is_injective_and_bounded() -> None:
    assert fulltext.part_key(1, 0) == 1 << 32
    assert fulltext.part_key(7, 3) >> fulltext.PART_BITS == 7
    keys = {fulltext.part_key(c, n) for c in (1, 2, 2**31 - 1) for n in (0, 1, 2**32 - 1)}
    assert len(keys) == 9
    assert max(keys) < 2**63  # a signed 64-bit rowid
    for conversation, ordinal in ((2**31, 0), (1, 2**32), (-1, 0), (1, -1)):
        with pytest.raises(ValueError, match="no full-text key"):
            fulltext.part_key(conversation, ordinal)


async def _keys(db: SqliteDatabase, word: str) -> list[int]:
    async with db.transaction() as tx:
        rows = await tx.fetch_all(
            "SELECT rowid FROM conversation_part_fts WHERE conversation_part_fts MATCH :w"
            " ORDER BY rowid",
            {"w": f'"{word}"'},
        )
    return [int(r["rowid"]) for r in rows]


async def _post(api: ValidatingClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_writes_key_part_words_by_conversation_and_ordinal(
    api: ValidatingClient,
    db: SqliteDatabase,
    workspace: CreatedWorkspace,
    clock: FrozenClock,
    ids: IdFactory,
) -> None:
    contact = await create_contact(db, workspace, ids, clock, email="k@example.com")
    owner = str(workspace.owner_admin_id)

    async def start() -> int:
        clock.advance(10)
        created = await _post(
            api, "/conversations", {"from": {"type": "user", "id": contact}, "body": "hello"}
        )
        return int(created["conversation_id"])

    async def reply(cid: int, body: str) -> str:
        clock.advance(5)
        done = await _post(
            api,
            f"/conversations/{cid}/reply",
            {"message_type": "comment", "type": "admin", "admin_id": owner, "body": body},
        )
        parts: list[dict[str, Any]] = done["conversation_parts"]["conversation_parts"]
        return str(parts[-1]["id"])

    async def found(word: str) -> list[int]:
        response = await api.post(
            "/conversations/search",
            json={"query": {"field": "conversation_parts.body", "operator": "=", "value": word}},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total_count"] == len(body["conversations"])
        return sorted(int(c["id"]) for c in body["conversations"])

    first, second = await start(), await start()
    # Parts of the two conversations interleave in the parts table; each is numbered within
    # its own conversation (the source message is no part).
    await reply(first, "alpha shared")  # first: part 0
    await reply(second, "beta shared")  # second: part 0
    redacted = await reply(first, "gamma shared")  # first: part 1
    await reply(first, "delta shared")  # first: part 2
    key = fulltext.part_key
    assert await _keys(db, "shared") == [
        key(first, 0), key(first, 1), key(first, 2), key(second, 0),
    ]  # fmt: skip
    assert await _keys(db, "gamma") == [key(first, 1)]
    assert await found("shared") == sorted([first, second])

    await _post(
        api, "/conversations/redact",
        {"type": "conversation_part", "conversation_id": str(first),
         "conversation_part_id": redacted},
    )  # fmt: skip
    assert await _keys(db, "gamma") == []
    assert await _keys(db, "shared") == [key(first, 0), key(first, 2), key(second, 0)]
    # A part written after a redaction still takes the next ordinal (redacted parts count).
    await reply(first, "epsilon")
    assert await _keys(db, "epsilon") == [key(first, 3)]
    assert await found("epsilon") == [first]

    response = await api.delete(f"/conversations/{first}")
    assert response.status_code == 200, response.text
    assert await _keys(db, "shared") == [key(second, 0)]
    for word in ("alpha", "delta", "epsilon"):
        assert await _keys(db, word) == []
    assert await found("shared") == [second]


def _words(body: str | None) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", re.sub(r"<[^>]*>", " ", body or "").lower()))


async def test_migration_rekeys_a_populated_store_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    done = await seed_store(
        tmp_path / "parley.db", conversations=200, contacts=30, admins=3, teams=2, seed=3
    )
    db = SqliteDatabase(tmp_path / "parley.db")
    try:
        async with db.transaction(write=True) as tx:
            # A redacted part: it keeps its ordinal but has no words.
            await tx.execute(
                "UPDATE conversation_parts SET redacted = :r"
                " WHERE id = (SELECT MIN(id) FROM conversation_parts WHERE body IS NOT NULL)",
                {"r": True},
            )
            parts = await tx.fetch_all(
                "SELECT id, conversation_id, body, redacted FROM conversation_parts ORDER BY id"
            )
    finally:
        await db.close()
    ordinal: dict[int, int] = {}
    expected_new: dict[str, set[int]] = {}
    expected_old: dict[str, set[int]] = {}
    conversations_of: dict[str, set[int]] = {}
    for part in parts:
        cid = int(part["conversation_id"])
        n = ordinal.get(cid, 0)
        ordinal[cid] = n + 1
        if part["redacted"]:
            continue
        for word in _words(part["body"]):
            expected_new.setdefault(word, set()).add(fulltext.part_key(cid, n))
            expected_old.setdefault(word, set()).add(int(part["id"]))
            conversations_of.setdefault(word, set()).add(cid)
    words = (
        sorted(expected_new, key=lambda w: -len(expected_new[w]))[:3]
        + [w for w in expected_new if len(expected_new[w]) == 1][:2]
    )

    # The seeded store (with a part redacted behind the index's back) at 0007: keyed by part id.
    await asyncio.to_thread(migrate.downgrade, url, "0007_document_rowid")
    db = SqliteDatabase(tmp_path / "parley.db")
    try:
        for word in words:
            assert set(await _keys(db, word)) == expected_old[word], word
    finally:
        await db.close()

    await asyncio.to_thread(migrate.upgrade, url)
    db = SqliteDatabase(tmp_path / "parley.db")
    try:
        for word in words:
            assert set(await _keys(db, word)) == expected_new[word], word
        async with db.transaction() as tx:
            ctx = Context(FrozenClock(0), IdFactory(0), done.workspace_id, done.owner_admin_id)
            for word in words:
                page = await search.conversations(
                    tx, ctx, query={"field": "conversation_parts.body", "operator": "=",
                                    "value": word},
                    per_page=150, starting_after=None, version=VERSIONS["2.14"],
                )  # fmt: skip
                visible = {
                    int(r["id"])
                    for r in await tx.fetch_all("SELECT id FROM conversations WHERE visible")
                }
                expected = conversations_of[word] & visible
                assert page.total_count == len(expected), word
                assert {int(v.row["id"]) for v in page.items} <= expected
            index = await tx.fetch_val(
                "SELECT COUNT(*) FROM sqlite_master"
                " WHERE name = 'ix_conversation_parts_id_conversation'"
            )
            assert index == 0
    finally:
        await db.close()
