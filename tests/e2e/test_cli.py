"""The `parley` administration commands, driven in-process against a temporary SQLite store."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from parley.api.app import create_app
from parley.cli import app, mask_url, migration_graph
from parley.config import Settings
from parley.db.database import SqliteDatabase
from tests.e2e.servers import TOKEN_RE, run_cli


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PARLEY_DATABASE_URL", raising=False)
    monkeypatch.delenv("PARLEY_DATA_DIR", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "data"


def parley(data_dir: Path, *args: str, code: int = 0, stdin: str | None = None) -> str:
    """Run a command; assert its exit status; its stdout (and stderr) as one string."""
    result = CliRunner().invoke(app, [*args, "--data-dir", str(data_dir)], input=stdin)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == code, f"exit {result.exit_code}: {output}\n{result.exception!r}"
    if code != 0:
        assert "Traceback" not in output
    return output


def only_token(output: str) -> str:
    tokens = TOKEN_RE.findall(output)
    assert len(tokens) == 1, output
    return str(tokens[0])


def me(data_dir: Path, token: str) -> tuple[int, dict[str, Any]]:
    """GET /me from the app served over the store the CLI wrote."""

    async def call() -> httpx.Response:
        db = SqliteDatabase(data_dir / "parley.db")
        served = create_app(Settings(data_dir=data_dir), db=db)
        try:
            transport = httpx.ASGITransport(app=served)
            async with httpx.AsyncClient(transport=transport, base_url="http://parley.test") as c:
                return await c.get("/me", headers={"Authorization": f"Bearer {token}"})
        finally:
            await db.close()

    response = asyncio.run(call())
    return response.status_code, response.json()


def test_workspace_admin_team_token_lifecycle(data_dir: Path) -> None:
    assert "No workspaces yet." in parley(data_dir, "workspaces", "list")
    out = parley(
        data_dir,
        "workspaces",
        "create",
        "Acme",
        "--owner-email",
        "ann@acme.test",
        "--owner-name",
        "Ann Acme",
        "--default-version",
        "2.11",
    )
    owner_token = only_token(out)
    workspace_id = re.search(r"id ([a-z0-9]{8})", out).group(1)  # type: ignore[union-attr]
    owner_id = int(re.search(r"is admin (\d+)", out).group(1))  # type: ignore[union-attr]

    listing = parley(data_dir, "workspaces", "list")
    assert workspace_id in listing
    assert "Acme" in listing
    assert "2.11" in listing

    # --workspace may be omitted: there is exactly one.
    out = parley(
        data_dir,
        "admins",
        "create",
        "--name",
        "Bob Builder",
        "--email",
        "bob@acme.test",
        "--job-title",
        "Support",
    )
    bob = int(re.search(r"Created admin (\d+)", out).group(1))  # type: ignore[union-attr]
    admins = parley(data_dir, "admins", "list", "--workspace", "Acme")
    assert "ann@acme.test" in admins
    assert "bob@acme.test" in admins
    assert "Support" in admins
    assert "operator+bot" not in admins  # the workspace's bot is not a teammate

    out = parley(
        data_dir,
        "teams",
        "create",
        "--name",
        "Tier 1",
        "--member",
        str(owner_id),
        "--member",
        str(bob),
        "--workspace",
        workspace_id,
    )
    team_id = int(re.search(r"Created team (\d+)", out).group(1))  # type: ignore[union-attr]
    teams = parley(data_dir, "teams", "list")
    assert re.search(rf"{team_id}\s*│\s*Tier 1\s*│\s*{owner_id}, {bob}", teams), teams

    out = parley(data_dir, "tokens", "create", "--admin", str(bob), "--name", "bob-laptop")
    bob_token = only_token(out)
    assert bob_token != owner_token

    tokens = parley(data_dir, "tokens", "list")
    assert "bob-laptop" in tokens
    assert "bootstrap" in tokens
    assert bob_token not in tokens
    assert owner_token not in tokens
    assert bob_token[:8] + "…" in tokens
    bob_token_id = int(re.search(r"(\d+)\s*│[^\n]*bob-laptop", tokens).group(1))  # type: ignore[union-attr]

    status, body = me(data_dir, bob_token)
    assert status == 200
    assert body["email"] == "bob@acme.test"
    assert body["team_ids"] == [team_id]

    assert f"Revoked access token {bob_token_id}." in parley(
        data_dir, "tokens", "revoke", str(bob_token_id)
    )
    assert re.search(rf"{bob_token_id}\s*│[^\n]*revoked", parley(data_dir, "tokens", "list"))
    status, body = me(data_dir, bob_token)
    assert status == 401
    assert body["errors"] == [{"code": "unauthorized", "message": "Access Token Invalid"}]
    assert me(data_dir, owner_token)[0] == 200  # other tokens are untouched

    err = parley(data_dir, "tokens", "revoke", str(bob_token_id), code=1)
    assert f"no active access token with id {bob_token_id}" in err


def test_errors_are_one_line_and_exit_non_zero(data_dir: Path) -> None:
    err = parley(data_dir, "admins", "create", "--name", "X", "--email", "x@x.test", code=1)
    assert "no workspace yet" in err
    parley(data_dir, "workspaces", "create", "One")
    parley(data_dir, "workspaces", "create", "Two")
    err = parley(data_dir, "admins", "create", "--name", "X", "--email", "x@x.test", code=1)
    assert "there are 2 workspaces; pick one with --workspace" in err
    err = parley(data_dir, "tokens", "create", "--admin", "1", "--workspace", "Nope", code=1)
    assert "no workspace with id or name 'Nope'" in err
    err = parley(data_dir, "tokens", "create", "--admin", "999", "--workspace", "One", code=1)
    assert "no admin 999 in workspace" in err
    parley(data_dir, "admins", "create", "-w", "One", "--name", "X", "--email", "x@x.test")
    err = parley(
        data_dir, "admins", "create", "-w", "One", "--name", "X", "--email", "x@x.test", code=1
    )
    assert "an admin with email x@x.test already exists" in err
    err = parley(data_dir, "teams", "create", "-w", "Two", "--name", "T", "--member", "2", code=1)
    assert "no admin 2 in workspace" in err  # admin 2 is One's owner: workspaces are isolated
    err = parley(data_dir, "workspaces", "create", "Three", "--default-version", "9.9", code=2)
    assert "--default-version / PARLEY_DEFAULT_VERSION" in err
    assert "unknown Intercom API" in err
    # Lists span every workspace when none is named.
    listing = parley(data_dir, "admins", "list")
    assert listing.count("owner@example.com") == 2


def test_env_settings_are_validated_and_flags_override_them(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PARLEY_PORT", "not-a-port")
    err = parley(data_dir, "serve", code=2)
    assert "--port / PARLEY_PORT" in err
    monkeypatch.delenv("PARLEY_PORT")
    assert "unknown log level" in parley(data_dir, "serve", "--log-level", "loud", code=2)
    # A database URL that cannot be parsed is one line too (it was a long traceback), and its
    # password is not in it.
    for url in ("postgresql+asyncpg://u:s3cr3t@127.0.0.1:notaport/x",
                "postgresql+asyncpg://u:s3cr3t@[::1/x",
                "postgresql+asyncpg://u:s3cr3t@127.0.0.1:99999/x"):  # fmt: skip
        for command in (["serve"], ["db", "upgrade"], ["workspaces", "list"]):
            err = parley(data_dir, *command, "--database-url", url, code=2)
            assert "PARLEY_DATABASE_URL is not a valid URL" in err, (command, url)
            assert len(set(err.strip().splitlines())) == 1, err  # output and stderr: one line
            assert "s3cr3t" not in err

    elsewhere = tmp_path / "from-env"
    monkeypatch.setenv("PARLEY_DATA_DIR", str(elsewhere))
    parley(data_dir, "workspaces", "create", "Flagged")  # --data-dir beats PARLEY_DATA_DIR
    assert (data_dir / "parley.db").exists()
    assert not elsewhere.exists()


def test_db_commands(data_dir: Path) -> None:
    assert "No database yet" in parley(data_dir, "db", "current")
    _, heads = migration_graph()
    out = parley(data_dir, "db", "upgrade")
    assert "empty (no Parley schema)" in out
    assert "(head)" in out
    out = parley(data_dir, "db", "current")
    assert "up to date" in out
    assert all(head in out for head in heads)

    parley(data_dir, "workspaces", "create", "Doomed")
    # Downgrading can delete data, so it asks first.
    assert "Aborted" in parley(data_dir, "db", "downgrade", "base", stdin="n\n", code=1)
    out = parley(data_dir, "db", "downgrade", "base", "--yes")
    assert "empty (no Parley schema)" in out
    assert "behind: run `parley db upgrade`" in parley(data_dir, "db", "current")
    err = parley(data_dir, "db", "upgrade", "no-such-revision", code=1)
    assert "Can't locate revision identified by 'no-such-revision'" in err
    # The embedded store is upgraded by any command that needs it.
    assert "No workspaces yet." in parley(data_dir, "workspaces", "list")


def test_version_and_help() -> None:
    runner = CliRunner()
    version = runner.invoke(app, ["version"])
    assert version.exit_code == 0
    assert re.fullmatch(
        r"parley \d+\.\d+\.\d+\S* \(Intercom API 2\.14 by default\)\n", version.output
    )
    assert runner.invoke(app, ["--version"]).output == version.output
    listing = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    for command in ("serve", "db", "workspaces", "admins", "teams", "tokens", "version"):
        assert re.search(rf"│ {command}\s", listing), listing


def test_console_script_and_module_entry_points() -> None:
    result = run_cli(["version"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("parley ")


def test_database_urls_are_printed_without_passwords() -> None:
    assert (
        mask_url("postgresql+asyncpg://parley:s3cr3t@db.internal:5432/parley")
        == "postgresql+asyncpg://parley:***@db.internal:5432/parley"
    )
    assert (
        mask_url("postgresql://postgres@127.0.0.1/test") == "postgresql://postgres@127.0.0.1/test"
    )
    assert mask_url("sqlite:////tmp/x/parley.db") == "sqlite:////tmp/x/parley.db"
    assert mask_url("postgresql://:s3cr3t@db/p") == "postgresql://:***@db/p"
    assert mask_url("postgresql://u:se@cr@t@db/p") == "postgresql://u:***@db/p"
    assert (
        mask_url("postgresql://u@db/p?sslmode=require&password=s3cr3t&application_name=x")
        == "postgresql://u@db/p?sslmode=require&password=***&application_name=x"
    )
    assert mask_url("postgresql://db/p?PASSWORD=s3cr3t") == "postgresql://db/p?PASSWORD=***"
    # In a message: each URL masked, nothing else touched.
    assert (
        mask_url("database error (postgresql://a:b@h/d): could not reach a:b@h")
        == "database error (postgresql://a:***@h/d): could not reach a:b@h"
    )


def test_set_the_default_version_of_a_workspace(data_dir: Path) -> None:
    out = parley(data_dir, "workspaces", "create", "Versioned")
    token = only_token(out)
    calls: list[httpx.Response] = []

    async def unassigned_value() -> Any:
        db = SqliteDatabase(data_dir / "parley.db")
        served = create_app(Settings(data_dir=data_dir), db=db)
        headers = {"Authorization": f"Bearer {token}"}
        try:
            transport = httpx.ASGITransport(app=served)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://parley.test", headers=headers
            ) as client:
                created = await client.post("/contacts", json={"email": f"v{len(calls)}@x.test"})
                calls.append(created)
                assert created.status_code == 200, created.text
                contact = created.json()
                started = await client.post(
                    "/conversations",
                    json={"from": {"type": "user", "id": contact["id"]}, "body": "hi"},
                )
                conversation_id = started.json()["conversation_id"]
                return (await client.get(f"/conversations/{conversation_id}")).json()[
                    "admin_assignee_id"
                ]
        finally:
            await db.close()

    assert asyncio.run(unassigned_value()) is None  # 2.14: unassigned is null
    assert "now defaults to Intercom API version 2.16" in parley(
        data_dir, "workspaces", "set-version", "2.16"
    )
    assert asyncio.run(unassigned_value()) == 0  # 2.16: unassigned is 0
    assert "2.16" in parley(data_dir, "workspaces", "list")
    out = parley(data_dir, "workspaces", "set-version", "9.9", code=1)
    assert "unknown Intercom API version" in out


def test_migrations_run_in_a_child_that_takes_alembic_with_it(tmp_path: Path) -> None:
    """A server that migrates its store as it starts must not keep Alembic and SQLAlchemy
    (~30 MB it would hold for life): the migrations run in a forked child."""
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    script = (
        "import sys\n"
        "from parley.cli import prepare_schema, schema_state\n"
        f"prepare_schema({url!r}, migrate=False)\n"
        f"print(schema_state({url!r}).at_head, 'alembic' in sys.modules,"
        " 'sqlalchemy' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "False"]


def test_a_failed_migration_is_one_line_and_the_schema_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.cli import CliError, prepare_schema, schema_state
    from parley.db import migrate

    def broken(url: str, revision: str = "head") -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(migrate, "upgrade", broken)  # the forked child inherits it
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    with pytest.raises(CliError, match=r"database error \(sqlite:.*\): RuntimeError: boom"):
        prepare_schema(url, migrate=False)
    assert schema_state(url).current == set()


def _tables(path: Path) -> set[str]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    conn.close()
    return {name for (name,) in rows}


def test_a_migration_that_fails_halfway_leaves_the_sqlite_store_as_it_was(
    tmp_path: Path,
) -> None:
    """The sqlite3 driver begins a transaction only before INSERT/UPDATE/DELETE, so each CREATE
    of a migration was committed on its own: an upgrade that failed (or was killed: a first
    start stopped by its supervisor) left tables without their revision, and every later start
    failed on "table ... already exists" for good. An upgrade is one transaction."""
    import sqlite3

    from parley.cli import CliError, prepare_schema, schema_state

    path = tmp_path / "parley.db"
    with sqlite3.connect(path) as conn:  # what a late migration (0004) creates, in its way
        conn.execute("CREATE TABLE conversation_attributes (x INTEGER)")
    conn.close()
    url = f"sqlite:///{path}"
    with pytest.raises(CliError, match="conversation_attributes already exists"):
        prepare_schema(url, migrate=False)
    assert schema_state(url).current == set()
    assert _tables(path) == {"conversation_attributes"}  # nothing of the upgrade was kept

    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE conversation_attributes")
    conn.close()
    prepare_schema(url, migrate=False)  # the next start migrates the store from scratch
    assert schema_state(url).at_head


def test_two_processes_migrating_a_new_store_at_once_both_succeed(tmp_path: Path) -> None:
    """Two servers (or a server and `parley db upgrade`) started together on a new store both
    saw an empty schema and both migrated it; the slower one failed on "table ... already
    exists". The second upgrade waits for the first and finds the schema at head."""
    data = tmp_path / "data"
    command = [sys.executable, "-m", "parley", "db", "upgrade", "--data-dir", str(data)]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr
    current = run_cli(["db", "current", "--data-dir", str(data)])
    assert current.returncode == 0, current.stderr
    (head,) = migration_graph()[1]
    assert head in current.stdout
