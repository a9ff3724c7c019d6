"""Time admin replies (or GETs) in process: Parley's ASGI app called directly, no HTTP.

    python benchmarks/inprocess.py benchmarks/data/sqlite-100000 --copy-to /tmp/store
    python benchmarks/inprocess.py /tmp/store --kind get --requests 12800
    python benchmarks/inprocess.py /tmp/store --sql          # plus the time of each statement
    python benchmarks/inprocess.py /tmp/store --profile reply.prof        # plus cProfile

What `run.py` measures through HTTP, taken apart: the same requests as its reply scenario
(admin comments on random conversations by random admins of the seeded workspace, token
`bench-token`), sent by `--concurrency` callers at once so that writes share batches as they
do under wrk. It prints the time per request, the main thread's CPU time per request and the
checkpoint thread's; with `--sql`, the time of every statement the writing connection ran
(SQLite). Replies change the store: measure a copy (`--copy-to` makes one) and compare changes
on identical copies, alternating old and new code (`git stash`), a few rounds each: this
machine's run-to-run spread is ±10%. docs/throughput.md has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import random
import shutil
import sqlite3
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from parley.api.app import create_app
from parley.config import Settings
from parley.db import database

BODIES = [
    "Thanks for reaching out, I am looking into this now.",
    "Could you send us a screenshot of the error?",
    "We have shipped a fix; please try again and let us know.",
]


class _TimedConnection:
    """The writing connection, with the time of each statement added up by its text."""

    def __init__(self, conn: sqlite3.Connection, totals: dict[str, list[float]]) -> None:
        self._conn = conn
        self._totals = totals

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        started = time.perf_counter()
        try:
            return self._conn.execute(sql, params)
        finally:
            total = self._totals[" ".join(sql.split())[:100]]
            total[0] += 1
            total[1] += time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def main(args: argparse.Namespace) -> None:
    store: Path = args.store
    if args.copy_to is not None:
        shutil.copytree(store, args.copy_to)
        store = args.copy_to
    settings = Settings(data_dir=store, timer_interval=0, log_level="warning")
    db = await database.connect(settings.resolved_database_url)
    assert isinstance(db, database.SqliteDatabase), "a SQLite store"
    app = create_app(settings, db=db)
    async with db.transaction() as tx:
        ws = {"ws": await tx.fetch_val("SELECT workspace_id FROM access_tokens LIMIT 1")}
        rows = await tx.fetch_all("SELECT id FROM conversations WHERE workspace_id = :ws", ws)
        ids = [r["id"] for r in rows]
        rows = await tx.fetch_all(
            "SELECT id FROM admins WHERE workspace_id = :ws AND kind = 'admin'", ws
        )
        admins = [r["id"] for r in rows]
    statements: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    if args.sql:
        db._writer = _TimedConnection(db._writer, statements)  # type: ignore[assignment]
    checkpoint = [0.0]
    run_checkpoint = db._run_checkpoint

    def timed_checkpoint(mode: str = "PASSIVE") -> int:
        started = time.thread_time()
        try:
            return run_checkpoint(mode)
        finally:
            checkpoint[0] += time.thread_time() - started

    db._run_checkpoint = timed_checkpoint  # type: ignore[method-assign]
    rng = random.Random(1)

    async def call(method: str, path: str, body: bytes) -> int:
        scope = {
            "type": "http", "http_version": "1.1", "method": method, "path": path,
            "raw_path": path.encode(), "query_string": b"", "root_path": "", "scheme": "http",
            "headers": [(b"authorization", b"Bearer bench-token"),
                        (b"content-type", b"application/json"), (b"host", b"bench")],
            "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1), "app": app, "state": {},
        }  # fmt: skip
        received = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal received
            if received:
                await asyncio.Event().wait()  # a disconnect that never comes
            received = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)  # type: ignore[arg-type]
        return status

    async def caller(requests: int) -> None:
        for _ in range(requests):
            conversation = rng.choice(ids)
            if args.kind == "reply":
                body = (
                    b'{"message_type": "comment", "type": "admin", "admin_id": %d, "body": "%s"}'
                    % (rng.choice(admins), rng.choice(BODIES).encode())
                )
                status = await call("POST", f"/conversations/{conversation}/reply", body)
            else:
                status = await call("GET", f"/conversations/{conversation}", b"")
            assert status == 200, status

    each = max(1, args.requests // args.concurrency)
    await asyncio.gather(*(caller(10) for _ in range(args.concurrency)))  # warm up
    statements.clear()
    checkpoint[0] = 0.0
    profile = cProfile.Profile() if args.profile else None
    started, cpu_started = time.perf_counter(), time.thread_time()
    if profile is not None:
        profile.enable()
    await asyncio.gather(*(caller(each) for _ in range(args.concurrency)))
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.profile)
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    await db.close()
    n = each * args.concurrency
    if args.sql:
        total = 0.0
        for sql, (count, seconds) in sorted(statements.items(), key=lambda kv: -kv[1][1]):
            total += seconds
            print(f"{seconds / n * 1e6:8.1f} µs {count / n:5.2f}x  {sql}")
        print(f"{total / n * 1e6:8.1f} µs of SQL per request")
    print(
        f"{args.kind}: {n} in {elapsed:.2f} s: {elapsed / n * 1e6:.0f} µs each,"
        f" {n / elapsed:.0f}/s; main thread CPU {cpu / n * 1e6:.0f} µs, checkpoint thread CPU"
        f" {checkpoint[0] / n * 1e6:.0f} µs per request"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path, help="a data directory seeded by run.py")
    parser.add_argument("--kind", choices=["reply", "get"], default="reply")
    parser.add_argument("--requests", type=int, default=6400)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--copy-to", type=Path, help="measure a copy of the store made here")
    parser.add_argument("--sql", action="store_true", help="time each statement of the writer")
    parser.add_argument("--profile", help="write a cProfile of the measured requests here")
    asyncio.run(main(parser.parse_args()))
