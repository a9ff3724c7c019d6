"""What is kept of an access token besides its hash: a hint that gives nothing away."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from parley.db import migrate
from parley.db.tokens import hint_of
from parley.kit.ids import IdFactory


def test_a_hint_is_at_most_eight_characters_and_a_quarter_of_the_token() -> None:
    generated = IdFactory(1).access_token()
    assert hint_of(generated) == generated[:8]  # prl_ and 4 of its 40 random characters
    assert hint_of("t0k") == ""
    assert hint_of("bench-token") == "be"
    assert hint_of("a-chosen-token-of-32-characters!") == "a-chosen"


async def test_the_migration_blanks_hints_of_tokens_parley_did_not_generate(
    tmp_path: Path,
) -> None:
    path = tmp_path / "parley.db"
    url = f"sqlite:///{path}"
    await asyncio.to_thread(migrate.upgrade, url, "0009_ids_never_reused")
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO workspaces (id, name, default_version, timezone, region, created_at)"
        " VALUES ('w', 'w', '2.14', 'UTC', 'us', 0)"
    )
    conn.execute(
        "INSERT INTO admins (workspace_id, kind, name, email, away_mode_enabled,"
        " away_mode_reassign, has_inbox_seat, created_at)"
        " VALUES ('w', 'admin', 'A', 'a@x.org', 0, 0, 1, 0)"
    )
    for n, hint in enumerate(["t0k", "bench-to", "prl_Ab3x"]):
        conn.execute(
            "INSERT INTO access_tokens (workspace_id, admin_id, name, token_hash, token_hint,"
            " created_at) VALUES ('w', 1, :name, :hash, :hint, 0)",
            {"name": f"t{n}", "hash": f"h{n}", "hint": hint},
        )
    conn.commit()
    conn.close()
    await asyncio.to_thread(migrate.upgrade, url)
    conn = sqlite3.connect(path)
    hints = [r[0] for r in conn.execute("SELECT token_hint FROM access_tokens ORDER BY id")]
    conn.close()
    assert hints == ["", "", "prl_Ab3x"]
