"""The `parley` command: serve the API, and administer workspaces, admins, teams and tokens.

The CLI is an edge like the HTTP API: each command builds Settings (flags override PARLEY_*
environment variables), opens one transaction, calls services, commits, and renders the result
with Rich. Errors print one clear line and exit non-zero, never a traceback.

Start-up time is a feature (`parley serve` answers its first request within 2 seconds), so this
module imports only Typer and Rich at the top; every command imports what it needs, and the
schema check reads the migration graph with `ast` instead of importing Alembic (which is only
loaded when there is something to migrate).
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

if TYPE_CHECKING:
    from parley.config import Settings
    from parley.db.database import Row, Transaction
    from parley.services.workspaces import Bootstrap

T = TypeVar("T")

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")

app = typer.Typer(
    name="parley",
    help="Parley: a self-hosted implementation of Intercom's Conversations REST API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema: upgrade, downgrade, current revision.")
workspaces_app = typer.Typer(help="Workspaces (Intercom apps): create, list, set-version.")
admins_app = typer.Typer(help="Admins (teammates): create, list.")
teams_app = typer.Typer(help="Teams: create, list.")
tokens_app = typer.Typer(help="Access tokens: create, list, revoke.")
office_hours_app = typer.Typer(help="Office hours of a workspace: show, set, clear.")
for _sub, _name in (
    (db_app, "db"),
    (workspaces_app, "workspaces"),
    (admins_app, "admins"),
    (teams_app, "teams"),
    (tokens_app, "tokens"),
    (office_hours_app, "office-hours"),
):
    app.add_typer(_sub, name=_name, no_args_is_help=True)


def _out() -> Console:
    # Created per use so that whatever sys.stdout is at the time (a pipe, CliRunner) is honoured.
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


class CliError(Exception):
    """A failure to report to the user as one line, with exit status 1."""


def _fail(message: str, *, status: int = 1) -> NoReturn:
    _err().print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(status)


# A password in a URL's user part (it may contain `@`: up to the last `@` before the host),
# and one given as a query parameter (libpq and asyncpg accept `?password=`).
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*):[^/\s]*@")
_QUERY_PASSWORD = re.compile(r"(?i)([?&](?:password|passwd|pass|pwd|sslpassword)=)[^&\s]*")


def mask_url(text: str) -> str:
    """A database URL (or a message that contains one) fit for printing: every password in it
    is replaced by ***."""
    return _QUERY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", text))


def _database_errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    errors: list[type[BaseException]] = [OSError, sqlite3.Error]
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is not None:
        errors += [asyncpg.PostgresError, asyncpg.InterfaceError]
    # Alembic and SQLAlchemy are only loaded by migrations (`db upgrade|downgrade`, first start).
    alembic_util = sys.modules.get("alembic.util")
    if alembic_util is not None:
        errors.append(alembic_util.CommandError)
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_exc is not None:
        errors.append(sqlalchemy_exc.SQLAlchemyError)
    return tuple(errors)


@contextmanager
def _guard(url: str | None = None) -> Iterator[None]:
    """Turn every expected failure into one line on stderr and a non-zero exit."""
    from parley.errors import ParleyError

    try:
        yield
    except typer.Exit:
        raise
    except ParleyError as exc:
        _fail(exc.message)
    except CliError as exc:
        _fail(str(exc))
    except _database_errors() as exc:
        where = f" ({mask_url(url)})" if url else ""
        _fail(mask_url(f"database error{where}: {exc.__class__.__name__}: {exc}"))


def _settings(**overrides: Any) -> Settings:
    """Settings from PARLEY_* variables, overridden by the flags that were given."""
    from pydantic import ValidationError

    from parley.config import Settings

    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            field = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"--{field.replace('_', '-')} / PARLEY_{field.upper()}: {message}")
        _fail("invalid setting: " + "; ".join(problems), status=2)


# --------------------------------------------------------------------------- schema


def _versions_dir() -> Path:
    import parley

    return Path(parley.__file__).resolve().parent / "migrations" / "versions"


def migration_graph() -> tuple[set[str], set[str]]:
    """(every revision, the heads) read from the migration scripts without importing Alembic."""
    import ast

    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted(_versions_dir().glob("*.py")):
        if script.name == "__init__.py":
            continue
        values: dict[str, Any] = {}
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            target: ast.expr | None = None
            value: ast.expr | None = None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign):
                target, value = node.target, node.value
            if isinstance(target, ast.Name) and value is not None:
                if target.id in ("revision", "down_revision"):
                    values[target.id] = ast.literal_eval(value)
        if not isinstance(values.get("revision"), str):
            raise CliError(f"cannot read the revision of migration {script.name}")
        revisions.add(values["revision"])
        down = values.get("down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(str(item) for item in down)
    return revisions, revisions - parents


async def _database_revisions(url: str) -> set[str]:
    from parley.db import database

    db = await database.connect(url)
    try:
        async with db.transaction() as tx:
            if tx.dialect == "sqlite":
                exists = await tx.fetch_val(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
                )
            else:
                exists = await tx.fetch_val("SELECT to_regclass('alembic_version') IS NOT NULL")
            if not exists:
                return set()
            rows = await tx.fetch_all("SELECT version_num FROM alembic_version")
            return {str(row["version_num"]) for row in rows}
    finally:
        await db.close()


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: set[str]
    heads: set[str]
    known: set[str]

    @property
    def at_head(self) -> bool:
        return self.current == self.heads

    @property
    def unknown(self) -> set[str]:
        return self.current - self.known

    def describe(self) -> str:
        return ", ".join(sorted(self.current)) or "empty (no Parley schema)"


def schema_state(url: str) -> SchemaState:
    known, heads = migration_graph()
    return SchemaState(asyncio.run(_database_revisions(url)), heads, known)


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def prepare_schema(url: str, *, migrate: bool) -> None:
    """Make sure the schema is at head. The embedded SQLite store is always migrated; a
    PostgreSQL database only with `migrate` (its schema belongs to whoever runs it)."""
    state = schema_state(url)
    if state.at_head:
        return
    if state.unknown:
        raise CliError(
            f"the database schema is at revision {', '.join(sorted(state.unknown))}, which this "
            f"version of Parley does not know (is the database newer than Parley?)"
        )
    if not (migrate or _is_sqlite(url)):
        raise CliError(
            f"the PostgreSQL schema at {mask_url(url)} is {state.describe()}, Parley needs "
            f"{', '.join(sorted(state.heads))}. Run `parley db upgrade` with the same "
            f"PARLEY_DATABASE_URL, or start with `parley serve --migrate`"
        )
    _upgrade_apart(url)


def _upgrade_apart(url: str) -> None:
    """Run the migrations in a child process forked for them. Alembic and SQLAlchemy take ~30 MB
    that a Python process never gives back: a server that migrated its store as it started kept
    them for life (86 MB resident against 54 MB once restarted). Where there is no fork
    (Windows), in this process."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        from parley.db import migrate as migrations

        migrations.upgrade(url)
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_upgrade_child, args=(url, send), name="parley-migrate")
    child.start()
    send.close()
    child.join()
    try:
        if child.exitcode != 0:
            try:
                failure = str(receive.recv())
            except EOFError:  # it died before it could say why
                failure = f"the migrations stopped (exit status {child.exitcode})"
            raise CliError(failure)
    finally:
        receive.close()


def _upgrade_child(url: str, report: Any) -> None:
    """In the forked child: migrate; on failure send one line back and exit 1."""
    try:
        from parley.db import migrate as migrations

        migrations.upgrade(url)
    except BaseException as exc:  # every failure, reported by the parent as one line
        where = f" ({mask_url(url)})"
        report.send(mask_url(f"database error{where}: {exc.__class__.__name__}: {exc}"))
        raise SystemExit(1) from None
    finally:
        report.close()


# --------------------------------------------------------------------------- transactions


def _run(
    settings: Settings,
    work: Callable[[Transaction], Awaitable[T]],
    *,
    write: bool = True,
    migrate: bool = False,
) -> T:
    """Run `work` in one transaction, committed when it returns (the CLI owns it)."""
    url = settings.resolved_database_url

    async def go() -> T:
        from parley.db import database

        db = await database.connect(url)
        try:
            async with db.transaction(write=write) as tx:
                return await work(tx)
        finally:
            await db.close()

    with _guard(url):
        prepare_schema(url, migrate=migrate)
        return asyncio.run(go())
    raise AssertionError("unreachable")  # _guard exits on every error


def _clock_and_ids() -> tuple[Any, Any]:
    from parley.kit.clock import SystemClock
    from parley.kit.ids import IdFactory

    return SystemClock(), IdFactory()


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return ""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(timestamp), tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


# --------------------------------------------------------------------------- common options

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Directory of the embedded SQLite store. [env PARLEY_DATA_DIR; default ./parley-data]",
        show_default=False,
    ),
]
DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///path or postgresql+asyncpg://user@host/db; overrides --data-dir. "
        "[env PARLEY_DATABASE_URL]",
        show_default=False,
    ),
]
WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace id or name; may be omitted when there is exactly one.",
        show_default=False,
    ),
]


def _version_callback(value: bool) -> None:
    if value:
        version()
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_version_callback,
                     is_eager=True),
    ] = False,
) -> None:  # fmt: skip
    """Parley: a self-hosted implementation of Intercom's Conversations REST API."""


@app.command()
def version() -> None:
    """Print Parley's version and the Intercom API version it serves by default."""
    from parley import __version__
    from parley.config import DEFAULT_API_VERSION

    _out().print(f"parley {__version__} (Intercom API {DEFAULT_API_VERSION} by default)")


# --------------------------------------------------------------------------- serve


def _base_url(host: str, port: int) -> str:
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _check_port(host: str, port: int) -> None:
    """Fail before touching the store when the address cannot be bound (uvicorn binds the same
    way, with SO_REUSEADDR, right after; a race in between is reported by uvicorn itself)."""
    import socket

    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)  # fmt: skip
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        _fail(f"cannot listen on {host}:{port}: {reason}; choose another --port / PARLEY_PORT")


def _storage(settings: Settings) -> str:
    url = settings.resolved_database_url
    if _is_sqlite(url):
        from parley.db.database import sqlite_path

        return f"SQLite {sqlite_path(url)}"
    return f"PostgreSQL {mask_url(url)}"


def _print_banner(settings: Settings, outcome: Bootstrap, base_url: str) -> None:
    from parley import __version__

    out = _out()
    created = outcome.created
    if created is None:
        added = " (bootstrap token added for the first workspace's owner)"
        out.print(
            f"[bold]Parley {__version__}[/] · {outcome.workspace_count} workspace(s) · "
            f"{escape(_storage(settings))} · {base_url}"
            f"{added if outcome.token_added else ''}"
        )
        out.file.flush()
        return
    supplied = settings.bootstrap_token is not None
    lines = [
        f"Created workspace [bold]{escape(settings.workspace_name)}[/] "
        f"(id {created.workspace_id}) owned by {escape(settings.admin_name)} "
        f"<{escape(settings.admin_email)}>, admin id {created.owner_admin_id}.",
        f"Storage: {escape(_storage(settings))}",
        f"Base URL: [bold]{base_url}[/]",
        "",
    ]
    if supplied:
        lines.append("Access token: the one given with --bootstrap-token / PARLEY_BOOTSTRAP_TOKEN.")
        shown = "$PARLEY_TOKEN"
    else:
        lines += [
            "Access token (shown once, store it now):",
            f"  [bold green]{created.token}[/]",
        ]
        shown = created.token
    out.print(Panel("\n".join(lines), title="Parley is ready: first start", expand=False))
    out.print("Try it:")
    out.print(
        f'  curl -s {base_url}/me -H "Authorization: Bearer {shown}"', markup=False, soft_wrap=True
    )
    out.print("Lost the token? Create another with `parley tokens create --admin ADMIN_ID`.")
    out.file.flush()


SHUTDOWN_GRACE = 5  # seconds requests in progress get to finish after SIGTERM/SIGINT


def _log_config(level: str) -> dict[str, Any]:
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["parley"] = {
        "handlers": ["default"],
        "level": "DEBUG" if level == "trace" else level.upper(),
        "propagate": False,
    }
    return config


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind. [env PARLEY_HOST; default 127.0.0.1]",
                     show_default=False),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Port to listen on. [env PARLEY_PORT; default 8000]", show_default=False),
    ] = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
    bootstrap_token: Annotated[
        str | None,
        typer.Option(
            help="Value of the first access token, for scripts and CI; on a store that already "
            "has workspaces it is added for the first workspace's owner if new. "
            "[env PARLEY_BOOTSTRAP_TOKEN]",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(help=f"One of {', '.join(LOG_LEVELS)}. [env PARLEY_LOG_LEVEL; default info]",
                     show_default=False),
    ] = None,
    migrate: Annotated[
        bool,
        typer.Option(
            "--migrate",
            envvar="PARLEY_MIGRATE",
            help="On PostgreSQL, upgrade the schema to head before serving (the embedded SQLite "
            "store is always upgraded). [env PARLEY_MIGRATE]",
        ),
    ] = False,
    access_log: Annotated[
        bool,
        typer.Option("--access-log/--no-access-log", envvar="PARLEY_ACCESS_LOG",
                     help="Log every request. [env PARLEY_ACCESS_LOG]"),
    ] = False,
    controlled_clock: Annotated[
        bool,
        typer.Option(
            "--controlled-clock",
            help="Use a clock that GET/POST /_parley/clock can read, set, freeze and advance "
            "(development and tests); timers, statistics and SLAs follow it. "
            "[env PARLEY_CONTROLLED_CLOCK]",
        ),
    ] = False,
) -> None:  # fmt: skip
    """Serve the HTTP API; the first start creates a workspace and prints its access token."""
    settings = _settings(
        host=host, port=port, data_dir=data_dir, database_url=database_url,
        bootstrap_token=bootstrap_token, log_level=log_level,
        controlled_clock=True if controlled_clock else None,
    )  # fmt: skip
    level = settings.log_level.lower()
    if level not in LOG_LEVELS:
        _fail(
            f"unknown log level {settings.log_level!r}; use one of {', '.join(LOG_LEVELS)}",
            status=2,
        )
    if settings.bootstrap_token is not None and not settings.bootstrap_token.strip():
        # `PARLEY_BOOTSTRAP_TOKEN=` (set but empty, as compose files do) means: none.
        settings = settings.model_copy(update={"bootstrap_token": None})
    _check_port(settings.host, settings.port)
    clock, ids = _clock_and_ids()

    async def first_start(tx: Transaction) -> Bootstrap:
        from parley.services import workspaces

        return await workspaces.bootstrap(
            tx, clock=clock, ids=ids, name=settings.workspace_name,
            owner_email=settings.admin_email, owner_name=settings.admin_name,
            default_version=settings.default_version, token=settings.bootstrap_token,
        )  # fmt: skip

    outcome = _run(settings, first_start, migrate=migrate)
    _print_banner(settings, outcome, _base_url(settings.host, settings.port))
    if settings.controlled_clock:
        _out().print("Controlled clock: read, set, freeze and advance it at /_parley/clock.")

    import gc

    import uvicorn

    from parley.api.app import create_app

    app = create_app(settings)
    # What exists now (modules, routes, schemas) lives as long as the process: out of the
    # collector's sight, full collections stop re-walking it under load.
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=access_log,
        log_level=level,
        log_config=_log_config(level),
        # On SIGTERM/SIGINT uvicorn waits for the requests in progress; without a bound, one
        # whose client stalled mid-body kept the process alive (and refusing connections)
        # for as long as that client held on.
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )


# --------------------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Upgrade the schema (to head by default)."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    url = settings.resolved_database_url
    with _guard(url):
        from parley.db import migrate

        before = schema_state(url)
        migrate.upgrade(url, revision)
        after = schema_state(url)
    _out().print(
        f"Schema of {escape(_storage(settings))}: {escape(before.describe())} → "
        f"{escape(after.describe())}" + (" (head)" if after.at_head else "")
    )


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision (`base` drops everything).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Downgrade the schema to REVISION. This can delete data."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    url = settings.resolved_database_url
    if not yes:
        typer.confirm(
            f"Downgrade {_storage(settings)} to {revision}? This can delete data", abort=True
        )
    with _guard(url):
        from parley.db import migrate

        migrate.downgrade(url, revision)
        after = schema_state(url)
    _out().print(f"Schema of {escape(_storage(settings))} is now {escape(after.describe())}")


@db_app.command("current")
def db_current(data_dir: DataDirOpt = None, database_url: DatabaseUrlOpt = None) -> None:
    """Show the schema revision of the database and whether it is at head."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    url = settings.resolved_database_url
    if _is_sqlite(url):
        from parley.db.database import sqlite_path

        if not sqlite_path(url).exists():
            _out().print(f"No database yet at {sqlite_path(url)} (created by `parley serve`).")
            return
    with _guard(url):
        state = schema_state(url)
    if state.at_head:
        status = "[green]up to date[/]"
    elif state.unknown:
        status = "[red]unknown to this Parley version[/]"
    else:
        status = "[yellow]behind: run `parley db upgrade`[/]"
    _out().print(
        f"{escape(_storage(settings))}\n  current: {escape(state.describe())}\n"
        f"  head:    {', '.join(sorted(state.heads))}\n  {status}"
    )


# --------------------------------------------------------------------------- workspaces


def _print_token(token: str, what: str) -> None:
    out = _out()
    out.print(
        Panel(
            f"{escape(what)}\nAccess token (shown once, store it now):\n  [bold green]{token}[/]",
            expand=False,
        )
    )
    out.file.flush()


def _print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
                 empty: str) -> None:  # fmt: skip
    """A Rich table of `rows`, or `empty` when there are none."""
    if not rows:
        _out().print(empty)
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    _out().print(table)


async def _across_workspaces(
    tx: Transaction, ref: str | None, fetch: Callable[[Transaction, str], Awaitable[list[Any]]]
) -> list[tuple[str, Any]]:
    """`fetch` for the workspace named by --workspace, or for every workspace (listing)."""
    found: list[tuple[str, Any]] = []
    for ws in await _workspace_ids(tx, ref):
        found += [(ws, item) for item in await fetch(tx, ws)]
    return found


@workspaces_app.command("create")
def workspaces_create(
    name: Annotated[str, typer.Argument(help="Workspace name.")],
    owner_email: Annotated[
        str | None,
        typer.Option(help="Owner's email. [env PARLEY_ADMIN_EMAIL; default owner@example.com]",
                     show_default=False),
    ] = None,
    owner_name: Annotated[
        str | None,
        typer.Option(help="Owner's name. [env PARLEY_ADMIN_NAME; default Workspace Owner]",
                     show_default=False),
    ] = None,
    default_version: Annotated[
        str | None,
        typer.Option(help="Intercom API version when a request names none. "
                     "[env PARLEY_DEFAULT_VERSION; default 2.14]", show_default=False),
    ] = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:  # fmt: skip
    """Create a workspace with its owner admin and an access token (printed once)."""
    settings = _settings(
        data_dir=data_dir, database_url=database_url, admin_email=owner_email,
        admin_name=owner_name, default_version=default_version,
    )  # fmt: skip
    clock, ids = _clock_and_ids()

    async def work(tx: Transaction) -> Any:
        from parley.services import workspaces

        return await workspaces.create(
            tx, clock=clock, ids=ids, name=name, owner_email=settings.admin_email,
            owner_name=settings.admin_name, default_version=settings.default_version,
        )  # fmt: skip

    created = _run(settings, work)
    _print_token(
        created.token,
        f"Created workspace {name} (id {created.workspace_id}); owner {settings.admin_name} "
        f"<{settings.admin_email}> is admin {created.owner_admin_id}.",
    )


@workspaces_app.command("list")
def workspaces_list(data_dir: DataDirOpt = None, database_url: DatabaseUrlOpt = None) -> None:
    """List workspaces."""
    settings = _settings(data_dir=data_dir, database_url=database_url)

    async def work(tx: Transaction) -> list[Row]:
        from parley.services import workspaces

        return await workspaces.list_all(tx)

    rows = _run(settings, work, write=False)
    _print_table(
        "Workspaces", ("id", "name", "default version", "created"),
        [(str(r["id"]), str(r["name"]), str(r["default_version"]), _when(r["created_at"]))
         for r in rows],
        "No workspaces yet.",
    )  # fmt: skip


@workspaces_app.command("set-version")
def workspaces_set_version(
    version: Annotated[str, typer.Argument(help="Intercom API version, e.g. 2.14 or 2.16.")],
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Set the Intercom API version a workspace's requests get when they send no
    Intercom-Version header (the official Python SDK sends none)."""
    settings = _settings(data_dir=data_dir, database_url=database_url)

    async def work(tx: Transaction) -> str:
        from parley.services import workspaces

        return await workspaces.set_default_version(tx, workspace, version)

    workspace_id = _run(settings, work)
    _out().print(f"Workspace {workspace_id} now defaults to Intercom API version {version}.")


async def _workspace_ids(tx: Transaction, ref: str | None) -> list[str]:
    """The workspace named by --workspace, or every workspace when none is named (listing)."""
    from parley.services import workspaces

    if ref is not None:
        return [str((await workspaces.resolve(tx, ref))["id"])]
    return [str(row["id"]) for row in await workspaces.list_all(tx)]


# --------------------------------------------------------------------------- admins


@admins_app.command("create")
def admins_create(
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    email: Annotated[str, typer.Option("--email", help="Email, unique in the workspace.")],
    workspace: WorkspaceOpt = None,
    job_title: Annotated[str | None, typer.Option("--job-title", help="Job title.")] = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create an admin (teammate) in a workspace."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    clock, _ = _clock_and_ids()

    async def work(tx: Transaction) -> tuple[str, int]:
        from parley.services import admins, workspaces

        ws = str((await workspaces.resolve(tx, workspace))["id"])
        admin_id = await admins.create_admin(
            tx, clock=clock, workspace_id=ws, name=name, email=email, job_title=job_title
        )
        return ws, admin_id

    ws, admin_id = _run(settings, work)
    _out().print(f"Created admin {admin_id} ({escape(name)} <{escape(email)}>) in workspace {ws}.")


@admins_app.command("list")
def admins_list(
    workspace: WorkspaceOpt = None, data_dir: DataDirOpt = None, database_url: DatabaseUrlOpt = None
) -> None:
    """List admins (of every workspace unless --workspace is given)."""
    settings = _settings(data_dir=data_dir, database_url=database_url)

    async def work(tx: Transaction) -> list[tuple[str, Any]]:
        from parley.services import admins

        return await _across_workspaces(tx, workspace, admins.workspace_admins)

    views = _run(settings, work, write=False)
    _print_table(
        "Admins", ("workspace", "id", "name", "email", "job title", "teams", "away"),
        [(ws, str(v.row["id"]), str(v.row["name"]), str(v.row["email"]),
          str(v.row["job_title"] or ""), ", ".join(str(team) for team in v.team_ids),
          "yes" if v.row["away_mode_enabled"] else "") for ws, v in views],
        "No admins.",
    )  # fmt: skip


# --------------------------------------------------------------------------- teams


@teams_app.command("create")
def teams_create(
    name: Annotated[str, typer.Option("--name", help="Team name, unique in the workspace.")],
    workspace: WorkspaceOpt = None,
    member: Annotated[
        list[int] | None,
        typer.Option("--member", help="Admin id of a member; repeat for several."),
    ] = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create a team, optionally with members."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    clock, _ = _clock_and_ids()
    members = list(member or [])

    async def work(tx: Transaction) -> tuple[str, int]:
        from parley.services import admins, workspaces

        ws = str((await workspaces.resolve(tx, workspace))["id"])
        team_id = await admins.create_team(
            tx, clock=clock, workspace_id=ws, name=name, member_ids=members
        )
        return ws, team_id

    ws, team_id = _run(settings, work)
    who = f" with members {', '.join(map(str, members))}" if members else ""
    _out().print(f"Created team {team_id} ({escape(name)}) in workspace {ws}{who}.")


@teams_app.command("list")
def teams_list(
    workspace: WorkspaceOpt = None, data_dir: DataDirOpt = None, database_url: DatabaseUrlOpt = None
) -> None:
    """List teams (of every workspace unless --workspace is given)."""
    settings = _settings(data_dir=data_dir, database_url=database_url)

    async def work(tx: Transaction) -> list[tuple[str, Any]]:
        from parley.services import admins

        return await _across_workspaces(tx, workspace, admins.workspace_teams)

    views = _run(settings, work, write=False)
    _print_table(
        "Teams", ("workspace", "id", "name", "members"),
        [(ws, str(v.row["id"]), str(v.row["name"]), ", ".join(str(a) for a in v.admin_ids))
         for ws, v in views],
        "No teams.",
    )  # fmt: skip


# --------------------------------------------------------------------------- tokens


@tokens_app.command("create")
def tokens_create(
    admin: Annotated[int, typer.Option("--admin", help="Id of the admin the token acts as.")],
    workspace: WorkspaceOpt = None,
    name: Annotated[str, typer.Option("--name", help="A label for the token.")] = "cli",
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create an access token for an admin (printed once; only its hash is stored)."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    clock, ids = _clock_and_ids()

    async def work(tx: Transaction) -> tuple[str, str]:
        from parley.services import admins, workspaces

        ws = str((await workspaces.resolve(tx, workspace))["id"])
        token = await admins.create_token(
            tx, clock=clock, ids=ids, workspace_id=ws, admin_id=admin, name=name
        )
        return ws, token

    ws, token = _run(settings, work)
    _print_token(token, f"Created token {name!r} for admin {admin} in workspace {ws}.")


@tokens_app.command("list")
def tokens_list(
    workspace: WorkspaceOpt = None, data_dir: DataDirOpt = None, database_url: DatabaseUrlOpt = None
) -> None:
    """List access tokens: a hint of each (its first characters), never the token."""
    settings = _settings(data_dir=data_dir, database_url=database_url)

    async def work(tx: Transaction) -> list[Row]:
        from parley.services import admins, workspaces

        ws = None if workspace is None else str((await workspaces.resolve(tx, workspace))["id"])
        return await admins.list_tokens(tx, ws)

    rows = _run(settings, work, write=False)
    _print_table(
        "Access tokens", ("id", "workspace", "admin", "name", "hint", "created", "status"),
        [(str(r["id"]), str(r["workspace_id"]), f"{r['admin_id']} <{r['admin_email']}>",
          str(r["name"]), f"{r['token_hint']}…", _when(r["created_at"]),
          "active" if r["revoked_at"] is None else f"revoked {_when(r['revoked_at'])}")
         for r in rows],
        "No access tokens.",
    )  # fmt: skip


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (see `parley tokens list`).")],
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Revoke an access token: requests with it get 401 from then on."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    clock, _ = _clock_and_ids()

    async def work(tx: Transaction) -> None:
        from parley.services import admins

        await admins.revoke_token(tx, clock=clock, token_id=token_id)

    _run(settings, work)
    _out().print(f"Revoked access token {token_id}.")


# --------------------------------------------------------------------------- office hours


def _print_office_hours(workspace_id: str, hours: Any) -> None:
    if hours is None:
        _out().print(f"Workspace {workspace_id} has no office hours: always open.")
        return
    table = Table(title=f"Office hours of {workspace_id} ({escape(hours.time_zone)})")
    table.add_column("day")
    table.add_column("open")
    for day, spans in hours.schedule().items():
        table.add_row(day, ", ".join(f"{a}-{b}" for a, b in spans) or "closed")
    _out().print(table)


@office_hours_app.command("show")
def office_hours_show(
    workspace: WorkspaceOpt = None, data_dir: DataDirOpt = None, database_url: DatabaseUrlOpt = None
) -> None:
    """Show a workspace's office hours."""
    settings = _settings(data_dir=data_dir, database_url=database_url)

    async def work(tx: Transaction) -> tuple[str, Any]:
        from parley.services import timekeeping, workspaces

        ws = str((await workspaces.resolve(tx, workspace))["id"])
        return ws, await timekeeping.office_hours(tx, ws)

    _print_office_hours(*_run(settings, work, write=False))


@office_hours_app.command("set")
def office_hours_set(
    time_zone: Annotated[str, typer.Option("--time-zone", help="IANA zone, e.g. Europe/Berlin.")],
    day: Annotated[
        list[str] | None,
        typer.Option(
            "--day",
            help="DAY=HH:MM-HH:MM[,HH:MM-HH:MM]; DAY is a weekday name or `weekdays` "
            "(monday to friday) or `everyday`. Repeatable; days not given are closed.",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Set a workspace's office hours (the time zone and the open hours of each weekday)."""
    from parley.domain.office_hours import DAYS

    settings = _settings(data_dir=data_dir, database_url=database_url)
    schedule: dict[str, list[list[str]]] = {}
    for item in day or []:
        name, _, spans = item.partition("=")
        name = name.strip().lower()
        days = (
            list(DAYS[:5]) if name == "weekdays" else list(DAYS) if name == "everyday" else [name]
        )
        intervals = [span.strip().split("-", 1) for span in spans.split(",") if span.strip()]
        if not spans or any(len(i) != 2 for i in intervals):
            _fail(f"--day {item!r}: use DAY=HH:MM-HH:MM[,HH:MM-HH:MM]", status=2)
        for d in days:
            schedule.setdefault(d, []).extend(intervals)
    clock, ids = _clock_and_ids()

    async def work(tx: Transaction) -> tuple[str, Any]:
        from parley.services import timekeeping, workspaces
        from parley.services.context import Context

        ws = str((await workspaces.resolve(tx, workspace))["id"])
        ctx = Context(clock=clock, ids=ids, workspace_id=ws, admin_id=0)
        return ws, await timekeeping.set_office_hours(
            tx, ctx, time_zone=time_zone, schedule=schedule
        )

    _print_office_hours(*_run(settings, work))


@office_hours_app.command("clear")
def office_hours_clear(
    workspace: WorkspaceOpt = None, data_dir: DataDirOpt = None, database_url: DatabaseUrlOpt = None
) -> None:
    """Remove a workspace's office hours (it is then always open)."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    clock, ids = _clock_and_ids()

    async def work(tx: Transaction) -> str:
        from parley.services import timekeeping, workspaces
        from parley.services.context import Context

        ws = str((await workspaces.resolve(tx, workspace))["id"])
        await timekeeping.clear_office_hours(
            tx, Context(clock=clock, ids=ids, workspace_id=ws, admin_id=0)
        )
        return ws

    _print_office_hours(_run(settings, work), None)


# --------------------------------------------------------------------------- seed


@app.command()
def seed(
    conversations: Annotated[
        int, typer.Option("--conversations", "-n", help="Conversations to create.", min=1)
    ] = 10_000,
    contacts: Annotated[int, typer.Option(help="Contacts (about 70% users, 30% leads).")] = 20_000,
    admins: Annotated[int, typer.Option(help="Human admins, the owner included.", min=1)] = 12,
    teams: Annotated[int, typer.Option(help="Teams.", min=1)] = 4,
    token: Annotated[str, typer.Option(help="The access token to create.")] = "seed-token",
    seed_value: Annotated[
        int, typer.Option("--seed", help="Random seed (same seed, same data).")
    ] = 1,
    end: Annotated[
        int | None, typer.Option(help="Unix time of the latest activity. [default: now]")
    ] = None,
    span_days: Annotated[int, typer.Option(help="Days of history.", min=1)] = 180,
    workers: Annotated[int | None, typer.Option(help="Generator processes.", min=1)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing store.")] = False,
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Fill a fresh store with one realistic workspace (bulk SQL, not the API)."""
    from parley import seed as seeding

    settings = _settings(data_dir=data_dir, database_url=database_url)
    url = settings.resolved_database_url
    options = seeding.Options(
        url=url, conversations=conversations, contacts=contacts, admins=admins, teams=teams,
        token=token, seed=seed_value, end=end if end is not None else seeding.default_end(),
        span_days=span_days, chunk=2_000, workers=workers or seeding.default_workers(),
        force=force,
    )  # fmt: skip
    console = _out()
    console.print(f"Seeding {mask_url(url)}: {conversations:,} conversations, seed {seed_value}")
    with _guard(url):
        try:
            done = seeding.run(options, console)
        except SystemExit as exc:
            _fail(str(exc))
        console.print(
            f"Seeded workspace {done.workspace_id}: {done.conversations:,} conversations,"
            f" {done.parts:,} parts, {done.rows:,} rows in {done.seconds:.1f}s."
            f" Owner admin {done.owner_admin_id}; admins {list(done.admin_ids)};"
            f" teams {list(done.team_ids)}; tags {list(done.tag_ids)}; token {done.token!r}"
        )


def main() -> None:
    app(prog_name="parley")
