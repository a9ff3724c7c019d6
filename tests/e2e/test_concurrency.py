"""Many writers, one conversation: 50 replies sent at once over 50 separate connections to real
`parley serve` processes (one process, and two processes sharing one SQLite file), on SQLite and
PostgreSQL, with 10 failing replies among them. Every reply must be stored exactly once, in one
order that every response agrees with, the counters must add up, and the failures (which on
SQLite share their transaction with the others: group commit) must leave nothing behind."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.contract.openapi import validate_response
from tests.e2e.conftest import fresh_postgres_database
from tests.e2e.servers import ServerProcess, run_cli, serving

pytestmark = pytest.mark.slow

TOKEN = "concurrency-token-0123456789abcdef"
REPLIES = 50


@pytest.fixture(params=["sqlite-1-process", "sqlite-2-processes", "postgresql-2-processes"])
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ServerProcess]]:
    kind: str = request.param
    if kind.startswith("sqlite"):
        store = ["--data-dir", str(tmp_path_factory.mktemp("concurrency") / "data")]
    else:
        store = ["--database-url", fresh_postgres_database("_e2e_concurrency")]
    count = 1 if kind.endswith("1-process") else 2
    with serving([*store, "--bootstrap-token", TOKEN, "--migrate"]) as first:
        first.wait_ready(TOKEN)
        if count == 1:
            yield [first]
            return
        with serving([*store, "--bootstrap-token", TOKEN]) as second:
            second.wait_ready(TOKEN)
            yield [first, second]


async def _setup(base_url: str) -> tuple[str, str, str]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
        admin_id = (await http.get("/me")).json()["id"]
        contact = (await http.post("/contacts", json={"email": "many@example.com"})).json()
        started = await http.post(
            "/conversations", json={"from": {"type": "user", "id": contact["id"]}, "body": "hi"}
        )
        assert started.status_code == 200, started.text
        return admin_id, contact["id"], started.json()["conversation_id"]


async def _reply(base_url: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    # A client of its own per request: 50 separate TCP connections.
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    ) as http:
        response = await http.post(path, json=payload)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _refused(base_url: str, path: str, payload: dict[str, Any]) -> None:
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    ) as http:
        response = await http.post(path, json=payload)
    assert response.status_code == 404, response.text
    assert response.json()["errors"][0]["code"] == "admin_not_found"


async def _storm(servers: list[ServerProcess]) -> None:
    admin_id, contact_id, conversation_id = await _setup(servers[0].base_url)
    path = f"/conversations/{conversation_id}/reply"
    payloads: list[dict[str, Any]] = []
    for n in range(REPLIES):
        if n % 2 == 0:
            payloads.append(
                {
                    "message_type": "comment",
                    "type": "admin",
                    "admin_id": admin_id,
                    "body": f"admin {n}",
                }
            )
        else:
            payloads.append(
                {
                    "message_type": "comment",
                    "type": "user",
                    "intercom_user_id": contact_id,
                    "body": f"contact {n}",
                }
            )
    # Replies by an admin who does not exist: each fails after its conversation was loaded.
    failing = [
        {"message_type": "comment", "type": "admin", "admin_id": "999999", "body": f"lost {n}"}
        for n in range(10)
    ]
    replies = [
        _reply(servers[n % len(servers)].base_url, path, payload)
        for n, payload in enumerate(payloads)
    ]
    refusals = [
        _refused(servers[n % len(servers)].base_url, path, payload)
        for n, payload in enumerate(failing)
    ]
    # Interleaved, so that failures land in the middle of the writes around them.
    mixed = [c for pair in zip(replies[::5], refusals, strict=False) for c in pair]
    mixed += [c for n, c in enumerate(replies) if n % 5]
    outcomes = await asyncio.gather(*mixed)
    responses = [o for o in outcomes if o is not None]
    order = [n for n in range(0, REPLIES, 5)] + [n for n in range(REPLIES) if n % 5]
    payloads = [payloads[n] for n in order]

    async with httpx.AsyncClient(
        base_url=servers[-1].base_url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as http:
        final = (await http.get(f"/conversations/{conversation_id}")).json()

    parts = final["conversation_parts"]["conversation_parts"]
    bodies = [p["body"] for p in parts]
    # Every reply stored exactly once.
    assert sorted(bodies) == sorted(f"<p>{p['body']}</p>" for p in payloads)
    assert final["conversation_parts"]["total_count"] == REPLIES
    assert final["statistics"]["count_conversation_parts"] == REPLIES
    # One order: ids increase along the list, and every response saw a prefix of that order
    # ending with its own part (its writer held the conversation alone).
    ids = [int(p["id"]) for p in parts]
    assert ids == sorted(ids)
    final_order = [p["id"] for p in parts]
    for payload, response in zip(payloads, responses, strict=True):
        seen = [p["id"] for p in response["conversation_parts"]["conversation_parts"]]
        assert seen == final_order[: len(seen)]
        assert response["conversation_parts"]["conversation_parts"][-1]["body"] == (
            f"<p>{payload['body']}</p>"
        )
        assert response["conversation_parts"]["total_count"] == len(seen)
    # The derived state agrees with the stored order.
    last_author = parts[-1]["author"]["type"]
    assert (final["waiting_since"] is None) == (last_author == "admin")
    assert final["teammates"]["admins"] == [{"type": "admin", "id": admin_id}]
    assert final["state"] == "open"


def test_fifty_concurrent_replies_to_one_conversation(servers: list[ServerProcess]) -> None:
    asyncio.run(_storm(servers))


async def _mixed(servers: list[ServerProcess]) -> None:
    """Writers that lock the same rows in opposite orders (a contact's reply locks the
    conversation, then updates its contact; a contact rename updates the contact, then retires
    the conversations showing it), with GETs that render and keep the document: PostgreSQL
    broke such lock cycles by failing one side (a 500 before these were retried), and a GET
    could keep a rendering of a revision a writer had just replaced."""
    admin_id, contact_id, conversation_id = await _setup(servers[0].base_url)
    path = f"/conversations/{conversation_id}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    clients = [httpx.AsyncClient(base_url=s.base_url, headers=headers, timeout=60) for s in servers]
    try:
        for round_number in range(3):
            calls = []
            for n in range(8):
                http = clients[n % len(clients)]
                calls.append(http.post(f"{path}/reply", json={
                    "message_type": "comment", "type": "user", "intercom_user_id": contact_id,
                    "body": f"round {round_number} contact {n}"}))  # fmt: skip
                calls.append(http.post(f"{path}/reply", json={
                    "message_type": "note", "type": "admin", "admin_id": admin_id,
                    "body": f"round {round_number} note {n}"}))  # fmt: skip
                rename = {"name": f"C{round_number}{n}"}
                calls.append(http.put(f"/contacts/{contact_id}", json=rename))
                calls.append(http.get(path))
            responses = await asyncio.gather(*calls)
            assert [r.status_code for r in responses] == [200] * len(responses), [
                r.text for r in responses if r.status_code != 200
            ]
            for response in responses:
                request = response.request
                validate_response(request.method, request.url.path, 200, response.json())
        # Every process serves what a rendering from the rows gives now (2.13: same model).
        for http in clients:
            stored = _checked("GET", path, await http.get(path))
            from_rows = await http.get(path, headers={"Intercom-Version": "2.13"})
            fresh = _checked("GET", path, from_rows)
            assert stored == fresh
            assert stored["conversation_parts"]["total_count"] == 48
    finally:
        for http in clients:
            await http.aclose()


def test_opposite_lock_orders_and_keeping_readers_never_fail_or_go_stale(
    servers: list[ServerProcess],
) -> None:
    asyncio.run(_mixed(servers))


def _checked(method: str, path: str, response: httpx.Response) -> Any:
    """The response's JSON, validated against the official description of its operation."""
    assert response.status_code == 200, response.text
    body = response.json()
    validate_response(method, path.split("?")[0], response.status_code, body)
    return body


def test_a_write_through_one_process_is_read_at_once_through_another(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Two processes on one SQLite file: each keeps a read snapshot open while nothing commits
    (db/database.py, _SqliteReader), so a commit by the other must end it before the next read.
    Every GET right after a reply through the other process shows that reply, the document
    included (the fast path), and the list count follows creations at once."""
    store = ["--data-dir", str(tmp_path_factory.mktemp("snapshots") / "data")]
    with serving([*store, "--bootstrap-token", TOKEN, "--migrate"]) as writer:
        writer.wait_ready(TOKEN)
        with serving([*store, "--bootstrap-token", TOKEN]) as reader:
            reader.wait_ready(TOKEN)
            admin_id, _, conversation_id = asyncio.run(_setup(writer.base_url))
            headers = {"Authorization": f"Bearer {TOKEN}"}
            path = f"/conversations/{conversation_id}"
            _checked("GET", path, reader.get(path, TOKEN))  # the reader's snapshot is open
            for n in range(20):
                _checked(
                    "POST", f"{path}/reply",
                    writer.http.post(
                        f"{path}/reply", headers=headers,
                        json={"message_type": "note", "type": "admin", "admin_id": admin_id,
                              "body": f"note {n}"},
                    ),
                )  # fmt: skip
                seen = _checked("GET", path, reader.get(path, TOKEN))
                assert seen["conversation_parts"]["total_count"] == n + 1
                assert seen["conversation_parts"]["conversation_parts"][-1]["body"] == (
                    f"<p>note {n}</p>"
                )
                _checked(
                    "POST", "/conversations",
                    writer.http.post(
                        "/conversations", headers=headers,
                        json={"from": {"type": "user", "id": seen["source"]["author"]["id"]},
                              "body": f"another {n}"},
                    ),
                )  # fmt: skip
                listed = _checked(
                    "GET", "/conversations", reader.get("/conversations?per_page=1", TOKEN)
                )
                assert listed["total_count"] == n + 2


_OPEN_AND_CLOSE = """
import sqlite3, sys
for _ in range(int(sys.argv[2])):
    other = sqlite3.connect(sys.argv[1], timeout=10)
    other.execute("SELECT count(*) FROM conversation_parts").fetchall()
    other.close()
"""


def test_a_serving_store_opened_by_other_processes_meanwhile(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The CLI, a backup or a second server open a live store. Each one, alone in its process,
    first asks SQLite whether anyone else has the store open; a server that had dropped its lock
    on the -shm file (db/database.py, _WalIndexMaps) was taken for gone, the -shm was rebuilt
    under it, and it died of SIGBUS within a few opens. Here a server takes notes while another
    process opens and closes the store 40 times and the CLI runs twice: it answers every note,
    and every note is stored once."""
    data = tmp_path_factory.mktemp("opened") / "data"
    with serving(["--data-dir", str(data), "--bootstrap-token", TOKEN]) as server:
        server.wait_ready(TOKEN)
        admin_id, _, conversation_id = asyncio.run(_setup(server.base_url))
        path = f"/conversations/{conversation_id}/reply"
        stop = threading.Event()
        answered: list[int] = []
        failures: list[Exception] = []

        def take_notes() -> None:
            with httpx.Client(base_url=server.base_url, timeout=30) as http:
                while not stop.is_set():
                    try:
                        response = http.post(
                            path, headers={"Authorization": f"Bearer {TOKEN}"},
                            json={"message_type": "note", "type": "admin", "admin_id": admin_id,
                                  "body": f"note {len(answered)}"},
                        )  # fmt: skip
                    except httpx.TransportError as exc:
                        failures.append(exc)  # the server is gone
                        return
                    try:
                        _checked("POST", path, response)
                    except AssertionError as exc:
                        failures.append(exc)
                        return
                    answered.append(response.status_code)

        notes = threading.Thread(target=take_notes)
        notes.start()
        try:
            opener = subprocess.run(
                [sys.executable, "-c", _OPEN_AND_CLOSE, str(data / "parley.db"), "40"],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            listed = [run_cli(["admins", "list", "--data-dir", str(data)]) for _ in range(2)]
        finally:
            stop.set()
            notes.join(60)
        assert server.proc.poll() is None, server.describe()
        assert failures == []
        assert opener.returncode == 0, opener.stderr
        for result in listed:
            assert result.returncode == 0, result.stderr
        assert len(answered) > 0
        seen = _checked("GET", f"/conversations/{conversation_id}",
                        server.get(f"/conversations/{conversation_id}", TOKEN))  # fmt: skip
        assert seen["conversation_parts"]["total_count"] == len(answered)


def test_the_cli_and_a_second_server_do_not_wait_for_a_serving_stores_readers(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A server keeps a read snapshot open while reads come, and its snooze timer's scan (every
    second) used to count as one, so the snapshot stayed for good. Every process that closed
    the store meanwhile waited for it in a TRUNCATE checkpoint until its 10 s busy timeout: a
    CLI command took 20 s (it closes the store twice), a second server 20 s to start. Here
    both run while the first server answers a stream of GETs, and after it has gone quiet."""
    data = tmp_path_factory.mktemp("readers") / "data"
    store = ["--data-dir", str(data)]
    with serving([*store, "--bootstrap-token", TOKEN]) as server:
        server.wait_ready(TOKEN)
        _, _, conversation_id = asyncio.run(_setup(server.base_url))
        path = f"/conversations/{conversation_id}"
        stop = threading.Event()
        failures: list[Exception] = []

        def read_on() -> None:
            with httpx.Client(base_url=server.base_url, timeout=30) as http:
                while not stop.is_set():
                    try:
                        _checked("GET", path, http.get(path, headers={
                            "Authorization": f"Bearer {TOKEN}"}))  # fmt: skip
                    except (AssertionError, httpx.TransportError) as exc:
                        failures.append(exc)
                        return
                    time.sleep(0.01)

        reads = threading.Thread(target=read_on)
        reads.start()
        try:
            time.sleep(0.5)
            started = time.monotonic()
            listed = run_cli(["admins", "list", *store])
            under_reads = time.monotonic() - started
            started = time.monotonic()
            with serving([*store, "--bootstrap-token", TOKEN]) as second:
                second.wait_ready(TOKEN)
                second_ready = time.monotonic() - started
        finally:
            stop.set()
            reads.join(60)
        time.sleep(3)  # the server's reads have stopped; its timer scans on
        started = time.monotonic()
        quiet = run_cli(["admins", "list", *store])
        after_reads = time.monotonic() - started
        assert failures == []
        for result in (listed, quiet):
            assert result.returncode == 0, result.stderr
        assert under_reads < 5
        assert second_ready < 5
        assert after_reads < 5
