"""`parley serve` as a user runs it: a real process on a free port."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.contract.openapi import validate_response
from tests.e2e.servers import TOKEN_RE, free_port, run_cli, serving

pytestmark = pytest.mark.slow

STARTUP_BUDGET = 2.0  # seconds from spawning `parley serve` to its first 200
STOP_BUDGET = 15.0  # seconds from SIGTERM to exit, a stalled client notwithstanding


def test_first_start_prints_a_working_token_once_and_restart_keeps_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(["--data-dir", str(data)]) as server:
        token = server.wait_for_token()
        server.wait_ready(token)
        out = server.stdout
        assert server.base_url in out
        assert f'curl -s {server.base_url}/me -H "Authorization: Bearer {token}"' in out
        assert token not in server.stderr  # printed for the user, never logged
        me = server.get("/me", token).json()
        assert me["email"] == "owner@example.com"
        assert me["app"]["name"] == "My Workspace"
        workspace_id = me["app"]["id_code"]
    assert (data / "parley.db").exists()

    with serving(["--data-dir", str(data)]) as server:
        server.wait_ready(token)  # the first token survives the restart
        assert server.get("/me", token).json()["app"]["id_code"] == workspace_id
        assert not TOKEN_RE.search(server.stdout + server.stderr)  # no second token
        assert "1 workspace(s)" in server.stdout


def test_bootstrap_token_is_honoured_never_printed_and_revocable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first, second = "ci-token-" + "a" * 20, "ci-token-" + "b" * 20
    with serving(["--data-dir", str(data), "--bootstrap-token", first]) as server:
        server.wait_ready(first)
        owner = server.get("/me", first).json()
        assert "--bootstrap-token" in server.stdout
        assert "$PARLEY_TOKEN" in server.stdout
    assert first not in server.stdout + server.stderr
    assert not TOKEN_RE.search(server.stdout)  # nothing was generated

    # On a store with workspaces, a new bootstrap token (here from the environment twin) is
    # added for the first workspace's owner; the old one keeps working.
    with serving(["--data-dir", str(data)], env={"PARLEY_BOOTSTRAP_TOKEN": second}) as server:
        server.wait_ready(second)
        assert server.get("/me", second).json()["id"] == owner["id"]
        assert server.get("/me", first).status_code == 200
        assert "bootstrap token added" in server.stdout
        assert second not in server.stdout + server.stderr

        # Revoking through the CLI while the server runs takes effect at once.
        listing = run_cli(["tokens", "list", "--data-dir", str(data)])
        second_id = re.findall(r"^│ (\d+)\s*│", listing.stdout, re.MULTILINE)[-1]
        revoked = run_cli(["tokens", "revoke", second_id, "--data-dir", str(data)])
        assert revoked.returncode == 0, revoked.stderr
        response = server.get("/me", second)
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "unauthorized"

    # A revoked bootstrap token is not silently reinstated: serve refuses to start.
    with serving(["--data-dir", str(data), "--bootstrap-token", second]) as server:
        assert server.wait_exit() == 1
        assert "bootstrap token was revoked" in server.stderr
        assert "Traceback" not in server.stderr


def _startup_time(tmp_path: Path, attempt: int) -> tuple[float, float]:
    """Seconds from spawn to the first 200 on a first start (schema created) and on a restart."""
    data = tmp_path / f"data-{attempt}"
    token = "startup-timing-token"
    with serving(["--data-dir", str(data), "--bootstrap-token", token]) as server:
        first_start = server.wait_ready(token)
    with serving(["--data-dir", str(data)]) as server:
        restart = server.wait_ready(token)
    return first_start, restart


def test_answers_its_first_request_within_two_seconds(tmp_path: Path) -> None:
    """Best of three attempts, so that one burst of load from a neighbour on a shared machine
    does not fail the run; a start-up that is slow every time does."""
    timings = []
    for attempt in range(3):
        timings.append(_startup_time(tmp_path, attempt))
        if all(seconds < STARTUP_BUDGET for seconds in timings[-1]):
            break
    best_first = min(first for first, _ in timings)
    best_restart = min(restart for _, restart in timings)
    report = ", ".join(f"first start {a:.2f}s / restart {b:.2f}s" for a, b in timings)
    assert best_first < STARTUP_BUDGET, report
    assert best_restart < STARTUP_BUDGET, report


def test_flags_override_environment_and_logging_is_quiet(tmp_path: Path) -> None:
    from_env, from_flag = tmp_path / "env-dir", tmp_path / "flag-dir"
    port = free_port()
    env = {"PARLEY_PORT": str(port), "PARLEY_DATA_DIR": str(from_env), "PARLEY_LOG_LEVEL": "info"}
    token = "quiet-token-0123456789"
    # No --port: PARLEY_PORT applies. --data-dir beats PARLEY_DATA_DIR; --log-level beats
    # PARLEY_LOG_LEVEL.
    with serving(["--data-dir", str(from_flag), "--bootstrap-token", token, "--log-level",
                  "warning"], env=env, port=port) as server:  # fmt: skip
        server.wait_ready(token)
        for _ in range(3):
            assert server.get("/admins", token).status_code == 200
    assert (from_flag / "parley.db").exists()
    assert not from_env.exists()
    assert "INFO" not in server.stderr  # --log-level warning
    assert "GET /admins" not in server.stdout + server.stderr  # no access log by default

    with serving(["--data-dir", str(from_flag), "--access-log"]) as server:
        server.wait_ready(token)
        assert server.get("/admins", token).status_code == 200
    assert '"GET /admins HTTP/1.1" 200' in server.stdout  # uvicorn logs access to stdout
    assert token not in server.stdout + server.stderr  # the access log has no headers


def test_serve_on_postgresql_requires_migration(tmp_path: Path, e2e_postgres_url: str) -> None:
    url = e2e_postgres_url
    token = "pg-bootstrap-token-0123456789"
    args = ["--database-url", url, "--bootstrap-token", token]
    # A PostgreSQL schema belongs to its operator: serve does not migrate it unasked.
    with serving(args) as server:
        assert server.wait_exit() == 1
    assert "parley db upgrade" in server.stderr
    assert "--migrate" in server.stderr
    assert "Traceback" not in server.stderr
    listing = run_cli(["workspaces", "list", "--database-url", url])
    assert listing.returncode == 1
    assert "parley db upgrade" in listing.stderr

    upgraded = run_cli(["db", "upgrade", "--database-url", url])
    assert upgraded.returncode == 0, upgraded.stderr
    assert "(head)" in upgraded.stdout
    with serving(args) as server:
        server.wait_ready(token)
        me = server.get("/me", token).json()
        assert "PostgreSQL" in server.stdout
    assert not (tmp_path / "parley-data").exists()

    created = run_cli(["admins", "create", "--name", "Pat", "--email", "pat@pg.test",
                       "--database-url", url])  # fmt: skip
    assert created.returncode == 0, created.stderr
    with serving(["--database-url", url]) as server:  # restart keeps data
        server.wait_ready(token)
        assert server.get("/me", token).json()["app"]["id_code"] == me["app"]["id_code"]
        emails = [a["email"] for a in server.get("/admins", token).json()["admins"]]
        assert emails == ["owner@example.com", "pat@pg.test"]


def test_serve_on_postgresql_with_migrate_flag(e2e_postgres_url: str) -> None:
    # The plain postgresql:// scheme works too. A password (ignored by `trust` authentication,
    # added when the URL has none) must never be printed.
    parts = re.match(r"^postgresql(?:\+\w+)?://([^:@/]+)(?::([^@/]*))?@(.+)$", e2e_postgres_url)
    assert parts, e2e_postgres_url
    user, secret, rest = parts.group(1), parts.group(2) or "hunter2", parts.group(3)
    url = f"postgresql://{user}:{secret}@{rest}"
    token = "pg-migrate-token-0123456789"
    with serving(["--database-url", url, "--bootstrap-token", token, "--migrate"]) as server:
        server.wait_ready(token)
        assert server.get("/me", token).status_code == 200
    assert secret not in server.stdout + server.stderr
    assert f"{user}:***@" in server.stdout
    current = run_cli(["db", "current", "--database-url", url])
    assert current.returncode == 0
    assert "up to date" in current.stdout
    assert secret not in current.stdout


def test_a_busy_port_is_reported_before_the_store_is_touched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with serving(["--data-dir", str(data)], port=port) as server:
            assert server.wait_exit() == 1
    assert f"cannot listen on 127.0.0.1:{port}" in server.stderr
    assert "Traceback" not in server.stderr
    assert not TOKEN_RE.search(server.stdout)
    assert not data.exists()


@contextmanager
def _half_a_contact(port: int, token: str) -> Iterator[None]:
    """A connection that has sent a POST /contacts with a third of its declared body."""
    body = b'{"email": "half@example.com"}'
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(
            b"POST /contacts HTTP/1.1\r\nHost: parley\r\n"
            + f"Authorization: Bearer {token}\r\n".encode()
            + b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        yield


def test_a_client_stalled_mid_request_does_not_keep_sigterm_from_stopping_the_server(
    tmp_path: Path,
) -> None:
    """uvicorn waits for every request in progress before it stops; one whose client sent half
    of its body and then nothing (a dead peer, a slow or hung client) kept `parley serve`
    running after SIGTERM for as long as that client held on: closed to new connections,
    never exiting. Past a grace period the request is given up (nothing of it written) and the
    server stops."""
    data = tmp_path / "data"
    token = "stalled-client-token-0123456789"
    with serving(["--data-dir", str(data), "--bootstrap-token", token]) as server:
        server.wait_ready(token)
        with _half_a_contact(server.port, token):  # and stalls
            time.sleep(0.5)  # the request is being read
            stopped_at = time.monotonic()
            server.proc.terminate()
            try:
                server.proc.wait(STOP_BUDGET)
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running {STOP_BUDGET}s after SIGTERM")
            assert time.monotonic() - stopped_at < STOP_BUDGET
    assert "timeout graceful shutdown exceeded" in server.stderr  # uvicorn's words
    listed = run_cli(["tokens", "list", "--data-dir", str(data)])  # the store opens cleanly
    assert listed.returncode == 0, listed.stderr


def test_a_client_gone_mid_body_is_not_an_error(tmp_path: Path) -> None:
    """A client that closes its connection before its body has arrived: nothing is written,
    the server goes on, and its log says so at INFO (it used to be an ERROR with a traceback,
    which trips error alerting for something no server can prevent)."""
    data = tmp_path / "data"
    token = "gone-client-token-0123456789abcd"
    with serving(["--data-dir", str(data), "--bootstrap-token", token,
                  "--log-level", "info"]) as server:  # fmt: skip
        server.wait_ready(token)
        with _half_a_contact(server.port, token):  # then goes
            time.sleep(0.3)  # the request is being read
        deadline = time.monotonic() + 5
        while "client disconnected mid-request" not in server.stderr + server.stdout:
            assert time.monotonic() < deadline, server.describe()
            time.sleep(0.05)
        listed = server.get("/contacts", token)
        assert listed.status_code == 200
        validate_response("GET", "/contacts", 200, listed.json())
        assert listed.json()["total_count"] == 0
    assert "Traceback" not in server.stderr
    assert "unhandled error" not in server.stderr
