"""Bulk-seed a Parley store for benchmarks: one workspace with admins, teams, tags, contacts and
N conversations of about ten parts each, written with bulk SQL (not through the API).

    python benchmarks/seed.py --data-dir benchmarks/data/sqlite-100000 --conversations 100000
    python benchmarks/seed.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench \\
        --conversations 10000 --force

How the rows are made, so that they are exactly what Parley itself writes:

* The workspace, its bot, its owner and the access token come from
  `parley.services.workspaces.create` (with a fixed token, `--token`), and the admins, teams and
  tags from their services, through Parley's own SQL layer.
* Every conversation is played through the lifecycle rules (`parley.domain.conversation`: the
  contact starts it, then admin comments, contact comments, notes, assignments, close and
  reopen), and its rows are built by the conversation service's own row builders
  (`_fact_columns`, `_part_values`). So `state`, `waiting_since`, `first_contact_reply_at`,
  `statistics`, `teammate_ids`, `read`, `visible` and `part_count` are what the same sequence of
  API calls would have left behind. About 10% of the conversations are admin-initiated messages
  (POST /messages) that the contact answered, so every conversation is visible.
* The statistics are kept as services.timekeeping keeps them (when the tree has it): each
  outcome's parts folded into the tally by parley.domain.statistics, for a workspace without
  office hours or SLA policies. The full-text index (parley.db.fulltext) gets the words of every
  source and part body, as the SQL layer's hooks write them.
* Each conversation's stored document (the GET fast path: a `conversation_documents` row, or
  the `conversations.document` column of earlier trees) is what the reply/manage routes keep
  after its last write: its default-version rendering by parley.render.conversation, from rows
  shaped like the readers' joins; `revision` counts the writes (one per action, one per tag).
* `--verify N` (default 200) checks N random conversations afterwards against Parley's own
  readers: the stored document byte for byte against what GET renders from the rows, the
  statistics against timekeeping's recomputation from the stored parts.
* Part ids follow time within each batch of conversations, as they would in a live store: the
  parts of conversations that run at the same time interleave in the parts table.
* Contacts get `last_replied_at`/`last_contacted_at`/`updated_at` as the services' touches would.
  The outbox is not seeded: it is a delivery queue, and the seeded history counts as delivered.

Generation runs in worker processes (rules, statistics and rendering cost ~0.7 ms per
conversation); the main process writes: stdlib sqlite3 (`synchronous=OFF`, no journal while
loading, WAL set back at the end) or asyncpg `copy_records_to_table`, one transaction per batch
of 2,000 conversations. Secondary indexes of the loaded tables are dropped first and rebuilt at
the end from their own definitions, so the schema afterwards is exactly the migrations'.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import random
import resource
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from parley.db import admins as admin_db
from parley.db import conversations as conversation_db
from parley.db import migrate
from parley.db.database import Transaction, asyncpg_dsn, connect, sqlite_path
from parley.domain import conversation as rules
from parley.domain.conversation import Assignee, Author, Facts, State
from parley.kit.clock import FrozenClock, SystemClock
from parley.kit.html import as_paragraphs
from parley.kit.ids import IdFactory
from parley.render import conversation as render
from parley.services import admins as admin_service
from parley.services import tags as tag_service
from parley.services import workspaces
from parley.services.context import Context

# The conversation service's own row builders: the seed writes columns exactly as it does.
from parley.services.conversations import _fact_columns, _new_conversation, _part_values

try:  # the full-text index the SQL layer keeps (when this tree has it)
    from parley.kit.words import document as words_document
except ImportError:  # pragma: no cover
    words_document = None  # type: ignore[assignment]

try:  # statistics kept by services.timekeeping (when this tree has it) rather than the rules
    from parley.domain import statistics as stats
    from parley.services import timekeeping
except ImportError:  # pragma: no cover - an older tree: the rules keep the statistics
    stats = None  # type: ignore[assignment]
    timekeeping = None  # type: ignore[assignment]

DAY = 86_400
HOUR = 3_600

MESSAGE_COLUMNS = (
    "id", "workspace_id", "conversation_id", "type", "message_type", "subject", "body",
    "admin_id", "created_at",
)  # fmt: skip
LOADED_TABLES = (
    "contacts", "conversations", "messages", "conversation_contacts", "conversation_tags",
    "conversation_parts", "conversation_documents",
)  # fmt: skip
DOCUMENT_COLUMNS = ("conversation_id", "revision", "body")
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

WORDS = (
    "account billing invoice order delivery refund password login export import report team "
    "workspace plan upgrade downgrade trial card payment error page button dashboard settings "
    "email notification mobile app browser integration webhook api token key access permission "
    "user admin customer issue problem question answer help thanks please could would should "
    "today yesterday tomorrow morning week month again still already just really quite since "
    "after before while when where which because maybe probably definitely working broken slow "
    "fast missing wrong right new old first last next previous update change fix check try see"
).split()
FIRST_NAMES = (
    "Ada Alan Grace Linus Margaret Dennis Barbara Ken Frances Donald Edsger Radia Tim Sophie "
    "John Mary Ahmed Mei Lucia Ivan Priya Kofi Ana Lars Yuki Omar Elena Noah Zara Hugo"
).split()
LAST_NAMES = (
    "Lovelace Turing Hopper Torvalds Hamilton Ritchie Liskov Thompson Allen Knuth Dijkstra "
    "Perlman Berners-Lee Wilson Smith Jones Khan Chen Garcia Petrov Patel Mensah Silva Berg "
    "Sato Haddad Popescu Cohen Ali Martin"
).split()
TAG_NAMES = (
    "billing", "bug", "feature-request", "vip", "churn-risk", "onboarding", "mobile", "api",
    "refund", "urgent", "enterprise", "trial", "integration", "security", "feedback", "sales",
    "follow-up", "escalated", "duplicate", "spam",
)  # fmt: skip


# ----------------------------------------------------------------------------- the world


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    role: str
    name: str | None
    email: str | None
    external_id: str | None


@dataclass(frozen=True, slots=True)
class World:
    """What every generator process needs, sent to each worker once."""

    workspace_id: str
    seed: int
    total: int  # conversations
    first_created: int  # the first conversation's created_at
    last_created: int  # the last conversation's created_at
    end: int  # "now": no part is later
    contacts: tuple[Contact, ...]
    admins: dict[int, tuple[str, str]]  # human admin id -> (name, email)
    teams: dict[int, str]  # id -> name
    tags: dict[int, str]  # id -> name
    bodies: tuple[str, ...]  # HTML, as the services store them
    subjects: tuple[str, ...]
    # Where the GET fast path keeps documents: "table" (conversation_documents), "column"
    # (conversations.document, earlier trees) or None.
    documents: str | None
    fulltext: bool  # the schema has the full-text index (parley.db.fulltext)


@dataclass(slots=True)
class Chunk:
    conversation_columns: tuple[str, ...] = ()
    conversations: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    participants: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    parts: list[tuple[Any, ...]] = field(default_factory=list)  # with their ids
    documents: list[tuple[int, int, str]] = field(default_factory=list)  # (id, revision, body)
    # full-text rows (id, conversation id, words): source bodies (id = conversation id), parts
    source_words: list[tuple[int, int, str]] = field(default_factory=list)
    part_words: list[tuple[int, int, str]] = field(default_factory=list)
    # (contact id, replied at, contacted at): the services' contacts.touch_* calls
    touches: list[tuple[str, int | None, int | None]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Job:
    index: int
    first_id: int  # conversation ids first_id .. first_id + len(steps) - 1
    first_part_id: int
    steps: tuple[int, ...]  # actions (= parts) per conversation


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(4, 16))]
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
_words: dict[str, str] = {}  # body -> its full-text words (bodies come from a pool)


def _words_of(body: str | None) -> str:
    """What parley.db.fulltext indexes for a body ("" = not indexed)."""
    if body is None or words_document is None:
        return ""
    found = _words.get(body)
    if found is None:
        found = _words[body] = words_document(body)
    return found


# _new_conversation takes a Context it does not read; any will do.
_CONTEXT = Context(clock=FrozenClock(0), ids=IdFactory(0), workspace_id="", admin_id=0)


def _init_worker(world: World) -> None:
    global _world
    _world = world
    # dataclasses.replace is a third of the lifecycle rules' cost (it re-reads every field's
    # metadata on each call). In these throwaway worker processes only, the rules module gets
    # an equivalent that caches the field names; it refuses classes it would not be exact for.
    rules.replace = _fast_replace  # type: ignore[attr-defined]


_init_fields: dict[type, tuple[str, ...] | None] = {}


def _fast_replace(obj: Any, /, **changes: Any) -> Any:
    cls = type(obj)
    names = _init_fields.get(cls, ())
    if names == ():
        every = dataclasses.fields(obj)
        exact = all(f.init for f in every) and not any(
            isinstance(f.type, dataclasses.InitVar) or f.type == "InitVar" for f in every
        )
        names = _init_fields[cls] = tuple(f.name for f in every) if exact else None
    if names is None:
        return dataclasses.replace(obj, **changes)
    values = {name: getattr(obj, name) for name in names}
    values.update(changes)
    return cls(**values)


def _created_at(world: World, index: int, rng: random.Random) -> int:
    """Creation times rise with the id (ids are handed out in time order in a live store)."""
    span = world.last_created - world.first_created
    slot = span / max(1, world.total)
    return world.first_created + int(index * slot + rng.random() * slot * 0.9)


@dataclass(slots=True)
class _Draft:
    """One conversation before its parts have ids."""

    row: dict[str, Any]
    contact: Contact
    parts: list[tuple[int, int, dict[str, Any]]]  # (created_at, sequence, part values)
    tags: list[tuple[Any, ...]]


def generate_chunk(job: Job) -> Chunk:
    """The job's conversations, deterministic per chunk. Part ids follow time within the chunk
    (first_part_id onwards), so parts of conversations that overlap in time interleave."""
    world = _world
    assert world is not None, "worker not initialised"
    rng = random.Random(world.seed * 1_000_003 + job.index)
    chunk = Chunk()
    drafts = [
        _conversation(world, rng, chunk, job.first_id + n, steps)
        for n, steps in enumerate(job.steps)
    ]
    ordered = sorted(
        (at, draft.row["id"], sequence, values)
        for draft in drafts
        for at, sequence, values in draft.parts
    )
    part_id = job.first_part_id
    for _, _, _, values in ordered:
        values["id"] = part_id
        part_id += 1
    assert part_id - job.first_part_id == sum(job.steps), "one part per step"
    for draft in drafts:
        if world.documents == "table":
            row = draft.row
            chunk.documents.append((row["id"], row["revision"], _document(world, draft)))
        elif world.documents == "column":
            draft.row["document"] = _document(world, draft)
        if not chunk.conversation_columns:
            chunk.conversation_columns = tuple(draft.row)
        chunk.conversations.append(tuple(draft.row.values()))
        chunk.tags.extend(draft.tags)
        chunk.parts.extend(tuple(values.values()) for _, _, values in draft.parts)
        if world.fulltext:  # db.conversations.insert / insert_part index unredacted bodies
            conversation_id = draft.row["id"]
            if words := _words_of(draft.row["source_body"]):
                chunk.source_words.append((conversation_id, conversation_id, words))
            for _, _, values in draft.parts:
                if words := _words_of(values["body"]):
                    chunk.part_words.append((values["id"], conversation_id, words))
    return chunk


def _document(world: World, draft: _Draft) -> str:
    """What the reply/manage routes keep after each write: the default-version rendering, from
    rows shaped as the readers' joins return them (db.conversations get/contacts_of/tags_of/
    parts_of)."""
    row = dict(draft.row)
    admin = world.admins.get(row["source_author_admin_id"])
    author_contact = draft.contact if row["source_author_contact_id"] is not None else None
    row.update(
        source_admin_name=admin[0] if admin else None,
        source_admin_email=admin[1] if admin else None,
        source_admin_kind="admin" if admin else None,
        source_contact_name=author_contact.name if author_contact else None,
        source_contact_email=author_contact.email if author_contact else None,
    )
    contact = draft.contact
    contact_row = {"id": contact.id, "external_id": contact.external_id, "role": contact.role,
                   "name": contact.name, "email": contact.email}  # fmt: skip
    tag_rows = [
        {
            "id": tag_id,
            "name": world.tags[tag_id],
            "applied_at": at,
            "applied_by_type": kind,
            "applied_by_id": by,
        }
        for _, tag_id, at, kind, by in sorted(draft.tags, key=lambda t: (t[2], t[1]))
    ]
    part_rows = []
    for _, _, values in draft.parts:
        part_admin = world.admins.get(values["author_admin_id"])
        part_rows.append(
            {**values, "admin_name": part_admin[0] if part_admin else None,
             "admin_email": part_admin[1] if part_admin else None,
             "contact_name": contact.name if values["author_contact_id"] else None,
             "contact_email": contact.email if values["author_contact_id"] else None}
        )  # fmt: skip
    rendered = render.conversation(
        row, contacts=[contact_row], tags=tag_rows, parts=part_rows,
        version=render.DOCUMENT_VERSION,
    )  # fmt: skip
    return orjson.dumps(rendered).decode()


def _admin(world: World, rng: random.Random, facts: Facts) -> Author:
    """Mostly the assignee, otherwise any teammate."""
    if facts.admin_assignee_id is not None and rng.random() < 0.7:
        return Author("admin", admin_id=facts.admin_assignee_id)
    return Author("admin", admin_id=rng.choice(list(world.admins)))


def _conversation(
    world: World, rng: random.Random, chunk: Chunk, conversation_id: int, steps: int
) -> _Draft:
    ws = world.workspace_id
    admin_ids = list(world.admins)
    created_at = _created_at(world, conversation_id - 1, rng)
    contact = rng.choice(world.contacts)
    author = Author(contact.role, contact_id=contact.id)
    body = rng.choice(world.bodies)
    start = _new_conversation(_CONTEXT, now=created_at)
    admin_initiated = rng.random() < 0.10
    replied_at: int | None = None
    contacted_at: int | None = None
    timeline = _Timeline()  # the statistics tally (services.timekeeping)
    if admin_initiated:
        # POST /messages (create_from_admin): invisible until the contact answers.
        sender = rng.choice(admin_ids)
        message_type = "email" if rng.random() < 0.5 else "inapp"
        subject = rng.choice(world.subjects) if message_type == "email" else None
        facts = _fast_replace(start, visible=False, read=True, teammate_ids=(sender,))
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
        if timekeeping is not None:
            timeline.start(stats.Event(created_at, stats.CONTACT, parts=0))
        chunk.messages.append(
            (conversation_id, ws, conversation_id, "user_message", "inapp", None, body, None,
             created_at)
        )  # fmt: skip
        source = {
            "source_type": "conversation",
            "source_delivered_as": "customer_initiated",
            "source_subject": "",
            "source_author_type": contact.role,
            "source_author_admin_id": None,
            "source_author_contact_id": contact.id,
        }
        replied_at = created_at
    chunk.participants.append((conversation_id, contact.id, 1))

    now = created_at
    admin_moments: list[tuple[int, int]] = []  # (time, admin id) of admin-authored parts
    parts: list[tuple[int, int, dict[str, Any]]] = []
    for step in range(steps):
        gap = rng.expovariate(1 / (HOUR if step == 0 else 3 * HOUR))
        now = min(world.end, now + 1 + int(gap))
        outcome = _next_action(world, rng, facts, author, now, first=admin_initiated and not step)
        assert len(outcome.parts) == 1, "every seeded action writes one part"
        draft = outcome.parts[0]
        parts.append((now, step, {"id": 0, **_part_values(conversation_id, draft, now)}))
        if draft.author.admin_id is not None and draft.author.type == "admin":
            admin_moments.append((now, draft.author.admin_id))
        elif draft.author.contact_id is not None:
            replied_at = now
        timeline.account(world, outcome)
        facts = outcome.facts

    # Tags on about a third of the conversations, applied by an admin while handling it
    # (services.conversations.tag bumps updated_at to the tagging time, never past the last part).
    tags: list[tuple[Any, ...]] = []
    if admin_moments and rng.random() < 0.33:
        for tag_id in rng.sample(list(world.tags), k=min(len(world.tags), rng.randint(1, 3))):
            at, admin_id = rng.choice(admin_moments)
            tags.append((conversation_id, tag_id, at, "admin", str(admin_id)))

    row = {
        "id": conversation_id,
        "workspace_id": ws,
        "created_at": created_at,
        "updated_at": now,
        "title": None,
        "priority": "none",
        **source,
        "source_id": str(conversation_id),  # the message's id; messages share the conversation's
        "source_body": body,
        "source_url": None,
        "source_redacted": False,
        "source_attachments": "[]",
        "custom_attributes": "{}",
        "conversation_rating": None,
        "sla_applied": None,
        "ai_agent_participated": False,
        **_fact_columns(_fast_replace(facts, statistics=timeline.statistics(facts))),
    }
    if world.documents:
        # store.update bumps the revision once per write: one per action, one per tag.
        row["revision"] = steps + len(tags)
    chunk.touches.append((contact.id, replied_at, contacted_at))
    return _Draft(row, contact, parts, tags)


class _Timeline:
    """services.timekeeping.account for a workspace without office hours or SLA policies (so
    it reads nothing): each outcome's parts folded into the statistics tally, or the tally
    computed from the whole history when there is none yet (an admin-initiated conversation's
    first part) or the parts are out of order. The service stores the tally in `statistics`
    between writes and loads it again; the lifecycle rules never read it, so the seed keeps it
    in memory and stores it once, at the end."""

    def __init__(self) -> None:
        self.history: list[Any] = []
        self.tally: Any = None

    def start(self, source: Any) -> None:
        """A contact's source message (initial_statistics)."""
        self.history.append(source)
        self.tally = stats.compute(self.history, None)

    def account(self, world: World, outcome: rules.Outcome) -> None:
        if timekeeping is None:
            return
        events = timekeeping._events(outcome.parts, world.teams)
        self.history.extend(events)
        if self.tally is None or not stats.in_order(self.tally, events):
            self.tally = stats.compute(self.history, None)
        else:
            stats.fold(self.tally, events, None)

    def statistics(self, facts: Facts) -> dict[str, Any]:
        return facts.statistics if self.tally is None else self.tally.statistics()


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
            assignee = Assignee("admin", rng.choice(list(world.admins)))
        else:
            assignee = Assignee("team", rng.choice(list(world.teams)))
        return rules.assign(facts, author=admin, now=now, assignee=assignee, body=None)
    return rules.close(facts, author=admin, now=now, body=None)


# ----------------------------------------------------------------------------- sinks


class Sink:
    """Where rows go: one transaction per batch."""

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

    async def insert_words(self, kind: str, rows: Sequence[tuple[int, int, str]]) -> None:
        """Full-text rows (id, conversation id, words); kind "source" or "part"."""
        raise NotImplementedError

    async def drop_indexes(self, tables: Sequence[str]) -> None:
        """Drop the tables' secondary indexes (keeping their definitions): one sorted build at
        the end is much faster than updating a dozen indexes row by row."""
        raise NotImplementedError

    async def restore_indexes(self) -> None:
        """Recreate the dropped indexes from their own definitions: the migrations' schema."""
        raise NotImplementedError

    async def finish(self) -> None:
        raise NotImplementedError


class SqliteSink(Sink):
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA synchronous=OFF")
        # No journal while loading (a failed seed is simply run again); WAL is set back at the
        # end, as Parley expects it.
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA cache_size=-262144")  # 256 MB while loading
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.indexes: list[str] = []

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

    async def drop_indexes(self, tables: Sequence[str]) -> None:
        marks = ", ".join("?" for _ in tables)
        found = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({marks}) ORDER BY name",
            list(tables),
        ).fetchall()
        self.indexes = [sql for _, sql in found]
        for name, _ in found:
            self.conn.execute(f'DROP INDEX "{name}"')

    async def restore_indexes(self) -> None:
        for sql in self.indexes:
            self.conn.execute(sql)

    async def insert_words(self, kind: str, rows: Sequence[tuple[int, int, str]]) -> None:
        if rows:  # contentless FTS5 tables keyed by conversation / part id (db/fulltext.py)
            table = "conversation_source_fts" if kind == "source" else "conversation_part_fts"
            self.conn.executemany(
                f"INSERT INTO {table} (rowid, words) VALUES (?, ?)", [(r[0], r[2]) for r in rows]
            )

    async def update_contacts(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.conn.executemany(
            "UPDATE contacts SET last_replied_at = ?, last_contacted_at = ?, updated_at = ?"
            " WHERE id = ?",
            rows,
        )

    async def finish(self) -> None:
        # Parley opens the file in WAL mode; leave no WAL behind and the mode set.
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()


class PostgresSink(Sink):
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.tx: Any = None
        self.staging = False
        self.indexes: list[str] = []

    async def drop_indexes(self, tables: Sequence[str]) -> None:
        found = await self.conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i"
            " WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid ="
            " (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)"
            " ORDER BY i.indexname",
            list(tables),
        )
        self.indexes = [row["indexdef"] for row in found]
        for row in found:
            await self.conn.execute(f'DROP INDEX "{row["indexname"]}"')

    async def restore_indexes(self) -> None:
        await self.conn.execute("SET maintenance_work_mem = '256MB'")
        for sql in self.indexes:
            await self.conn.execute(sql)

    async def insert_words(self, kind: str, rows: Sequence[tuple[int, int, str]]) -> None:
        """tsvectors keyed by id (db/fulltext.py), made by the server from a staging table."""
        if not rows:
            return
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
        for table in ("conversations", "conversation_parts", "messages"):
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        await self.conn.execute("ANALYZE")
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
    verify: int


class Progress:
    def __init__(self, total: int) -> None:
        self.total = total
        self.started = time.perf_counter()
        self.rows = 0
        self.conversations = 0
        self.parts = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def report(self, *, final: bool = False) -> None:
        elapsed = self.elapsed()
        rate = self.rows / elapsed if elapsed else 0.0
        label = "done" if final else "    "
        print(
            f"  {label} conversations {self.conversations:>9,}/{self.total:,}"
            f"  parts {self.parts:>10,}  rows {self.rows:>11,}"
            f"  {rate:>9,.0f} rows/s  {elapsed:6.1f}s",
            flush=True,
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
    elif _postgres_has_schema(url):
        if not options.force:
            raise SystemExit("the PostgreSQL database has a Parley schema; --force drops it")
        # Not `alembic downgrade base`: a store made by other revisions of the migrations may
        # not downgrade cleanly. The database is the benchmark's: drop its schema outright.
        _postgres_reset(url)
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


def _postgres_reset(url: str) -> None:
    async def reset() -> None:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            schema = await conn.fetchval("SELECT current_schema()")
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE; CREATE SCHEMA "{schema}"')
        finally:
            await conn.close()

    asyncio.run(reset())


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
            for n in range(options.admins - 1):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                await admin_service.create_admin(
                    tx, clock=clock, workspace_id=ws, name=f"{first} {last}",
                    email=f"agent{n + 1}@bench.example", job_title="Support",
                )  # fmt: skip
            admins = {
                int(row["id"]): (str(row["name"]), str(row["email"]))
                for row in await admin_db.list_for_workspace(tx, ws)
            }
            teams = {}
            for n in range(options.teams):
                members = rng.sample(sorted(admins), k=max(1, len(admins) // 2))
                name = f"Team {n + 1}"
                team_id = await admin_service.create_team(
                    tx, clock=clock, workspace_id=ws, name=name, member_ids=members
                )
                teams[team_id] = name
            ctx = Context(clock=clock, ids=ids, workspace_id=ws, admin_id=created.owner_admin_id)
            tags = {}
            for name in TAG_NAMES:
                tag = await tag_service.create_or_update(tx, ctx, name=name, tag_id=None)
                tags[int(tag["id"])] = str(tag["name"])
            documents = (
                "table" if await _has_table(tx, "conversation_documents")
                else "column" if await _has_column(tx, "conversations", "document")
                else None
            )  # fmt: skip
            fulltext = words_document is not None and await _has_table(
                tx,
                "conversation_source_fts"
                if tx.dialect == "sqlite"
                else "conversation_source_words",
            )
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
        admins=admins,
        teams=teams,
        tags=tags,
        bodies=make_bodies(rng, 4000),
        subjects=tuple(_sentence(rng)[:60] for _ in range(200)),
        documents=documents,
        fulltext=fulltext,
    )
    return ws, created.owner_admin_id, world


async def _has_table(tx: Transaction, table: str) -> bool:
    if tx.dialect == "sqlite":
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :table"
    else:
        sql = "SELECT count(*) FROM information_schema.tables WHERE table_name = :table"
    return bool(await tx.fetch_val(sql, {"table": table}))


async def _has_column(tx: Transaction, table: str, column: str) -> bool:
    if tx.dialect == "sqlite":
        rows = await tx.fetch_all(f"PRAGMA table_info({table})")
        return any(row["name"] == column for row in rows)
    found = await tx.fetch_val(
        "SELECT count(*) FROM information_schema.columns"
        " WHERE table_name = :table AND column_name = :column",
        {"table": table, "column": column},
    )
    return bool(found)


def make_contacts(options: Options, world: World, rng: random.Random) -> list[tuple[Any, ...]]:
    """~70% users (external_id, email, name), ~30% leads; rows as contacts.insert writes them."""
    ids = IdFactory(options.seed + 1)
    rows: list[tuple[Any, ...]] = []
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
        rows.append(
            (contact_id, world.workspace_id, role, email, ext, None, name, None, None, False,
             False, False, None, "{}", False, signed_up, None, None, None, at, at)
        )  # fmt: skip
    return rows


async def open_sink(url: str) -> Sink:
    if url.startswith("sqlite"):
        return SqliteSink(sqlite_path(url))
    return await PostgresSink.open(url)


def make_jobs(options: Options) -> list[Job]:
    """Chunks of conversations with their number of actions drawn up front, so each chunk
    knows where its part ids start."""
    rng = random.Random(options.seed * 7 + 3)
    steps = [rng.randint(7, 13) for _ in range(options.conversations)]
    jobs = []
    part_id = 1
    for index, start in enumerate(range(0, options.conversations, options.chunk)):
        chunk_steps = tuple(steps[start : start + options.chunk])
        jobs.append(Job(index, start + 1, part_id, chunk_steps))
        part_id += sum(chunk_steps)
    return jobs


async def load(options: Options, world: World, contact_rows: list[tuple[Any, ...]]) -> None:
    created_at = {row[0]: row[19] for row in contact_rows}
    progress = Progress(options.conversations)
    sink = await open_sink(options.url)
    await sink.drop_indexes(LOADED_TABLES)
    await sink.begin()
    for start in range(0, len(contact_rows), 20_000):
        await sink.insert("contacts", CONTACT_COLUMNS, contact_rows[start : start + 20_000])
    await sink.commit()
    progress.rows += len(contact_rows)
    print(f"  contacts {len(contact_rows):,} in {progress.elapsed():.1f}s", flush=True)

    replied: dict[str, int] = {}
    contacted: dict[str, int] = {}
    context = multiprocessing.get_context("fork")
    with context.Pool(options.workers, initializer=_init_worker, initargs=(world,)) as pool:
        for chunk in pool.imap(generate_chunk, make_jobs(options)):
            await sink.begin()
            await sink.insert("conversations", chunk.conversation_columns, chunk.conversations)
            await sink.insert("messages", MESSAGE_COLUMNS, chunk.messages)
            await sink.insert("conversation_contacts", PARTICIPANT_COLUMNS, chunk.participants)
            await sink.insert("conversation_tags", CONVERSATION_TAG_COLUMNS, chunk.tags)
            await sink.insert("conversation_parts", PART_COLUMNS, chunk.parts)
            await sink.insert("conversation_documents", DOCUMENT_COLUMNS, chunk.documents)
            await sink.insert_words("source", chunk.source_words)
            await sink.insert_words("part", chunk.part_words)
            await sink.commit()
            for contact_id, replied_at, contacted_at in chunk.touches:
                if replied_at is not None and replied_at > replied.get(contact_id, -1):
                    replied[contact_id] = replied_at
                if contacted_at is not None and contacted_at > contacted.get(contact_id, -1):
                    contacted[contact_id] = contacted_at
            progress.conversations += len(chunk.conversations)
            progress.parts += len(chunk.parts)
            progress.rows += (
                len(chunk.conversations) + len(chunk.messages) + len(chunk.participants)
                + len(chunk.tags) + len(chunk.parts) + len(chunk.source_words)
                + len(chunk.part_words) + len(chunk.documents)
            )  # fmt: skip
            if progress.conversations % (options.chunk * 5) == 0:
                progress.report()
    touched = sorted(set(replied) | set(contacted))
    updates = [
        (replied.get(cid), contacted.get(cid), max(created_at[cid], replied.get(cid, 0)), cid)
        for cid in touched
    ]
    await sink.begin()
    await sink.update_contacts(updates)
    await sink.commit()
    progress.rows += len(updates)
    progress.report(final=True)
    finishing = time.perf_counter()
    await sink.restore_indexes()
    print(f"  indexes rebuilt in {time.perf_counter() - finishing:.1f}s", flush=True)
    finishing = time.perf_counter()
    await sink.finish()
    finished = time.perf_counter() - finishing
    print(f"  finished (WAL checkpoint; sequences and ANALYZE on PostgreSQL) in {finished:.1f}s")


async def verify(options: Options, world: World, sample: int) -> None:
    """Check the seeded rows against Parley's own readers for `sample` random conversations:
    the stored document must be byte for byte what GET renders from the rows (services view +
    render, as routes/conversations.py does), and the statistics what timekeeping recomputes
    from the stored parts."""
    from parley.services import conversations as service

    rng = random.Random(options.seed + 99)
    ids = rng.sample(range(1, options.conversations + 1), min(sample, options.conversations))
    ctx = Context(clock=FrozenClock(options.end), ids=IdFactory(0), workspace_id=world.workspace_id,
                  admin_id=min(world.admins))  # fmt: skip
    problems: list[str] = []
    db = await connect(options.url)
    try:
        async with db.transaction() as tx:
            for conversation_id in ids:
                view = await service.view(tx, ctx, conversation_id)
                if world.documents:
                    # What GET serves: the stored document if current for the revision.
                    found = await conversation_db.document(tx, world.workspace_id, conversation_id)
                    stored = None if found is None else found[0]
                    rendered = orjson.dumps(
                        render.conversation(
                            view.row, contacts=view.contacts, tags=view.tags, parts=view.parts,
                            version=render.DOCUMENT_VERSION,
                        )
                    ).decode()  # fmt: skip
                    if stored != rendered:
                        problems.append(f"conversation {conversation_id}: document differs")
                if timekeeping is not None:
                    history = await timekeeping._history(tx, conversation_id)
                    again = stats.compute(history, None).statistics()
                    if orjson.loads(view.row["statistics"]) != again:
                        problems.append(f"conversation {conversation_id}: statistics differ")
    finally:
        await db.close()
    checked = " and ".join(
        what for what, on in (("documents", world.documents), ("statistics", timekeeping))
        if on
    )  # fmt: skip
    if problems:
        raise SystemExit(f"verify: {len(problems)} problems: " + "; ".join(problems[:5]))
    print(f"  verified {checked} of {len(ids)} random conversations against Parley's readers")


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--data-dir", type=Path, help="SQLite data dir (parley.db inside)")
    where.add_argument("--database-url", help="postgresql+asyncpg://user@host:port/db")
    parser.add_argument("--conversations", "-n", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--admins", type=int, default=12, help="human admins, owner included")
    parser.add_argument("--teams", type=int, default=4)
    parser.add_argument("--token", default="bench-token", help="the access token to create")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--end", type=int, default=None, help="unix time of the latest part (default: now)"
    )
    parser.add_argument("--span-days", type=int, default=180)
    parser.add_argument("--chunk", type=int, default=2_000, help="conversations per batch")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing store (PostgreSQL: drops and recreates the current schema)",
    )
    parser.add_argument(
        "--verify", type=int, default=200, help="conversations to check afterwards (0: none)"
    )
    args = parser.parse_args(argv)
    if args.database_url:
        url = args.database_url
    else:
        data_dir: Path = args.data_dir or Path("benchmarks/data/sqlite")
        url = f"sqlite:///{(data_dir / 'parley.db').resolve()}"
    return Options(
        url=url, conversations=args.conversations, contacts=args.contacts, admins=args.admins,
        teams=args.teams, token=args.token, seed=args.seed,
        end=args.end if args.end is not None else SystemClock().now(),
        span_days=args.span_days, chunk=args.chunk, workers=max(1, args.workers),
        force=args.force, verify=args.verify,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_args(argv)
    began = time.perf_counter()
    where = options.url if options.url.startswith("sqlite") else "PostgreSQL"
    print(f"Seeding {where}: {options.conversations:,} conversations, seed {options.seed}")
    prepare_store(options)
    rng = random.Random(options.seed)
    workspace_id, owner_id, world = asyncio.run(create_workspace(options, rng))
    contact_rows = make_contacts(options, world, rng)
    contacts = tuple(Contact(r[0], r[2], r[6], r[3], r[4]) for r in contact_rows)
    world = replace(world, contacts=contacts)
    print(
        f"  workspace {workspace_id}, owner admin {owner_id}, admins {sorted(world.admins)},"
        f" teams {sorted(world.teams)}, {len(world.tags)} tags, token {options.token!r},"
        f" documents {world.documents or 'none (no such table)'},"
        f" full-text index {'yes' if world.fulltext else 'no (no such table)'}"
        f" ({time.perf_counter() - began:.1f}s)",
        flush=True,
    )
    asyncio.run(load(options, world, contact_rows))
    if options.verify:
        asyncio.run(verify(options, world, options.verify))
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"Seeded in {time.perf_counter() - began:.1f}s (CPU: main process"
        f" {own.ru_utime + own.ru_stime:.1f}s, generator processes"
        f" {workers.ru_utime + workers.ru_stime:.1f}s)"
    )


if __name__ == "__main__":
    sys.exit(main())
