"""The full-text index of conversation bodies, kept in step with the bodies by the SQL layer
(db/conversations.py calls these in the transaction that writes the body).

What is indexed: the words (parley.kit.words) of each conversation's source body and of each
part's body, unless redacted. SQLite holds them in contentless FTS5 tables; a contentless row is
removed by FTS5's 'delete' command, which needs the same words again, so the rule "indexed iff
not redacted and has words" is applied the same way on insert and on removal. PostgreSQL holds
tsvectors keyed by id (part words also carry their conversation id), with GIN indexes.

SQLite's rowids: the source table's is the conversation id. A part's is `part_key`: the
conversation id in the high bits and the part's ordinal within its conversation in the low 32
(migration 0008), so a search turns matched parts into conversations with a shift, reading
nothing else (it used to look every matched part up in conversation_parts: 100k probes for a
topic word at 1M conversations).

Why the key is collision-free: it is injective on (conversation id, ordinal) as long as the
ordinal fits 32 bits and the shifted id fits a signed 64-bit rowid (both checked, `part_key`),
and (conversation id, ordinal) identifies a part: the ordinal is the number of the
conversation's parts with a smaller id, and that number never changes after the part is
written, because parts are only ever added after all existing ones (a new part's id is larger
than every stored one: SQLite's rowid is max + 1, PostgreSQL's a sequence) and are deleted
only with their whole conversation. The ordinal counts every part, redacted or empty ones
included, so redacting one part does not move another's key.
"""

from __future__ import annotations

from parley.db.database import Transaction
from parley.kit.words import body_words, document

SOURCE_FTS = "conversation_source_fts"
PART_FTS = "conversation_part_fts"

# A part's FTS rowid: conversation id << PART_BITS | ordinal (see the module docstring).
PART_BITS = 32
_MAX_ORDINAL = (1 << PART_BITS) - 1
_MAX_CONVERSATION = (1 << (63 - PART_BITS)) - 1

# The ordinal of a part (:id) within its conversation (:conversation), over the
# (conversation_id, id) index.
_ORDINAL = (
    "SELECT COUNT(*) FROM conversation_parts WHERE conversation_id = :conversation AND id < :id"
)


# PostgreSQL's tsvector: to_tsvector leaves out a word of 2047 bytes or more (with a notice),
# and refuses to make a tsvector past 1 MB ("string is too long for tsvector"), counting each
# distinct word (its bytes, even-aligned), its count of positions and its positions (at most
# 256 of them). That failure failed the write: a 1.3 MB note of distinct words (a pasted log)
# was a 500 on PostgreSQL, stored and indexed on SQLite.
_PG_WORD_BYTES = 2047
_PG_TSVECTOR_BYTES = 1_048_575
_PG_POSITIONS = 256


def pg_document(body: str | None) -> str:
    """`document(body)` as PostgreSQL can index it: its words in order, those that to_tsvector
    would drop left out, up to the last word that fits in a tsvector (the rest of a body that
    large is not searchable; it is stored whole)."""
    kept: list[str] = []
    positions: dict[str, int] = {}
    size = 0
    for word in body_words(body):
        length = len(word.encode())
        if length >= _PG_WORD_BYTES:
            continue
        count = positions.get(word, 0)
        if count == 0:
            cost = length + (length & 1) + 2 + 2  # the word, its count of positions, one
        else:
            cost = 2 if count < _PG_POSITIONS else 0
        if size + cost > _PG_TSVECTOR_BYTES:
            break
        size += cost
        positions[word] = count + 1
        kept.append(word)
    return " ".join(kept)


def part_key(conversation_id: int, ordinal: int) -> int:
    """The SQLite FTS rowid of a conversation's part number `ordinal` (from 0)."""
    if not 0 <= conversation_id <= _MAX_CONVERSATION or not 0 <= ordinal <= _MAX_ORDINAL:
        raise ValueError(f"no full-text key for part {ordinal} of conversation {conversation_id}")
    return conversation_id << PART_BITS | ordinal


def part_conversation(key: str) -> str:
    """SQL: the conversation id of a part's FTS rowid (the SQL `key`)."""
    return f"({key} >> {PART_BITS})"


async def add_source(tx: Transaction, conversation_id: int, body: str | None) -> None:
    words = pg_document(body) if tx.dialect == "postgresql" else document(body)
    if tx.dialect == "postgresql":
        await tx.execute(
            "INSERT INTO conversation_source_words (conversation_id, words)"
            " VALUES (:id, to_tsvector('simple', :words))"
            " ON CONFLICT (conversation_id) DO UPDATE SET words = EXCLUDED.words",
            {"id": conversation_id, "words": words},
        )
    elif words:
        await tx.execute(
            f"INSERT INTO {SOURCE_FTS} (rowid, words) VALUES (:id, :words)",
            {"id": conversation_id, "words": words},
        )


async def remove_source(tx: Transaction, conversation_id: int, old_body: str | None) -> None:
    """`old_body`: the body as it was indexed (SQLite needs it to remove the words)."""
    if tx.dialect == "postgresql":
        await tx.execute(
            "DELETE FROM conversation_source_words WHERE conversation_id = :id",
            {"id": conversation_id},
        )
        return
    words = document(old_body)
    if words:
        await tx.execute(
            f"INSERT INTO {SOURCE_FTS} ({SOURCE_FTS}, rowid, words) VALUES ('delete', :id, :words)",
            {"id": conversation_id, "words": words},
        )


async def add_part(tx: Transaction, part_id: int, conversation_id: int, body: str | None) -> None:
    words = pg_document(body) if tx.dialect == "postgresql" else document(body)
    if not words:
        return
    if tx.dialect == "postgresql":
        await tx.execute(
            "INSERT INTO conversation_part_words (part_id, conversation_id, words)"
            " VALUES (:id, :conversation, to_tsvector('simple', :words))",
            {"id": part_id, "conversation": conversation_id, "words": words},
        )
    else:
        ordinal = await tx.fetch_val(_ORDINAL, {"conversation": conversation_id, "id": part_id})
        await tx.execute(
            f"INSERT INTO {PART_FTS} (rowid, words) VALUES (:key, :words)",
            {"key": part_key(conversation_id, int(ordinal)), "words": words},
        )


async def remove_part(tx: Transaction, part_id: int, old_body: str | None) -> None:
    """`old_body`: the body as it was indexed; the part is still stored (its conversation and
    ordinal make its SQLite key)."""
    if tx.dialect == "postgresql":
        await tx.execute("DELETE FROM conversation_part_words WHERE part_id = :id", {"id": part_id})
        return
    words = document(old_body)
    if not words:
        return
    conversation_id = await tx.fetch_val(
        "SELECT conversation_id FROM conversation_parts WHERE id = :id", {"id": part_id}
    )
    if conversation_id is None:
        return
    ordinal = await tx.fetch_val(_ORDINAL, {"conversation": conversation_id, "id": part_id})
    await _delete_part_words(tx, part_key(int(conversation_id), int(ordinal)), words)


async def _delete_part_words(tx: Transaction, key: int, words: str) -> None:
    await tx.execute(
        f"INSERT INTO {PART_FTS} ({PART_FTS}, rowid, words) VALUES ('delete', :key, :words)",
        {"key": key, "words": words},
    )


async def remove_conversation(tx: Transaction, conversation_id: int) -> None:
    """Before a conversation and its parts are deleted: drop all their words."""
    if tx.dialect == "postgresql":
        await tx.execute(
            "DELETE FROM conversation_part_words WHERE conversation_id = :id",
            {"id": conversation_id},
        )
        await tx.execute(
            "DELETE FROM conversation_source_words WHERE conversation_id = :id",
            {"id": conversation_id},
        )
        return
    # Every part, in id order, for the ordinals; only unredacted ones have words indexed.
    parts = await tx.fetch_all(
        "SELECT body, redacted FROM conversation_parts WHERE conversation_id = :id ORDER BY id",
        {"id": conversation_id},
    )
    for ordinal, part in enumerate(parts):
        words = "" if part["redacted"] else document(part["body"])
        if words:
            await _delete_part_words(tx, part_key(conversation_id, ordinal), words)
    row = await tx.fetch_one(
        "SELECT source_body FROM conversations WHERE id = :id AND source_redacted = :r",
        {"id": conversation_id, "r": False},
    )
    if row is not None:
        await remove_source(tx, conversation_id, row["source_body"])
