"""The snooze timer in real `parley serve` processes: it fires with no request arriving, a
controlled clock advanced past a snooze fires it at once, a restart in between still opens it
once, and two processes on one PostgreSQL database open each conversation once."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import fresh_postgres_database
from tests.e2e.servers import ServerProcess, run_cli, serving

pytestmark = pytest.mark.slow

TOKEN = "timers-token-0123456789abcdef0123"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
# The background scan only at start-up, so that each firing is the clock endpoint's (countable).
QUIET = {"PARLEY_TIMER_INTERVAL": "3600"}


def _call(server: ServerProcess, method: str, path: str, body: Any = None) -> dict[str, Any]:
    response = server.http.request(method, path, json=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _snoozed_conversation(server: ServerProcess, email: str, seconds: int) -> str:
    admin_id = _call(server, "GET", "/me")["id"]
    contact = _call(server, "POST", "/contacts", {"email": email})
    started = _call(server, "POST", "/conversations",
                    {"from": {"type": "user", "id": contact["id"]}, "body": "hi"})  # fmt: skip
    cid = str(started["conversation_id"])
    now = _call(server, "GET", "/_parley/clock")["now"]
    snoozed = _call(server, "POST", f"/conversations/{cid}/parts",
                    {"message_type": "snoozed", "admin_id": admin_id,
                     "snoozed_until": now + seconds})  # fmt: skip
    assert snoozed["state"] == "snoozed"
    return cid


def _opens(server: ServerProcess, cid: str) -> list[dict[str, Any]]:
    conversation = _call(server, "GET", f"/conversations/{cid}")
    parts = conversation["conversation_parts"]["conversation_parts"]
    return [p for p in parts if p["part_type"] == "open"]


def _sqlite(tmp_path: Path) -> list[str]:
    return ["--data-dir", str(tmp_path / "data"), "--bootstrap-token", TOKEN]


def test_the_timer_fires_without_requests(tmp_path: Path) -> None:
    with serving(_sqlite(tmp_path)) as server:
        server.wait_ready(TOKEN)
        cid = _snoozed_conversation(server, "idle@example.com", 2)
        time.sleep(4)  # nobody asks anything meanwhile
        opens = _opens(server, cid)
        assert len(opens) == 1
        assert opens[0]["author"]["type"] == "bot"


def test_advancing_the_controlled_clock_fires_at_once_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    args = [*_sqlite(tmp_path), "--controlled-clock"]
    with serving(args, env=QUIET) as server:
        server.wait_ready(TOKEN)
        _call(server, "POST", "/_parley/clock", {"frozen": True})
        cid = _snoozed_conversation(server, "one@example.com", 3600)
        later = _snoozed_conversation(server, "two@example.com", 7200)
        fired = _call(server, "POST", "/_parley/clock", {"advance": 3601})
        assert fired["snoozes_opened"] == 1
        assert len(_opens(server, cid)) == 1
        assert _opens(server, later) == []
    # Restart: the snooze lives in the database, the clock starts at the system time again.
    with serving(args, env=QUIET) as server:
        server.wait_ready(TOKEN)
        assert _call(server, "GET", f"/conversations/{later}")["state"] == "snoozed"
        fired = _call(server, "POST", "/_parley/clock", {"advance": 7201})
        assert fired["snoozes_opened"] == 1
        assert len(_opens(server, later)) == 1
        assert len(_opens(server, cid)) == 1
        assert _call(server, "POST", "/_parley/clock", {"advance": 86400})["snoozes_opened"] == 0


def test_two_processes_on_one_postgresql_open_each_conversation_once() -> None:
    url = fresh_postgres_database("_e2e_timers")
    store = ["--database-url", url, "--bootstrap-token", TOKEN, "--controlled-clock"]
    with serving([*store, "--migrate"], env=QUIET) as first:
        first.wait_ready(TOKEN)
        with serving(store, env=QUIET) as second:
            second.wait_ready(TOKEN)
            for server in (first, second):
                _call(server, "POST", "/_parley/clock", {"frozen": True})
            ids = [_snoozed_conversation(first, f"c{n}@example.com", 600) for n in range(12)]
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                results = list(pool.map(
                    lambda s: httpx.post(f"{s.base_url}/_parley/clock", json={"advance": 3600},
                                         headers=HEADERS, timeout=60).json(),
                    [first, second],
                ))  # fmt: skip
            assert sum(r["snoozes_opened"] for r in results) == len(ids)
            for cid in ids:
                assert len(_opens(second, cid)) == 1, cid
                assert _call(first, "GET", f"/conversations/{cid}")["state"] == "open"


def test_office_hours_cli(tmp_path: Path) -> None:
    store = ["--data-dir", str(tmp_path / "data")]
    assert run_cli(["workspaces", "create", "Acme", *store]).returncode == 0
    done = run_cli(["office-hours", "set", "--time-zone", "Europe/Berlin",
                    "--day", "weekdays=09:00-12:00,13:00-17:00", *store])  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = run_cli(["office-hours", "show", *store])
    assert "Europe/Berlin" in shown.stdout
    assert "09:00-12:00, 13:00-17:00" in shown.stdout
    assert "closed" in shown.stdout  # the weekend
    bad = run_cli(["office-hours", "set", "--time-zone", "Mars/Olympus", *store])
    assert bad.returncode == 1
    assert "unknown time zone" in bad.stderr
    cleared = run_cli(["office-hours", "clear", *store])
    assert "always open" in cleared.stdout
