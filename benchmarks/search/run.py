"""Search latency at scale: p50/p99 of typical conversation and contact searches, a full cursor
walk over a ~10k-result query, and the query plans, against a store filled by `parley seed`.

    parley seed -n 1000000 --contacts 100000 --data-dir benchmarks/search/data/sqlite-1m
    python benchmarks/search/run.py --data-dir benchmarks/search/data/sqlite-1m
    python benchmarks/search/run.py --database-url postgresql://postgres@127.0.0.1/bench

Each timing is one search as the endpoint runs it, minus HTTP and authentication: parse and
validate the query, compile it, run the page query and the count, load the page's contacts and
tags, and render the page (services.search + render). Every repetition uses different values
(another admin, tag, email, word, range), so caches help as they would in real use.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from parley.db import search as sql
from parley.db.conversations import SELECT
from parley.db.database import Database, Transaction, connect
from parley.domain import search as language
from parley.kit.clock import SystemClock
from parley.kit.ids import IdFactory
from parley.render import contact as render_contact
from parley.render import conversation as render
from parley.render.version import VERSIONS
from parley.seed_vocabulary import VOCABULARY
from parley.services import conversations as conversation_service
from parley.services import search
from parley.services.context import Context

VERSION = VERSIONS["2.14"]
# Words by frequency rank in the seed's Zipf vocabulary (parley.seed_vocabulary): a topic word
# ("refund", "invoice": ranks 100-400) is the typical search; a rare word (ranks 1,000-5,000)
# the typical needle; a common word (ranks 10-30) the broad worst case.
TOPIC = VOCABULARY[99:400]
RARE = VOCABULARY[999:5000]
COMMON = VOCABULARY[9:30]


def eq(field: str, value: Any, operator: str = "=") -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


async def _conversations(tx: Transaction, ctx: Context, query: Any, **kw: Any) -> dict[str, Any]:
    page = await search.conversations(tx, ctx, query=query, version=VERSION, **kw)
    items = [
        render.conversation(v.row, contacts=v.contacts, tags=v.tags, parts=None, version=VERSION)
        for v in page.items
    ]
    return render.conversation_list(
        items, total_count=page.total_count, page=page.page, per_page=page.per_page,
        next_cursor=page.next_cursor,
    )  # fmt: skip


async def _contacts(tx: Transaction, ctx: Context, query: Any, **kw: Any) -> dict[str, Any]:
    page = await search.contacts(tx, ctx, query=query, **kw)
    return render_contact.contact_list(
        [render_contact.contact(v.row, v.tag_ids) for v in page.views],
        total_count=page.total_count, page=page.page, per_page=page.per_page,
        next_cursor=page.next_cursor,
    )  # fmt: skip


async def timed(db: Database, call: Callable[[Transaction], Awaitable[Any]]) -> tuple[float, Any]:
    async with db.transaction() as tx:
        began = time.perf_counter()
        result = await call(tx)
        return (time.perf_counter() - began) * 1000, result


def summary(name: str, samples: list[float], extra: str = "") -> None:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(
        f"  {name:<58} p50 {statistics.median(samples):8.1f} ms   p99 {p99:8.1f} ms"
        f"   n={len(samples)} {extra}",
        flush=True,
    )


async def explain(db: Database, ctx: Context, name: str, query: Any) -> None:
    node = language.parse(query, language.CONVERSATIONS)
    compiled = sql.compile_conversations(db.dialect, ctx.workspace_id, node, modern=False)
    page_sql = f"{SELECT} WHERE {compiled.where} ORDER BY c.id DESC LIMIT 21"
    count_sql = f"SELECT COUNT(*) FROM conversations c WHERE {compiled.where}"
    # The count the endpoint runs where there is a cheaper exact one (db/search.py
    # conversation_count; a word count's bound on the other conversations is not shown).
    if compiled.word_count is not None:
        count_sql = compiled.word_count[1]
    elif compiled.count is not None:
        count_sql = compiled.count
    await explain_sql(db, name, (("page", page_sql), ("count", count_sql)), compiled.params)


async def explain_sql(
    db: Database, name: str, queries: tuple[tuple[str, str], ...], params: dict[str, Any]
) -> None:
    print(f"\n--- plan: {name}")
    async with db.transaction() as tx:
        for label, text in queries:
            if db.dialect == "postgresql":
                rows = await tx.fetch_all(f"EXPLAIN (ANALYZE, COSTS OFF) {text}", params)
                lines = [r["QUERY PLAN"] for r in rows]
            else:
                rows = await tx.fetch_all(f"EXPLAIN QUERY PLAN {text}", params)
                lines = [r["detail"] for r in rows]
            print(f"  [{label}]")
            for line in lines:
                print(f"    {line}")


async def main(url: str, repeat: int, plans: bool) -> None:
    db = await connect(url)
    rng = random.Random(7)
    async with db.transaction() as tx:
        ws = await tx.fetch_one("SELECT id FROM workspaces ORDER BY created_at LIMIT 1")
        assert ws is not None, "no workspace: run parley seed first"
        workspace_id = str(ws["id"])
        end = int(await tx.fetch_val("SELECT MAX(updated_at) FROM conversations"))
        total = int(await tx.fetch_val("SELECT COUNT(*) FROM conversations"))
        admins = [
            int(r["id"])
            for r in await tx.fetch_all(
                "SELECT id FROM admins WHERE workspace_id = :ws AND kind = 'admin'",
                {"ws": workspace_id},
            )
        ]
        tags = [int(r["id"]) for r in await tx.fetch_all("SELECT id FROM tags")]
        emails = [r["email"] for r in await tx.fetch_all(
            "SELECT email FROM contacts WHERE role = 'user' AND email IS NOT NULL"
            " ORDER BY id LIMIT 2000")]  # fmt: skip
    ctx = Context(SystemClock(), IdFactory(0), workspace_id, admins[0])
    print(f"{db.dialect}: {total:,} conversations in workspace {workspace_id}; repeat {repeat}")

    def recent() -> dict[str, Any]:
        return {"operator": "AND", "value": [
            eq("open", True), eq("admin_assignee_id", rng.choice(admins)),
            eq("updated_at", end - rng.randint(3, 10) * 86_400, ">"),
        ]}  # fmt: skip

    def tag_list() -> dict[str, Any]:
        return eq("tag_ids", [str(t) for t in rng.sample(tags, 2)], "IN")

    def author_email() -> dict[str, Any]:
        return eq("source.author.email", rng.choice(emails))

    def contact_email() -> dict[str, Any]:
        return eq("email", rng.choice(emails))

    def word() -> dict[str, Any]:
        return eq("source.body", rng.choice(TOPIC))

    def rare_word() -> dict[str, Any]:
        return eq("source.body", rng.choice(RARE))

    def common_word() -> dict[str, Any]:
        return eq("source.body", rng.choice(COMMON))

    def part_word() -> dict[str, Any]:
        return eq("conversation_parts.body", rng.choice(TOPIC))

    def part_rare_word() -> dict[str, Any]:
        return eq("conversation_parts.body", rng.choice(RARE))

    def stat_range() -> dict[str, Any]:
        low = rng.randint(600, 3000)
        return {"operator": "AND", "value": [
            eq("statistics.time_to_admin_reply", low, ">"),
            eq("statistics.time_to_admin_reply", low + 60, "<"),
        ]}  # fmt: skip

    cases: list[tuple[str, Callable[[], dict[str, Any]], bool]] = [
        ("open AND admin_assignee_id = X AND updated_at > T", recent, False),
        ("tag_ids IN [a, b]", tag_list, False),
        ("source.author.email = E", author_email, False),
        ("contacts: email = E", contact_email, True),
        ("source.body = topic word, rank 100-400 (full text)", word, False),
        ("source.body = rare word, rank 1k-5k (full text)", rare_word, False),
        ("source.body = common word, rank 10-30 (full text)", common_word, False),
        ("conversation_parts.body = topic word (full text)", part_word, False),
        ("conversation_parts.body = rare word (full text)", part_rare_word, False),
        ("statistics.time_to_admin_reply in a 60 s range", stat_range, False),
    ]
    for name, make, on_contacts in cases:
        samples: list[float] = []
        counts: list[int] = []
        for i in range(repeat + 2):
            query = make()
            if on_contacts:
                ms, body = await timed(db, lambda tx, q=query: _contacts(
                    tx, ctx, q, per_page=50, starting_after=None))  # fmt: skip
            else:
                ms, body = await timed(db, lambda tx, q=query: _conversations(
                    tx, ctx, q, per_page=20, starting_after=None))  # fmt: skip
            if i >= 2:  # two warm-ups
                samples.append(ms)
                counts.append(int(body["total_count"]))
        summary(name, samples, f"(matches: median {int(statistics.median(counts)):,})")

    # GET /conversations: the first page, and pages reached by cursor (20 per page).
    async def listing(tx: Transaction, after: str | None) -> Any:
        return await conversation_service.list_page(tx, ctx, per_page=20, starting_after=after)

    samples = []
    after = None
    for i in range(repeat + 2):
        ms, page = await timed(db, lambda tx: listing(tx, None))
        if i >= 2:
            samples.append(ms)
    summary("GET /conversations: first page (20) + total_count", samples)
    samples = []
    for i in range(repeat + 2):
        ms, page = await timed(db, lambda tx, a=after: listing(tx, a))
        after = page.next_cursor
        if i >= 2:
            samples.append(ms)
    summary("GET /conversations: next page by cursor", samples, f"(page {page.page})")

    # A full cursor walk, 150 per page, over a query matching ~10k conversations.
    days = 10_000 / max(1, total) * 180
    walk_query = eq("created_at", end - int(days * 86_400) - 7200, ">")
    for _ in range(2):
        pages: list[float] = []
        seen = 0
        after = None
        began = time.perf_counter()
        while True:
            ms, body = await timed(db, lambda tx, a=after: _conversations(
                tx, ctx, walk_query, per_page=150, starting_after=a))  # fmt: skip
            pages.append(ms)
            seen += len(body["conversations"])
            if "next" not in body["pages"]:
                break
            after = body["pages"]["next"]["starting_after"]
        walk_ms = (time.perf_counter() - began) * 1000
    summary(
        f"cursor walk ({seen:,} results, 150/page): per page", pages,
        f"(whole walk {walk_ms:,.0f} ms, {len(pages)} pages)",
    )  # fmt: skip

    if plans:
        await explain(db, ctx, "open AND assignee AND updated_at", recent())
        await explain(db, ctx, "tag_ids IN", tag_list())
        await explain(db, ctx, "source.author.email", author_email())
        await explain(db, ctx, "source.body topic word", word())
        await explain(db, ctx, "conversation_parts.body topic word", part_word())
        await explain(db, ctx, "statistics range", stat_range())
        list_where = "c.workspace_id = :ws AND c.visible = :visible"
        await explain_sql(
            db,
            "GET /conversations",
            (
                ("page", f"{SELECT} WHERE {list_where} ORDER BY c.id DESC LIMIT 21"),
                ("count", f"SELECT COUNT(*) FROM conversations c WHERE {list_where}"),
            ),
            {"ws": workspace_id, "visible": True},
        )
    await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data-dir", type=Path)
    where.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-plans", action="store_true")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{(args.data_dir / 'parley.db').resolve()}"
    asyncio.run(main(url, args.repeat, not args.no_plans))
