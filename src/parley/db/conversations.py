"""Conversations, their parts, contacts and tags: every query about a conversation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from parley.db import fulltext
from parley.db.database import Params, Row, Transaction

_COLUMNS = (
    "id, workspace_id, created_at, updated_at, title, state, read, priority, admin_assignee_id,"
    " team_assignee_id, waiting_since, snoozed_until, source_type, source_id,"
    " source_delivered_as, source_subject, source_body, source_author_type,"
    " source_author_admin_id, source_author_contact_id, source_url, source_redacted,"
    " source_attachments, custom_attributes, first_contact_reply_at, teammate_ids, statistics,"
    " conversation_rating, sla_applied, ai_agent_participated, visible, part_count, revision"
)
_SELECT = (
    "SELECT "
    + ", ".join(f"c.{name.strip()}" for name in _COLUMNS.split(","))
    + ", sa.name AS source_admin_name, sa.email AS source_admin_email,"
    " sa.kind AS source_admin_kind, sc.name AS source_contact_name,"
    " sc.email AS source_contact_email"
    " FROM conversations c"
    " LEFT JOIN admins sa ON sa.id = c.source_author_admin_id"
    " LEFT JOIN contacts sc ON sc.id = c.source_author_contact_id"
)
SELECT = _SELECT  # a conversation row as every reader gets it (db/search.py filters it)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def insert(tx: Transaction, values: dict[str, Any]) -> int:
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    new_id = int(
        await tx.fetch_val(
            f"INSERT INTO conversations ({columns}) VALUES ({params}) RETURNING id", values
        )
    )
    if not values.get("source_redacted"):
        await fulltext.add_source(tx, new_id, values.get("source_body"))
    if values["visible"]:
        await _count_visible(tx, values["workspace_id"], new_id, +1)
    return new_id


# The number of visible conversations per workspace (conversation_counts, migration 0005): kept
# by insert, update and delete, the only ways a conversation appears, changes or goes, so
# GET /conversations' total_count is a read of COUNT_SHARDS rows instead of a count of them all.
COUNT_SHARDS = 8

RECOUNT_VISIBLE = (
    "INSERT INTO conversation_counts (workspace_id, shard, visible)"
    f" SELECT workspace_id, id % {COUNT_SHARDS}, COUNT(*) FROM conversations WHERE visible"
    f" GROUP BY workspace_id, id % {COUNT_SHARDS}"
)  # into an emptied table: a bulk load (parley seed) recounts once at its end


async def _count_visible(
    tx: Transaction, workspace_id: str, conversation_id: int, delta: int
) -> None:
    await tx.execute(
        "INSERT INTO conversation_counts (workspace_id, shard, visible) VALUES (:ws, :shard, :d)"
        " ON CONFLICT (workspace_id, shard)"
        " DO UPDATE SET visible = conversation_counts.visible + excluded.visible",
        {"ws": workspace_id, "shard": conversation_id % COUNT_SHARDS, "d": delta},
    )


async def get(
    tx: Transaction, workspace_id: str, conversation_id: int, *, lock: bool = False
) -> Row | None:
    """One conversation with its source author's name and email. `lock` takes the row lock
    (PostgreSQL) so concurrent writers to one conversation serialise."""
    if lock and tx.dialect == "postgresql":
        # FOR UPDATE cannot lock the nullable side of an outer join: lock the row first.
        await tx.fetch_val(
            "SELECT id FROM conversations WHERE id = :id AND workspace_id = :ws FOR UPDATE",
            {"id": conversation_id, "ws": workspace_id},
        )
    return await tx.fetch_one(
        _SELECT + " WHERE c.id = :id AND c.workspace_id = :ws",
        {"id": conversation_id, "ws": workspace_id},
    )


async def revision(tx: Transaction, conversation_id: int) -> int | None:
    """The conversation's revision: bumped by every change to what it shows."""
    value = await tx.fetch_val(
        "SELECT revision FROM conversations WHERE id = :id", {"id": conversation_id}
    )
    return None if value is None else int(value)


async def update(tx: Transaction, conversation_id: int, values: dict[str, Any]) -> None:
    """Change a conversation. Every change bumps its revision and deletes its stored document
    (what a document shows is exactly its revision's; the writer keeps a new one)."""
    if "source_body" in values:  # keep the full-text index in step (redaction, edits)
        old = await tx.fetch_one(
            "SELECT source_body, source_redacted FROM conversations WHERE id = :id",
            {"id": conversation_id},
        )
        if old is not None and not old["source_redacted"]:
            await fulltext.remove_source(tx, conversation_id, old["source_body"])
        if not values.get("source_redacted", old is not None and old["source_redacted"]):
            await fulltext.add_source(tx, conversation_id, values["source_body"])
    if "visible" in values:
        old = await tx.fetch_one(
            "SELECT workspace_id, visible FROM conversations WHERE id = :id",
            {"id": conversation_id},
        )
        if old is not None and bool(old["visible"]) != bool(values["visible"]):
            delta = 1 if values["visible"] else -1
            await _count_visible(tx, old["workspace_id"], conversation_id, delta)
    assignments = "".join(f"{name} = :{name}, " for name in values)
    # The row first, then its document: the UPDATE holds the row's lock (PostgreSQL) from
    # before the DELETE, so no rendering of the old revision can be kept in between
    # (store_document takes that lock too).
    await tx.execute(
        f"UPDATE conversations SET {assignments}revision = revision + 1 WHERE id = :_id",
        {**values, "_id": conversation_id},
    )
    await tx.execute(
        "DELETE FROM conversation_documents WHERE conversation_id = :id", {"id": conversation_id}
    )


# ------------------------------------------------------------------------ documents


# Documents are UTF-8 JSON bytes. SQLite keeps them as BLOBs in the TEXT column (its type
# affinity allows it): what a GET reads is what it sends, with no decoding and encoding of ~10 KB
# on the way. PostgreSQL's text column takes and gives str.


async def document(
    tx: Transaction, workspace_id: str, conversation_id: int
) -> tuple[bytes, int] | None:
    """The conversation's stored document and the revision it was made from; None if there is
    none (never rendered since its last change, or no such conversation in the workspace). A
    stored document is always current: the statement that bumps a revision deletes it."""
    row = await tx.fetch_one(
        "SELECT body, revision FROM conversation_documents"
        " WHERE conversation_id = :id AND workspace_id = :ws",
        {"id": conversation_id, "ws": workspace_id},
    )
    if row is None:
        return None
    body = row["body"]
    return (body.encode() if isinstance(body, str) else body), int(row["revision"])


async def store_document(
    tx: Transaction, workspace_id: str, conversation_id: int, body: bytes, revision: int
) -> int:
    """Keep a rendering made from `revision` of the workspace's conversation; a no-op if the
    conversation changed since (or is gone: ids are never reused, migration 0009).

    On PostgreSQL the revision is checked under the row's lock, which every change of the row
    takes before it deletes the document (update, _retire): without it, a GET keeping its
    rendering after its read could read the old revision, let a writer delete the document and
    commit, and then store the old rendering as current. A row that a writer holds is skipped
    (SKIP LOCKED): that writer keeps its own rendering, and waiting for it could deadlock (the
    writer may be waiting for this document row)."""
    if tx.dialect == "postgresql":
        current = await tx.fetch_val(
            "SELECT 1 FROM conversations WHERE id = :id AND workspace_id = :ws"
            " AND revision = :rev FOR SHARE SKIP LOCKED",
            {"id": conversation_id, "ws": workspace_id, "rev": revision},
        )
        if current is None:
            return 0
    return await tx.execute(
        "INSERT INTO conversation_documents (conversation_id, workspace_id, revision, body)"
        " SELECT id, workspace_id, revision, :doc FROM conversations"
        " WHERE id = :id AND workspace_id = :ws AND revision = :rev"
        " ON CONFLICT (conversation_id) DO UPDATE"
        " SET revision = excluded.revision, body = excluded.body",
        {
            "doc": body if tx.dialect == "sqlite" else body.decode(),
            "id": conversation_id,
            "ws": workspace_id,
            "rev": revision,
        },
    )


async def _retire(tx: Transaction, selection: str, params: Params) -> None:
    """Bump the revision of the conversations `selection` (a WHERE clause) picks and delete
    their stored documents: what they show has changed."""
    # The rows first (their locks, on PostgreSQL), then their documents: as in update().
    if tx.dialect == "postgresql":
        # In id order: an UPDATE locks the rows it picks in whatever order its plan meets them,
        # so two retirements of overlapping sets (two tags renamed, a tag and a contact) took
        # each other's rows in opposite orders and deadlocked.
        await tx.execute(
            f"SELECT id FROM conversations WHERE {selection} ORDER BY id FOR NO KEY UPDATE",
            params,
        )
    await tx.execute(f"UPDATE conversations SET revision = revision + 1 WHERE {selection}", params)
    await tx.execute(
        "DELETE FROM conversation_documents WHERE conversation_id IN"
        f" (SELECT id FROM conversations WHERE {selection})",
        params,
    )


async def drop_documents_showing_contact(
    tx: Transaction, workspace_id: str, contact_id: str
) -> None:
    """A contact's identity changed (or it went): every conversation that shows it re-renders."""
    await _retire(
        tx,
        "workspace_id = :ws AND (source_author_contact_id = :contact"
        " OR id IN (SELECT conversation_id FROM conversation_contacts WHERE contact_id = :contact)"
        " OR id IN (SELECT conversation_id FROM conversation_parts"
        " WHERE author_contact_id = :contact))",
        {"ws": workspace_id, "contact": contact_id},
    )


async def set_contact_author_type(
    tx: Transaction, workspace_id: str, contact_id: str, role: str
) -> None:
    """The contact's role changed (a lead became a user, or was merged into one): the sources
    and parts it wrote show it with its role, as they would had it been a user all along.
    Callers retire the documents (drop_documents_showing_contact)."""
    await tx.execute(
        "UPDATE conversations SET source_author_type = :role"
        " WHERE source_author_contact_id = :contact AND workspace_id = :ws"
        " AND source_author_type <> :role",
        {"role": role, "contact": contact_id, "ws": workspace_id},
    )
    await tx.execute(
        "UPDATE conversation_parts SET author_type = :role"
        " WHERE author_contact_id = :contact AND author_type <> :role",
        {"role": role, "contact": contact_id},
    )


async def drop_documents_showing_tag(tx: Transaction, tag_id: int) -> None:
    await _retire(
        tx,
        "id IN (SELECT conversation_id FROM conversation_tags WHERE tag_id = :tag)",
        {"tag": tag_id},
    )


async def delete(tx: Transaction, workspace_id: str, conversation_id: int) -> int:
    visible = await tx.fetch_val(
        "SELECT visible FROM conversations WHERE id = :id AND workspace_id = :ws",
        {"id": conversation_id, "ws": workspace_id},
    )
    if visible:
        await _count_visible(tx, workspace_id, conversation_id, -1)
    await fulltext.remove_conversation(tx, conversation_id)
    # Children first: SQLite only cascades with foreign_keys on, PostgreSQL always; be explicit.
    for table in (
        "conversation_parts",
        "conversation_contacts",
        "conversation_tags",
        "conversation_slas",
        "conversation_documents",
    ):
        await tx.execute(
            f"DELETE FROM {table} WHERE conversation_id = :id", {"id": conversation_id}
        )
    await tx.execute(
        "UPDATE messages SET conversation_id = NULL WHERE conversation_id = :id",
        {"id": conversation_id},
    )
    return await tx.execute(
        "DELETE FROM conversations WHERE id = :id AND workspace_id = :ws",
        {"id": conversation_id, "ws": workspace_id},
    )


async def page(
    tx: Transaction,
    workspace_id: str,
    *,
    limit: int,
    after: tuple[int, int] | None,
    offset: int = 0,
) -> list[Row]:
    """Visible conversations, newest first (id DESC: an immutable key, so a cursor walk is
    stable while conversations are updated; docs/behaviour.md, Search). `after` is the cursor's
    (updated_at, id): only the id positions the page. `offset` (page numbers, 1.x) applies
    only without a cursor."""
    if after is None:
        return await tx.fetch_all(
            _SELECT + " WHERE c.workspace_id = :ws AND c.visible = :visible"
            " ORDER BY c.id DESC LIMIT :limit OFFSET :offset",
            {"ws": workspace_id, "visible": True, "limit": limit, "offset": offset},
        )
    return await tx.fetch_all(
        _SELECT + " WHERE c.workspace_id = :ws AND c.visible = :visible"
        " AND c.id < :id ORDER BY c.id DESC LIMIT :limit",
        {"ws": workspace_id, "visible": True, "id": after[1], "limit": limit},
    )


async def count_visible(tx: Transaction, workspace_id: str) -> int:
    return int(
        await tx.fetch_val(
            "SELECT COALESCE(SUM(visible), 0) FROM conversation_counts WHERE workspace_id = :ws",
            {"ws": workspace_id},
        )
    )


async def count_newer(tx: Transaction, workspace_id: str, after: tuple[int, int]) -> int:
    """How many visible conversations sort before the cursor position (for `pages.page`)."""
    return int(
        await tx.fetch_val(
            "SELECT COUNT(*) FROM conversations WHERE workspace_id = :ws AND visible = :visible"
            " AND id >= :id",
            {"ws": workspace_id, "visible": True, "id": after[1]},
        )
    )


async def last_for_contact(tx: Transaction, workspace_id: str, contact_id: str) -> int | None:
    value = await tx.fetch_val(
        "SELECT c.id FROM conversations c"
        " JOIN conversation_contacts cc ON cc.conversation_id = c.id"
        " WHERE c.workspace_id = :ws AND cc.contact_id = :contact"
        " ORDER BY c.updated_at DESC, c.id DESC LIMIT 1",
        {"ws": workspace_id, "contact": contact_id},
    )
    return None if value is None else int(value)


# ------------------------------------------------------------------------ contacts


async def add_contact(tx: Transaction, conversation_id: int, contact_id: str) -> bool:
    """Attach a contact; False if it was already attached."""
    position = await tx.fetch_val(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM conversation_contacts"
        " WHERE conversation_id = :id",
        {"id": conversation_id},
    )
    changed = await tx.execute(
        "INSERT INTO conversation_contacts (conversation_id, contact_id, position)"
        " VALUES (:id, :contact, :position) ON CONFLICT DO NOTHING",
        {"id": conversation_id, "contact": contact_id, "position": int(position)},
    )
    return changed > 0


async def remove_contact(tx: Transaction, conversation_id: int, contact_id: str) -> int:
    return await tx.execute(
        "DELETE FROM conversation_contacts WHERE conversation_id = :id AND contact_id = :contact",
        {"id": conversation_id, "contact": contact_id},
    )


def in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """`:p0, :p1, …` and their parameters, for an `IN (…)` over a batch of ids."""
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))


async def _per_conversation(
    tx: Transaction, select: str, order: str, conversation_ids: Sequence[int]
) -> dict[int, list[Row]]:
    """Rows of `select` (which names `conversation_id`) for a batch of conversations, grouped."""
    if not conversation_ids:
        return {}
    marks, params = in_list("c", conversation_ids)
    rows = await tx.fetch_all(
        f"{select} WHERE conversation_id IN ({marks}) ORDER BY conversation_id, {order}", params
    )
    out: dict[int, list[Row]] = {}
    for row in rows:
        out.setdefault(int(row["conversation_id"]), []).append(row)
    return out


async def contacts_of(tx: Transaction, conversation_ids: Sequence[int]) -> dict[int, list[Row]]:
    return await _per_conversation(
        tx,
        "SELECT cc.conversation_id, k.id, k.external_id, k.role, k.name, k.email"
        " FROM conversation_contacts cc JOIN contacts k ON k.id = cc.contact_id",
        "cc.position",
        conversation_ids,
    )


# ------------------------------------------------------------------------ tags


async def add_tag(
    tx: Transaction, conversation_id: int, tag_id: int, *, admin_id: int, now: int
) -> None:
    await tx.execute(
        "INSERT INTO conversation_tags (conversation_id, tag_id, applied_at, applied_by_type,"
        " applied_by_id) VALUES (:id, :tag, :now, 'admin', :admin) ON CONFLICT DO NOTHING",
        {"id": conversation_id, "tag": tag_id, "now": now, "admin": str(admin_id)},
    )


async def remove_tag(tx: Transaction, conversation_id: int, tag_id: int) -> int:
    return await tx.execute(
        "DELETE FROM conversation_tags WHERE conversation_id = :id AND tag_id = :tag",
        {"id": conversation_id, "tag": tag_id},
    )


async def tag_of(tx: Transaction, conversation_id: int, tag_id: int) -> Row | None:
    return await tx.fetch_one(
        "SELECT t.id, t.name, ct.applied_at, ct.applied_by_type, ct.applied_by_id"
        " FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id"
        " WHERE ct.conversation_id = :id AND ct.tag_id = :tag",
        {"id": conversation_id, "tag": tag_id},
    )


async def tags_of(tx: Transaction, conversation_ids: Sequence[int]) -> dict[int, list[Row]]:
    return await _per_conversation(
        tx,
        "SELECT ct.conversation_id, t.id, t.name, ct.applied_at, ct.applied_by_type,"
        " ct.applied_by_id FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id",
        "ct.applied_at, t.id",
        conversation_ids,
    )


# ------------------------------------------------------------------------ parts

_PART_COLUMNS = (
    "conversation_id, part_type, body, created_at, updated_at, notified_at, author_type,"
    " author_admin_id, author_contact_id, assigned_to_type, assigned_to_id, attachments,"
    " external_id, redacted, metadata, state, event_details, app_package_code, assigned_side"
)


_INSERT_PART = (
    f"INSERT INTO conversation_parts ({_PART_COLUMNS}) VALUES ("
    + ", ".join(f":{c.strip()}" for c in _PART_COLUMNS.split(","))
    + ") RETURNING id"
)


async def insert_part(tx: Transaction, values: dict[str, Any]) -> int:
    part_id = await tx.fetch_val(_INSERT_PART, values)
    if not values["redacted"]:
        await fulltext.add_part(tx, int(part_id), values["conversation_id"], values["body"])
    return int(part_id)


_PART_SELECT = (
    "SELECT p.*, a.name AS admin_name, a.email AS admin_email,"
    " k.name AS contact_name, k.email AS contact_email"
    " FROM conversation_parts p"
    " LEFT JOIN admins a ON a.id = p.author_admin_id"
    " LEFT JOIN contacts k ON k.id = p.author_contact_id"
)


async def parts_of(tx: Transaction, conversation_id: int, *, limit: int = 500) -> list[Row]:
    """The most recent `limit` parts, oldest first."""
    rows = await tx.fetch_all(
        _PART_SELECT + " WHERE p.conversation_id = :id ORDER BY p.id DESC LIMIT :limit",
        {"id": conversation_id, "limit": limit},
    )
    rows.reverse()
    return rows


async def get_part(tx: Transaction, conversation_id: int, part_id: int) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM conversation_parts WHERE id = :part AND conversation_id = :id",
        {"part": part_id, "id": conversation_id},
    )


async def redact_part(tx: Transaction, part_id: int, *, body: str, now: int) -> None:
    old = await tx.fetch_one(
        "SELECT body, redacted FROM conversation_parts WHERE id = :id", {"id": part_id}
    )
    if old is not None and not old["redacted"]:  # a redacted part matches no search
        await fulltext.remove_part(tx, part_id, old["body"])
    await tx.execute(
        "UPDATE conversation_parts SET body = :body, redacted = :redacted, updated_at = :now,"
        " attachments = '[]' WHERE id = :id",
        {"body": body, "redacted": True, "now": now, "id": part_id},
    )


# ------------------------------------------------------------------------ messages


async def insert_message(tx: Transaction, values: dict[str, Any]) -> int:
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    message_id = await tx.fetch_val(
        f"INSERT INTO messages ({columns}) VALUES ({params}) RETURNING id", values
    )
    return int(message_id)


async def link_message(tx: Transaction, message_id: int, conversation_id: int) -> None:
    await tx.execute(
        "UPDATE messages SET conversation_id = :c WHERE id = :m",
        {"c": conversation_id, "m": message_id},
    )
