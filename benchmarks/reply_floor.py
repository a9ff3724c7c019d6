"""The reply floor: what an admin reply costs on this machine when it does nothing but HTTP and
the storage a reply cannot avoid, with none of Parley's logic.

The ceiling (ceiling.py) is the web stack serving bytes; it says nothing about what a *write*
can reach. This server answers POST /conversations/{id}/reply (the same requests as run.py's
reply scenario) in one of two modes, under the same uvicorn settings as `parley serve`:

- `post`: reads and parses the JSON body, answers pre-serialized bytes. What a POST with a
  body costs the stack, against the ceiling's GET.
- `store`: also stores the reply in Parley's schema, on a copy of a seeded store, through
  Parley's own SQLite layer (group commit, the same pragmas): reads the conversation's row and
  its stored document, inserts the part, moves the conversation's `updated_at` (and with it the
  three indexes that lead with it), bumps its part count and revision and a statistic, replaces
  its document by the old one with the part's bytes spliced in, and answers that document. No
  authentication, validation, lifecycle rules, statistics arithmetic, SLA, full-text index,
  outbox or rendering: only the rows and indexes that every later read of the conversation
  needs, each written once.

So `store` is a floor for any implementation on this schema and stack that keeps a GET a
single-document read: what a reply costs Parley beyond it is Parley's own work.

    python benchmarks/reply_floor.py --mode store --data-dir /tmp/floor-store \\
        --body-file benchmarks/results/<run>/sample-conversation.json --port 8767

run.py runs it with `--scenarios ...,floor_post,floor_store` (on a copy of the store it made).
What each step of `store` costs, in process (no HTTP; on a copy of a store: it writes):

    python benchmarks/reply_floor.py --components /tmp/store-copy
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ceiling import serve_like_parley  # benchmarks/ is the script's directory
from parley.db.database import SqliteDatabase, Transaction
from parley.kit.clock import SystemClock

JSON_TYPE = "application/json; charset=utf-8"  # what parley.api.endpoint sends
REQUEST_ID = "00000000-0000-4000-a000-000000000000"
HEADERS = {"X-Request-Id": REQUEST_ID}
CLOCK = SystemClock()

PART_COLUMNS = (
    "conversation_id, part_type, body, created_at, updated_at, notified_at, author_type,"
    " author_admin_id, attachments, redacted, state, assigned_side"
)
INSERT_PART = (
    f"INSERT INTO conversation_parts ({PART_COLUMNS}) VALUES (:conversation_id, 'comment',"
    " :body, :now, :now, :now, 'admin', :admin_id, '[]', 0, :state, NULL) RETURNING id"
)
MOVE_CONVERSATION = (
    "updated_at = :now, waiting_since = NULL, part_count = part_count + 1, revision = revision + 1"
)
# A statistic changes with every admin reply (last_admin_reply_at): the column is rewritten,
# and with it the two statistics expression indexes.
SET_STATISTICS = "statistics = json_set(statistics, '$.last_admin_reply_at', :now)"
# The part as a document shows it, less the fields that vary (close enough in size).
PART_TEMPLATE = (
    b',{"type":"conversation_part","id":"%d","part_type":"comment","body":%s,'
    b'"created_at":%d,"updated_at":%d,"notified_at":%d,"assigned_to":null,'
    b'"author":{"type":"admin","id":"%d","name":"Admin","email":"admin@example.com"},'
    b'"attachments":[],"external_id":null,"redacted":false,"metadata":{},'
    b'"email_message_metadata":null,"state":"open","tags":[],"event_details":{},'
    b'"app_package_code":null}'
)
# What a reply stores, in the order --components adds them up.
STEPS = ("part", "conversation", "statistics", "document")


async def store_reply(
    tx: Transaction, conversation_id: int, admin_id: int, body: str, steps: Sequence[str] = STEPS
) -> bytes:
    now = CLOCK.now()  # updated_at moves to the end of its indexes, as a real reply's does
    row = await tx.fetch_one(
        "SELECT state, revision FROM conversations WHERE id = :id", {"id": conversation_id}
    )
    if row is None:
        return b""
    part_id = 0
    if "part" in steps:
        part_id = await tx.fetch_val(
            INSERT_PART,
            {"conversation_id": conversation_id, "body": f"<p>{body}</p>", "now": now,
             "admin_id": admin_id, "state": row["state"]},
        )  # fmt: skip
    changes = [MOVE_CONVERSATION] if "conversation" in steps else []
    changes += [SET_STATISTICS] if "statistics" in steps else []
    if changes:  # one statement, as Parley's reply makes
        await tx.execute(
            f"UPDATE conversations SET {', '.join(changes)} WHERE id = :id",
            {"now": now, "id": conversation_id},
        )
    if "document" not in steps:
        return b"{}"
    document = await tx.fetch_one(
        "SELECT body FROM conversation_documents WHERE conversation_id = :id",
        {"id": conversation_id},
    )
    if document is None:
        return b""
    await tx.execute(
        "DELETE FROM conversation_documents WHERE conversation_id = :id", {"id": conversation_id}
    )
    old = bytes(document["body"])
    end = old.rfind(b'],"total_count"')  # the end of conversation_parts' list
    part = PART_TEMPLATE % (part_id, orjson.dumps(body), now, now, now, admin_id)
    new = old[:end] + part + old[end:] if end > 0 else old
    await tx.execute(
        "INSERT INTO conversation_documents (conversation_id, workspace_id, revision, body)"
        " SELECT id, workspace_id, revision, :doc FROM conversations WHERE id = :id",
        {"doc": new, "id": conversation_id},
    )
    return new


async def components(data_dir: Path, replies: int, concurrency: int) -> None:
    """In process, no HTTP: `replies` stores by `concurrency` callers at once (so that they
    share batches as under wrk), for each prefix of STEPS; prints the time and the main
    thread's CPU per reply, and what each step added."""
    path = data_dir / "parley.db"
    ids = [int(r[0]) for r in sqlite3.connect(path).execute("SELECT id FROM conversations")]
    pick = random.Random(1)
    before = 0.0
    for count in range(len(STEPS) + 1):
        steps = STEPS[:count]
        db = SqliteDatabase(path)

        async def caller(db: SqliteDatabase = db, steps: Sequence[str] = steps) -> None:
            for _ in range(replies // concurrency):
                async with db.transaction(write=True) as tx:
                    await store_reply(tx, pick.choice(ids), 2, "Thanks, looking now.", steps)

        started, cpu = time.perf_counter(), time.thread_time()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        each = 1e6 * (time.perf_counter() - started) / replies
        each_cpu = 1e6 * (time.thread_time() - cpu) / replies
        await db.close()
        label = "row read + " + " + ".join(steps) if steps else "(the row read, in a transaction)"
        print(f"{label:<58} {each:7.0f} µs/reply  main thread {each_cpu:5.0f} µs"
              f"  step +{each - before:5.0f} µs")  # fmt: skip
        before = each


def create_app(mode: str, body: bytes, data_dir: Path | None) -> Starlette:
    db = SqliteDatabase(data_dir / "parley.db") if data_dir is not None else None

    async def reply(request: Request) -> Response:
        data = orjson.loads(await request.body())
        if db is None:
            return Response(body, media_type=JSON_TYPE, headers=HEADERS)
        conversation_id = int(request.path_params["conversation_id"])
        async with db.transaction(write=True) as tx:
            document = await store_reply(tx, conversation_id, int(data["admin_id"]), data["body"])
        return Response(document, media_type=JSON_TYPE, headers=HEADERS)

    async def conversation(request: Request) -> Response:  # run.py's readiness probe
        return Response(body, media_type=JSON_TYPE, headers=HEADERS)

    return Starlette(
        routes=[
            Route("/conversations/{conversation_id}/reply", reply, methods=["POST"]),
            Route("/conversations/{conversation_id}", conversation, methods=["GET"]),
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The reply floor server for run.py.")
    parser.add_argument("--mode", choices=["post", "store"])
    parser.add_argument("--body-file", type=Path, help="the `post` answer")
    parser.add_argument("--data-dir", type=Path, help="`store`: a copy of a seeded store")
    parser.add_argument(
        "--components", type=Path, metavar="STORE", help="time the steps in process (a copy!)"
    )
    parser.add_argument("--replies", type=int, default=6400)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args(argv)
    if args.components is not None:
        asyncio.run(components(args.components, args.replies, concurrency=32))
        return
    if args.mode is None or args.body_file is None:
        parser.error("--mode and --body-file are required (or --components)")
    if args.mode == "store" and args.data_dir is None:
        parser.error("--mode store needs --data-dir (a copy: it writes)")
    data_dir = args.data_dir if args.mode == "store" else None
    app = create_app(args.mode, args.body_file.read_bytes(), data_dir)
    serve_like_parley(app, args.host, args.port)


if __name__ == "__main__":
    main()
