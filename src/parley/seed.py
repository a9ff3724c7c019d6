"""`parley seed`: fill a store with a realistic workspace, fast — admins, teams, tags, contacts
(users and leads) and N conversations of about ten parts each, in every state, with replies,
notes, assignments, snoozes, closes, reopenings, custom attributes and priorities spread over
months — written with bulk SQL (not through the API), with the full-text index filled too.

    parley seed --conversations 1000000                      # the configured database
    parley seed --database-url postgresql://…/bench -n 100000 --force

How the rows are made, so that they are exactly what Parley itself writes:

* The workspace, its bot, its owner and the access token come from
  `parley.services.workspaces.create` (with a fixed token, `--token`), and the admins, teams and
  tags from their services, through Parley's own SQL layer.
* Every conversation is played through the lifecycle rules (`parley.domain.conversation`: the
  contact starts it, then admin comments, contact comments, notes, assignments, close and
  reopen), and its rows are built by the conversation service's own row builders
  (`_fact_columns`, `_part_values`). So `state`, `waiting_since`, `first_contact_reply_at`,
  `statistics`, `teammate_ids`, `read`, `visible` and `part_count` are what the same sequence of
  API calls would have left behind: `statistics` are folded from each outcome's parts by the
  time work's own functions, as services.timekeeping.account folds them (`_account`; the
  seeded workspace has no office hours and no SLA policy, hence no SLA trackers). About 10%
  of the conversations are admin-initiated messages (POST /messages) that the contact
  answered, so every conversation is visible.
* Part ids follow time, as they would in a live store: the parts of conversations that run at
  the same time interleave in the parts table.
* Contacts get `last_replied_at`/`last_contacted_at`/`updated_at` as the services' touches would.
  The outbox is not seeded: it is a delivery queue, and the seeded history counts as delivered.

* Bodies come from a pool of 20,000, written with the ~5,000-word Zipf vocabulary of
  parley.seed_vocabulary (common words everywhere, most words rare), so full-text searches
  match what they would in a real inbox.
* The full-text index (parley.db.fulltext) receives the words of every source and part body,
  as the SQL layer's own hooks would have written them (SQLite: each part keyed by its
  conversation and its ordinal in it, `fulltext.part_key`; parts are numbered here in id
  order, which is each conversation's part order).
* Secondary indexes are dropped while loading and rebuilt at the end (one sorted build each is
  much faster than a million in-place updates); the schema afterwards is exactly the
  migrations'.

Generation runs in worker processes (the lifecycle rules cost ~0.3 ms per conversation); the
main process writes: stdlib sqlite3 (`PRAGMA synchronous=OFF` while loading) or asyncpg
`copy_records_to_table`, one transaction per batch.
"""

from __future__ import annotations

import asyncio
import heapq
import multiprocessing
import os
import random
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

from parley.db import admins, fulltext, migrate
from parley.db import conversations as conversation_store
from parley.db.database import asyncpg_dsn, connect, sqlite_path
from parley.domain import conversation as rules
from parley.domain import statistics as stats
from parley.domain.conversation import Assignee, Author, Facts, State
from parley.kit.clock import FrozenClock, SystemClock
from parley.kit.html import as_paragraphs
from parley.kit.ids import IdFactory
from parley.kit.words import document
from parley.seed_vocabulary import VOCABULARY, draw
from parley.services import admins as admin_service
from parley.services import tags as tag_service
from parley.services import timekeeping, workspaces
from parley.services.context import Context

# The conversation service's own row builders: the seed writes columns exactly as it does.
from parley.services.conversations import _fact_columns, _new_conversation, _part_values

DAY = 86_400
HOUR = 3_600

CONVERSATION_COLUMNS = (
    "id", "workspace_id", "created_at", "updated_at", "title", "state", "read", "priority",
    "admin_assignee_id", "team_assignee_id", "waiting_since", "snoozed_until", "source_type",
    "source_id", "source_delivered_as", "source_subject", "source_body", "source_author_type",
    "source_author_admin_id", "source_author_contact_id", "source_url", "source_redacted",
    "source_attachments", "custom_attributes", "first_contact_reply_at", "teammate_ids",
    "statistics", "conversation_rating", "sla_applied", "ai_agent_participated", "visible",
    "part_count",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "workspace_id", "conversation_id", "type", "message_type", "subject", "body",
    "admin_id", "created_at",
)  # fmt: skip
PARTICIPANT_COLUMNS = ("conversation_id", "contact_id", "position")
CONVERSATION_TAG_COLUMNS = (
    "conversation_id", "tag_id", "applied_at", "applied_by_type", "applied_by_id",
)  # fmt: skip
CONTACT_COLUMNS = (
    "id", "workspace_id", "role", "email", "external_id", "phone", "name", "avatar_url",
    "owner_id", "unsubscribed_from_emails", "has_hard_bounced", "marked_email_as_spam",
    "language_override", "custom_attributes", "archived", "signed_up_at", "last_seen_at",
    "last_replied_at", "last_contacted_at", "created_at", "updated_at",
)  # fmt: skip
# The parts table's columns in the order the service's row builder produces them.
PART_COLUMNS = (
    "id",
    *_part_values(0, rules.PartDraft("note", Author("admin", admin_id=1), 0), 0).keys(),
)

WORDS = VOCABULARY  # ~5,000 words, drawn with a Zipf distribution (seed_vocabulary.py)
FIRST_NAMES = (
    "Ada Alan Grace Linus Margaret Dennis Barbara Ken Frances Donald Edsger Radia Tim Sophie "
    "John Mary Ahmed Mei Lucia Ivan Priya Kofi Ana Lars Yuki Omar Elena Noah Zara Hugo"
).split()
LAST_NAMES = (
    "Lovelace Turing Hopper Torvalds Hamilton Ritchie Liskov Thompson Allen Knuth Dijkstra "
    "Perlman Berners-Lee Wilson Smith Jones Khan Chen Garcia Petrov Patel Mensah Silva Berg "
    "Sato Haddad Popescu Cohen Ali Martin"
).split()
PLANS = ("free", "starter", "pro", "enterprise")
REGIONS = ("emea", "amer", "apac")
_WORDS_CACHE: dict[str, str] = {}


def words_of(body: str | None) -> str:
    """The full-text words of a body (the seed reuses a pool of bodies: computed once each)."""
    if body is None:
        return ""
    found = _WORDS_CACHE.get(body)
    if found is None:
        found = _WORDS_CACHE[body] = document(body)
    return found


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


TAG_NAMES = (
    "billing", "bug", "feature-request", "vip", "churn-risk", "onboarding", "mobile", "api",
    "refund", "urgent", "enterprise", "trial", "integration", "security", "feedback", "sales",
    "follow-up", "escalated", "duplicate", "spam",
)  # fmt: skip


# ----------------------------------------------------------------------------- the world


@dataclass(frozen=True, slots=True)
class World:
    """What every generator process needs, sent to each worker once."""

    workspace_id: str
    seed: int
    total: int  # conversations
    first_created: int  # the first conversation's created_at
    last_created: int  # the last conversation's created_at
    end: int  # "now": no part is later
    contacts: tuple[tuple[str, str], ...]  # (id, role)
    admin_ids: tuple[int, ...]  # human admins
    bot_id: int
    team_ids: tuple[int, ...]
    team_names: tuple[tuple[int, str], ...]  # (id, name): team assignments' statistics name them
    tag_ids: tuple[int, ...]
    bodies: tuple[str, ...]  # HTML, as the services store them
    subjects: tuple[str, ...]

    @property
    def team_names_by_id(self) -> dict[int, str]:
        return dict(self.team_names)


@dataclass(slots=True)
class Chunk:
    conversations: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    participants: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    # (created_at, conversation id, sequence, part values without the id)
    parts: list[tuple[int, int, int, tuple[Any, ...]]] = field(default_factory=list)
    # (contact id, replied at, contacted at): the services' contacts.touch_* calls
    touches: list[tuple[str, int | None, int | None]] = field(default_factory=list)
    # (conversation id, conversation id, words) for the full-text index of source bodies
    sources: list[tuple[int, int, str]] = field(default_factory=list)
    last_created: int = 0


def _sentence(rng: random.Random) -> str:
    words = draw(rng, rng.randint(4, 16))
    return " ".join(words).capitalize() + rng.choice((".", ".", ".", "?", "!"))


def make_bodies(rng: random.Random, count: int) -> tuple[str, ...]:
    """Plain-text bodies of one or two lines, stored as the services store them."""
    out = []
    for _ in range(count):
        lines = [
            " ".join(_sentence(rng) for _ in range(rng.choice((1, 1, 2, 3))))
            for _ in range(rng.choice((1, 1, 1, 2)))
        ]
        out.append(as_paragraphs("\n".join(lines)))
    return tuple(out)


# ----------------------------------------------------------------------------- generation

_world: World | None = None
# _new_conversation takes a Context it does not read; any will do.
_CONTEXT = Context(clock=FrozenClock(0), ids=IdFactory(0), workspace_id="", admin_id=0)


def _init_worker(world: World) -> None:
    global _world
    _world = world


def _created_at(world: World, index: int, rng: random.Random) -> int:
    """Creation times rise with the id (ids are handed out in time order in a live store)."""
    span = world.last_created - world.first_created
    slot = span / max(1, world.total)
    return world.first_created + int(index * slot + rng.random() * slot * 0.9)


def generate_chunk(job: tuple[int, int, int]) -> Chunk:
    """Conversations first_id .. first_id+count-1 (index = id - 1), deterministic per chunk."""
    chunk_index, first_id, count = job
    world = _world
    assert world is not None, "worker not initialised"
    rng = random.Random(world.seed * 1_000_003 + chunk_index)
    chunk = Chunk()
    for conversation_id in range(first_id, first_id + count):
        created_at = _created_at(world, conversation_id - 1, rng)
        _conversation(world, rng, chunk, conversation_id, created_at)
        chunk.last_created = created_at
    return chunk


def _admin(world: World, rng: random.Random, facts: Facts) -> Author:
    """Mostly the assignee, otherwise any teammate."""
    if facts.admin_assignee_id is not None and rng.random() < 0.7:
        return Author("admin", admin_id=facts.admin_assignee_id)
    return Author("admin", admin_id=rng.choice(world.admin_ids))


def _conversation(
    world: World, rng: random.Random, chunk: Chunk, conversation_id: int, created_at: int
) -> None:
    ws = world.workspace_id
    contact_id, role = rng.choice(world.contacts)
    contact = Author(role, contact_id=contact_id)
    body = rng.choice(world.bodies)
    start = _new_conversation(_CONTEXT, now=created_at)
    admin_initiated = rng.random() < 0.10
    replied_at: int | None = None
    contacted_at: int | None = None
    if admin_initiated:
        # POST /messages (create_from_admin): invisible until the contact answers.
        sender = rng.choice(world.admin_ids)
        message_type = "email" if rng.random() < 0.5 else "inapp"
        subject = rng.choice(world.subjects) if message_type == "email" else None
        facts = replace(start, visible=False, read=True, teammate_ids=(sender,))
        history: list[stats.Event] = []  # an admin's source message is no contact reply
        tally: stats.Tally | None = None  # as create_from_admin: no statistics yet
        chunk.messages.append(
            (conversation_id, ws, conversation_id, "admin_message", message_type, subject, body,
             sender, created_at)
        )  # fmt: skip
        source = {
            "source_type": "email" if message_type == "email" else "conversation",
            "source_delivered_as": "admin_initiated",
            "source_subject": subject or "",
            "source_author_type": "admin",
            "source_author_admin_id": sender,
            "source_author_contact_id": None,
        }
        contacted_at = created_at
    else:
        # POST /conversations (create_from_contact).
        facts = rules.start_by_contact(start, now=created_at)
        # As create_from_contact: the contact's source message is the first contact reply.
        history = [stats.Event(created_at, stats.CONTACT, parts=0)]
        tally = stats.Tally.from_statistics(
            timekeeping.initial_statistics(contact_started_at=created_at)
        )
        chunk.messages.append(
            (conversation_id, ws, conversation_id, "user_message", "inapp", None, body, None,
             created_at)
        )  # fmt: skip
        source = {
            "source_type": "conversation",
            "source_delivered_as": "customer_initiated",
            "source_subject": "",
            "source_author_type": role,
            "source_author_admin_id": None,
            "source_author_contact_id": contact_id,
        }
        replied_at = created_at
    chunk.participants.append((conversation_id, contact_id, 1))

    now = created_at
    admin_moments: list[tuple[int, int]] = []  # (time, admin id) of admin-authored parts
    sequence = 0
    for step in range(rng.randint(7, 13)):
        gap = rng.expovariate(1 / (HOUR if step == 0 else 3 * HOUR))
        now = min(world.end, now + 1 + int(gap))
        outcome = _next_action(world, rng, facts, contact, now, first=admin_initiated and not step)
        if not outcome.parts:
            continue
        for draft in outcome.parts:
            values = _part_values(conversation_id, draft, now)
            chunk.parts.append((now, conversation_id, sequence, tuple(values.values())))
            sequence += 1
            if draft.author.admin_id is not None and draft.author.type == "admin":
                admin_moments.append((now, draft.author.admin_id))
            elif draft.author.contact_id is not None:
                replied_at = now
        facts = outcome.facts
        tally = _account(world, outcome, history, tally)

    # Custom attributes on about a third (PUT /conversations/{id}: one bot part per attribute).
    custom: dict[str, Any] = {}
    if rng.random() < 0.33:
        now = min(world.end, now + rng.randint(1, HOUR))
        custom = {
            "plan": rng.choice(PLANS),
            "region": rng.choice(REGIONS),
            "seats": rng.choice((1, 2, 5, 10, 25, 50, 100)),
        }
        outcome = rules.attribute_updates(
            facts, bot=Author("bot", admin_id=world.bot_id), now=now, changes=custom
        )
        for draft in outcome.parts:
            values = _part_values(conversation_id, draft, now)
            chunk.parts.append((now, conversation_id, sequence, tuple(values.values())))
            sequence += 1
        facts = outcome.facts
        tally = _account(world, outcome, history, tally)
    # A priority on some (PUT with `priority`: no part, updated_at moves).
    priority = "none"
    if rng.random() < 0.15:
        now = min(world.end, now + rng.randint(1, HOUR))
        priority = rng.choice(("low", "medium", "high", "urgent"))
    # Snoozed at the end on some open ones, until after `end` (a due snooze would have woken).
    if facts.state is State.OPEN and rng.random() < 0.15:
        now = min(world.end, now + rng.randint(1, HOUR))
        outcome = rules.snooze(
            facts, author=_admin(world, rng, facts), now=now,
            until=world.end + rng.randint(HOUR, 7 * DAY),
        )  # fmt: skip
        for draft in outcome.parts:
            values = _part_values(conversation_id, draft, now)
            chunk.parts.append((now, conversation_id, sequence, tuple(values.values())))
            sequence += 1
            admin_moments.append((now, draft.author.admin_id or world.admin_ids[0]))
        facts = outcome.facts
        tally = _account(world, outcome, history, tally)

    if tally is not None:
        facts = replace(facts, statistics=tally.statistics())
    updated_at = now
    row = {
        **_fact_columns(facts),
        "id": conversation_id,
        "workspace_id": ws,
        "created_at": created_at,
        "updated_at": updated_at,
        "title": None,
        "priority": priority,
        "source_id": str(conversation_id),  # the message's id; messages share the conversation's
        "source_body": body,
        "source_url": None,
        "source_redacted": False,
        "source_attachments": "[]",
        "custom_attributes": _dumps(custom),
        "conversation_rating": None,
        "sla_applied": None,
        "ai_agent_participated": False,
        **source,
    }
    chunk.conversations.append(tuple(row[name] for name in CONVERSATION_COLUMNS))
    words = words_of(body)
    if words:
        chunk.sources.append((conversation_id, conversation_id, words))

    # Tags on about a third of the conversations, applied by an admin while handling it
    # (services.conversations.tag bumps updated_at to the tagging time, never past the last part).
    if admin_moments and rng.random() < 0.33:
        for tag_id in rng.sample(world.tag_ids, k=min(len(world.tag_ids), rng.randint(1, 3))):
            at, admin_id = rng.choice(admin_moments)
            chunk.tags.append((conversation_id, tag_id, at, "admin", str(admin_id)))
    chunk.touches.append((contact_id, replied_at, contacted_at))


def _account(
    world: World, outcome: rules.Outcome, history: list[stats.Event], tally: stats.Tally | None
) -> stats.Tally | None:
    """The statistics the conversation service stores after an outcome, folded exactly as
    services.timekeeping.account folds them (same events, same fold; the seeded workspace has
    no office hours and no SLA, so there is no tracker). The tally is kept between outcomes
    rather than stored and re-read (the service's JSON round trip gives back the same tally).
    `history`: the events so far, extended here, for the replay `account` does when there is
    no tally yet (admin-initiated messages) or a part is earlier than the last folded one."""
    if not outcome.parts:
        return tally
    events = timekeeping._events(outcome.parts, world.team_names_by_id)
    history.extend(events)
    if tally is None or not stats.in_order(tally, events):
        return stats.compute(history, None)
    return stats.fold(tally, events, None)


def _next_action(
    world: World, rng: random.Random, facts: Facts, contact: Author, now: int, *, first: bool
) -> rules.Outcome:
    body = rng.choice(world.bodies)
    if first:
        return rules.contact_reply(facts, author=contact, now=now, body=body)
    roll = rng.random()
    if facts.state is State.CLOSED:
        if roll < 0.55:  # the contact writes again: reopens (an `open` part with the body)
            return rules.contact_reply(facts, author=contact, now=now, body=body)
        return rules.open_(facts, author=_admin(world, rng, facts), now=now)
    if roll < 0.27:
        return rules.contact_reply(facts, author=contact, now=now, body=body)
    admin = _admin(world, rng, facts)
    if roll < 0.65:
        return rules.admin_reply(facts, author=admin, now=now, part_type="comment", body=body)
    if roll < 0.75:
        return rules.note(facts, author=admin, now=now, body=body)
    if roll < 0.87:
        if rng.random() < 0.7:
            assignee = Assignee("admin", rng.choice(world.admin_ids))
        else:
            assignee = Assignee("team", rng.choice(world.team_ids))
        return rules.assign(facts, author=admin, now=now, assignee=assignee, body=None)
    return rules.close(facts, author=admin, now=now, body=None)


# ----------------------------------------------------------------------------- sinks


LOADED_TABLES = (
    "conversations", "conversation_parts", "conversation_contacts", "conversation_tags",
    "messages", "conversation_source_words", "conversation_part_words",
)  # fmt: skip


class Sink:
    """Where rows go: one transaction per batch."""

    async def drop_indexes(self) -> None:
        raise NotImplementedError

    async def restore_indexes(self) -> None:
        raise NotImplementedError

    async def insert_words(self, kind: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Full-text rows (id, conversation id, words), kind "source" or "part"; a part's row
        has its ordinal in its conversation fourth."""
        raise NotImplementedError

    async def begin(self) -> None:
        raise NotImplementedError

    async def commit(self) -> None:
        raise NotImplementedError

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        raise NotImplementedError

    async def update_contacts(self, rows: Sequence[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    async def finish(self) -> None:
        raise NotImplementedError


class SqliteSink(Sink):
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-262144")  # 256 MB while loading
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.indexes: list[str] = []

    async def drop_indexes(self) -> None:
        marks = ", ".join("?" for _ in LOADED_TABLES)
        found = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({marks})",
            LOADED_TABLES,
        ).fetchall()
        for name, sql in found:
            self.conn.execute(f'DROP INDEX "{name}"')
            self.indexes.append(sql)

    async def restore_indexes(self) -> None:
        for sql in self.indexes:
            self.conn.execute(sql)
        self.conn.execute("ANALYZE")

    async def insert_words(self, kind: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if kind == "source":
            keyed = [(r[0], r[2]) for r in rows]
        else:
            keyed = [(fulltext.part_key(r[1], r[3]), r[2]) for r in rows]
        table = fulltext.SOURCE_FTS if kind == "source" else fulltext.PART_FTS
        self.conn.executemany(f"INSERT INTO {table} (rowid, words) VALUES (?, ?)", keyed)

    async def begin(self) -> None:
        self.conn.execute("BEGIN")

    async def commit(self) -> None:
        self.conn.execute("COMMIT")

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        if rows:
            marks = ", ".join("?" for _ in columns)
            self.conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
            )

    async def update_contacts(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.conn.executemany(
            "UPDATE contacts SET last_replied_at = ?, last_contacted_at = ?, updated_at = ?"
            " WHERE id = ?",
            rows,
        )

    async def finish(self) -> None:
        self.conn.execute("DELETE FROM conversation_counts")
        self.conn.execute(conversation_store.RECOUNT_VISIBLE)
        # Parley opens the file in WAL mode; leave no WAL behind and the mode set.
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()


class PostgresSink(Sink):
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.tx: Any = None
        self.indexes: list[str] = []
        self.staging = False

    async def drop_indexes(self) -> None:
        found = await self.conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " AND tablename = ANY($1::text[])"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            list(LOADED_TABLES),
        )
        for row in found:
            await self.conn.execute(f'DROP INDEX "{row["indexname"]}"')
            self.indexes.append(row["indexdef"])

    async def restore_indexes(self) -> None:
        await self.conn.execute("SET maintenance_work_mem = '512MB'")
        for sql in self.indexes:
            await self.conn.execute(sql)

    async def insert_words(self, kind: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        rows = [r[:3] for r in rows]
        if not self.staging:
            await self.conn.execute(
                "CREATE TEMP TABLE seed_words (id bigint, conversation_id bigint, words text)"
            )
            self.staging = True
        await self.conn.copy_records_to_table("seed_words", records=rows)
        if kind == "source":
            await self.conn.execute(
                "INSERT INTO conversation_source_words (conversation_id, words)"
                " SELECT id, to_tsvector('simple', words) FROM seed_words"
            )
        else:
            await self.conn.execute(
                "INSERT INTO conversation_part_words (part_id, conversation_id, words)"
                " SELECT id, conversation_id, to_tsvector('simple', words) FROM seed_words"
            )
        await self.conn.execute("TRUNCATE seed_words")

    @classmethod
    async def open(cls, url: str) -> PostgresSink:
        import asyncpg

        return cls(await asyncpg.connect(asyncpg_dsn(url)))

    async def begin(self) -> None:
        self.tx = self.conn.transaction()
        await self.tx.start()

    async def commit(self) -> None:
        await self.tx.commit()

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        if rows:
            await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def update_contacts(self, rows: Sequence[tuple[Any, ...]]) -> None:
        await self.conn.executemany(
            "UPDATE contacts SET last_replied_at = $1, last_contacted_at = $2, updated_at = $3"
            " WHERE id = $4",
            rows,
        )

    async def finish(self) -> None:
        await self.conn.execute("DELETE FROM conversation_counts")
        await self.conn.execute(conversation_store.RECOUNT_VISIBLE)
        for table in ("conversations", "conversation_parts", "messages"):
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        # VACUUM sets the visibility map, so counts over covering indexes are index-only scans
        # from the start (autovacuum would get there later).
        await self.conn.execute("VACUUM (ANALYZE)")
        await self.conn.close()


# ----------------------------------------------------------------------------- the run


@dataclass(frozen=True, slots=True)
class Options:
    url: str
    conversations: int
    contacts: int
    admins: int
    teams: int
    token: str
    seed: int
    end: int
    span_days: int
    chunk: int
    workers: int
    force: bool


class Progress:
    """Counters, and a Rich progress bar over conversations (or nothing when `bar` is None)."""

    def __init__(self, total: int, bar: RichProgress | None) -> None:
        self.total = total
        self.started = time.perf_counter()
        self.rows = 0
        self.conversations = 0
        self.parts = 0
        self.bar = bar
        self.task = None if bar is None else bar.add_task("conversations", total=total)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def advance(self, conversations: int) -> None:
        self.conversations += conversations
        if self.bar is not None and self.task is not None:
            self.bar.update(
                self.task,
                advance=conversations,
                description=f"conversations ({self.parts:,} parts)",
            )


def progress_bar(console: Console) -> RichProgress:
    return RichProgress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def prepare_store(options: Options) -> None:
    """A fresh schema at head: refuse to write into a store that has data unless --force."""
    url = options.url
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path.exists():
            if not options.force:
                raise SystemExit(f"{path} exists; pass --force to replace it")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        if _postgres_has_schema(url):
            if not options.force:
                raise SystemExit("the PostgreSQL database has a Parley schema; --force drops it")
            migrate.downgrade(url, "base")
    migrate.upgrade(url)


def _postgres_has_schema(url: str) -> bool:
    async def check() -> bool:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            return bool(await conn.fetchval("SELECT to_regclass('workspaces') IS NOT NULL"))
        finally:
            await conn.close()

    return asyncio.run(check())


async def create_workspace(options: Options, rng: random.Random) -> tuple[str, int, World]:
    """Workspace, owner, token, admins, teams and tags through Parley's services."""
    first_created = options.end - options.span_days * DAY
    workspace_time = first_created - 60 * DAY
    clock = FrozenClock(workspace_time)
    ids = IdFactory(options.seed)
    db = await connect(options.url)
    try:
        async with db.transaction(write=True) as tx:
            created = await workspaces.create(
                tx, clock=clock, ids=ids, name="Benchmark", owner_email="owner@bench.example",
                owner_name="Bench Owner", default_version="2.14", token=options.token,
            )  # fmt: skip
            ws = created.workspace_id
            bot_id = int((await admins.bot(tx, ws))["id"])
            admin_ids = [created.owner_admin_id]
            for n in range(options.admins - 1):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                admin_ids.append(
                    await admin_service.create_admin(
                        tx,
                        clock=clock,
                        workspace_id=ws,
                        name=f"{first} {last}",
                        email=f"agent{n + 1}@bench.example",
                        job_title="Support",
                    )
                )
            team_ids = []
            team_names = []
            for n in range(options.teams):
                members = rng.sample(admin_ids, k=max(1, len(admin_ids) // 2))
                team_ids.append(
                    await admin_service.create_team(
                        tx, clock=clock, workspace_id=ws, name=f"Team {n + 1}", member_ids=members
                    )
                )
                team_names.append((team_ids[-1], f"Team {n + 1}"))
            ctx = Context(clock=clock, ids=ids, workspace_id=ws, admin_id=created.owner_admin_id)
            tag_ids = []
            for name in TAG_NAMES:
                tag = await tag_service.create_or_update(tx, ctx, name=name, tag_id=None)
                tag_ids.append(int(tag["id"]))
    finally:
        await db.close()
    world = World(
        workspace_id=ws,
        seed=options.seed,
        total=options.conversations,
        first_created=first_created,
        last_created=options.end - 2 * HOUR,
        end=options.end,
        contacts=(),
        admin_ids=tuple(admin_ids),
        bot_id=bot_id,
        team_ids=tuple(team_ids),
        team_names=tuple(team_names),
        tag_ids=tuple(tag_ids),
        bodies=make_bodies(rng, 20_000),
        subjects=tuple(_sentence(rng)[:60] for _ in range(200)),
    )
    return ws, created.owner_admin_id, world


def make_contacts(
    options: Options, world: World, rng: random.Random
) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    """~70% users (external_id, email, name), ~30% leads; rows as contacts.insert writes them."""
    ids = IdFactory(options.seed + 1)
    rows: list[tuple[Any, ...]] = []
    created: dict[str, int] = {}
    start = world.first_created - 60 * DAY
    for n in range(options.contacts):
        contact_id = ids.contact_id()
        at = start + rng.randrange(60 * DAY)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if rng.random() < 0.7:
            role, ext, name = "user", f"user-{n:06d}", f"{first} {last}"
            email: str | None = f"{first}.{last}.{n}@customer.example".lower()
            signed_up: int | None = at
        else:
            role, ext, name, signed_up = "lead", None, None, None
            email = f"lead.{n}@visitor.example" if rng.random() < 0.5 else None
        attributes = "{}"
        if rng.random() < 0.4:
            attributes = _dumps({"tier": rng.choice(PLANS), "employees": rng.randint(1, 5000)})
        rows.append(
            (contact_id, world.workspace_id, role, email, ext, None, name, None, None, False,
             False, False, None, attributes, False, signed_up, None, None, None, at, at)
        )  # fmt: skip
        created[contact_id] = at
    return rows, created


async def open_sink(url: str) -> Sink:
    if url.startswith("sqlite"):
        return SqliteSink(sqlite_path(url))
    return await PostgresSink.open(url)


def _jobs(total: int, size: int) -> Iterator[tuple[int, int, int]]:
    for index, first in enumerate(range(1, total + 1, size)):
        yield index, first, min(size, total - first + 1)


async def load(
    options: Options, world: World, contact_rows: list[tuple[Any, ...]], console: Console | None
) -> Progress:
    created_at = {row[0]: row[19] for row in contact_rows}
    sink = await open_sink(options.url)
    await sink.drop_indexes()
    await sink.begin()
    for start in range(0, len(contact_rows), 20_000):
        await sink.insert("contacts", CONTACT_COLUMNS, contact_rows[start : start + 20_000])
    await sink.commit()

    heap: list[tuple[int, int, int, tuple[Any, ...]]] = []
    next_part_id = 1
    replied: dict[str, int] = {}
    contacted: dict[str, int] = {}
    body_at = PART_COLUMNS.index("body")
    redacted_at = PART_COLUMNS.index("redacted")

    def due(before: int | None) -> list[tuple[Any, ...]]:
        """Parts whose time is before `before` (all when None), with ids in time order."""
        nonlocal next_part_id
        out = []
        while heap and (before is None or heap[0][0] < before):
            _, _, _, values = heapq.heappop(heap)
            out.append((next_part_id, *values))
            next_part_id += 1
        return out

    parts_seen: dict[int, int] = {}  # conversation id -> parts numbered so far

    def part_words(parts: list[tuple[Any, ...]]) -> list[tuple[int, int, str, int]]:
        """(part id, conversation id, words, ordinal) of the indexed parts; every part, in id
        order, is numbered, indexed or not (the ordinal counts all of a conversation's parts)."""
        rows = []
        for part in parts:
            ordinal = parts_seen.get(part[1], 0)
            parts_seen[part[1]] = ordinal + 1
            if not part[redacted_at]:
                words = words_of(part[body_at])
                if words:
                    rows.append((part[0], part[1], words, ordinal))
        return rows

    bar = progress_bar(console) if console is not None else None
    progress = Progress(options.conversations, bar)
    progress.rows += len(contact_rows)
    context = multiprocessing.get_context("fork")
    with (
        bar if bar is not None else _nothing(),
        context.Pool(options.workers, initializer=_init_worker, initargs=(world,)) as pool,
    ):
        for chunk in pool.imap(generate_chunk, _jobs(options.conversations, options.chunk)):
            for item in chunk.parts:
                heapq.heappush(heap, item)
            # Later chunks start no earlier than this one's last conversation.
            parts = due(chunk.last_created)
            await sink.begin()
            await sink.insert("conversations", CONVERSATION_COLUMNS, chunk.conversations)
            await sink.insert("messages", MESSAGE_COLUMNS, chunk.messages)
            await sink.insert("conversation_contacts", PARTICIPANT_COLUMNS, chunk.participants)
            await sink.insert("conversation_tags", CONVERSATION_TAG_COLUMNS, chunk.tags)
            await sink.insert("conversation_parts", PART_COLUMNS, parts)
            await sink.insert_words("source", chunk.sources)
            await sink.insert_words("part", part_words(parts))
            await sink.commit()
            for contact_id, replied_at, contacted_at in chunk.touches:
                if replied_at is not None and replied_at > replied.get(contact_id, -1):
                    replied[contact_id] = replied_at
                if contacted_at is not None and contacted_at > contacted.get(contact_id, -1):
                    contacted[contact_id] = contacted_at
            progress.parts += len(parts)
            progress.rows += (
                len(chunk.conversations) + len(chunk.messages) + len(chunk.participants)
                + len(chunk.tags) + 2 * len(parts)
            )  # fmt: skip
            progress.advance(len(chunk.conversations))
        parts = due(None)
        touched = sorted(set(replied) | set(contacted))
        updates = [
            (replied.get(cid), contacted.get(cid), max(created_at[cid], replied.get(cid, 0)), cid)
            for cid in touched
        ]
        await sink.begin()
        await sink.insert("conversation_parts", PART_COLUMNS, parts)
        await sink.insert_words("part", part_words(parts))
        await sink.update_contacts(updates)
        await sink.commit()
        progress.parts += len(parts)
        progress.rows += len(parts) + len(updates)
        progress.advance(0)
    if console is not None:
        console.print(f"  loaded in {progress.elapsed():.1f}s; rebuilding indexes…")
    await sink.restore_indexes()
    await sink.finish()
    return progress


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Seeded:
    workspace_id: str
    owner_admin_id: int
    admin_ids: tuple[int, ...]
    team_ids: tuple[int, ...]
    tag_ids: tuple[int, ...]
    token: str
    conversations: int
    parts: int
    rows: int
    seconds: float


def run(options: Options, console: Console | None = None) -> Seeded:
    """Seed a fresh store (replacing an existing one only with `force`)."""
    began = time.perf_counter()
    prepare_store(options)
    rng = random.Random(options.seed)
    workspace_id, owner_id, world = asyncio.run(create_workspace(options, rng))
    contact_rows, _ = make_contacts(options, world, rng)
    world = replace(world, contacts=tuple((row[0], row[2]) for row in contact_rows))
    progress = asyncio.run(load(options, world, contact_rows, console))
    return Seeded(
        workspace_id, owner_id, world.admin_ids, world.team_ids, world.tag_ids, options.token,
        progress.conversations, progress.parts, progress.rows, time.perf_counter() - began,
    )  # fmt: skip


def default_end() -> int:
    return SystemClock().now()


def default_workers() -> int:
    return min(2, os.cpu_count() or 1)
