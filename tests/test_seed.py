"""`parley seed` (parley.seed.run): a small store whose full-text index agrees with its bodies and
whose conversations render and search like any others."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from parley import seed as seeding
from parley.db import conversations as conversation_store
from parley.db.database import SqliteDatabase
from parley.domain import statistics as stats
from parley.kit.clock import FrozenClock
from parley.kit.ids import IdFactory
from parley.render.version import VERSIONS
from parley.services import search, timekeeping
from parley.services.context import Context
from tests.factories import seed_store


def _words(html_body: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", re.sub(r"<[^>]*>", " ", html_body).lower()))


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_seeded_store_is_searchable(tmp_path: Path, backend: str) -> None:
    done = await seed_store(
        tmp_path / "parley.db",
        conversations=300,
        contacts=50,
        admins=3,
        teams=2,
        seed=5,
        span_days=30,
    )
    assert done.conversations == 300
    db = SqliteDatabase(tmp_path / "parley.db")
    try:
        async with db.transaction() as tx:
            rows = await tx.fetch_all("SELECT id, source_body, state FROM conversations")
            states = {r["state"] for r in rows}
            ctx = Context(FrozenClock(0), IdFactory(0), done.workspace_id, done.owner_admin_id)
            for word in ("invoice", "refund", "password"):
                page = await search.conversations(
                    tx, ctx, query={"field": "source.body", "operator": "=", "value": word},
                    per_page=150, starting_after=None, version=VERSIONS["2.14"],
                )  # fmt: skip
                expected = {int(r["id"]) for r in rows if word in _words(r["source_body"])}
                assert page.total_count == len(expected)
                assert {int(v.row["id"]) for v in page.items} <= expected
            parts = await tx.fetch_val(
                "SELECT COUNT(*) FROM conversation_parts WHERE body IS NOT NULL"
            )
            indexed = await tx.fetch_val(
                "SELECT COUNT(*) FROM conversation_part_fts WHERE conversation_part_fts MATCH :q",
                {"q": " OR ".join(f'"{w}"' for w in seeding.WORDS)},
            )
            custom = await tx.fetch_val(
                "SELECT COUNT(*) FROM conversations WHERE custom_attributes <> '{}'"
            )
            visible = await tx.fetch_val(
                "SELECT COUNT(*) FROM conversations WHERE workspace_id = :ws AND visible",
                {"ws": done.workspace_id},
            )
            kept = await conversation_store.count_visible(tx, done.workspace_id)
    finally:
        await db.close()
    assert states == {"open", "closed", "snoozed"}
    assert indexed == parts  # every body is made of the seed's words: all of them are indexed
    assert custom > 0
    assert kept == visible  # the bulk load recounted the kept count of the list's total_count


async def test_seeded_statistics_are_what_the_services_compute(tmp_path: Path) -> None:
    """Each seeded conversation's statistics equal what services/timekeeping.account computes
    when it replays the conversation's stored history (its source message and its parts, as the
    service reads them back: authors, assignments, team names, sides) — the path the service
    takes for a conversation without a tally or with a backdated part."""
    done = await seed_store(
        tmp_path / "parley.db", conversations=400, contacts=40, admins=4, teams=3, seed=11
    )
    db = SqliteDatabase(tmp_path / "parley.db")
    try:
        async with db.transaction() as tx:
            rows = await tx.fetch_all("SELECT id, statistics FROM conversations ORDER BY id")
            hours = await timekeeping.office_hours(tx, done.workspace_id)
            seen: set[str] = set()
            for row in rows:
                stored = orjson.loads(row["statistics"])
                history = await timekeeping._history(tx, int(row["id"]))
                replayed = stats.compute(history, hours).statistics()
                assert orjson.loads(orjson.dumps(replayed)) == stored, row["id"]
                seen.update(stored)
    finally:
        await db.close()
    # The seeded histories reach every kind of statistic the fold records.
    for key in (
        "first_contact_reply_at", "first_admin_reply_at", "time_to_admin_reply",
        "median_time_to_reply", "first_close_at", "time_to_last_close", "count_reopens",
        "count_assignments", "handling_time", "assigned_team_first_response_time",
        "last_closed_by_id", "count_conversation_parts",
    ):  # fmt: skip
        assert key in seen, key
