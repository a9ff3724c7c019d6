"""Part words keyed by conversation (SQLite): a full-text match yields conversation ids itself;
PostgreSQL: part words indexed by conversation, indexed statistics as stored columns.

The SQLite FTS5 table of part words was keyed by part id, so a search on
`conversation_parts.body` looked every matched part up in conversation_parts (through the
covering index (id, conversation_id) of 0002) to find its conversation: ~100k probes for a topic
word at 1M conversations, twice (page and count), 389 ms. Its rowid is now
`conversation id << 32 | ordinal of the part in its conversation` (parley.db.fulltext.part_key,
which also says why no two parts share a key): the conversation is `rowid >> 32`. The index
(id, conversation_id) served only that lookup and is dropped (one index less per part write).

Existing rows are re-keyed by rebuilding the table's index from the stored bodies: a contentless
FTS5 table cannot give its words back, so the words are computed again exactly as the SQL layer
computes them (parley.kit.words.document; the index must hold what a later removal will pass
back). Parts are read in id order, which numbers each conversation's parts in order. At 1M
conversations (~5.6M parts) this takes a few minutes (docs/search-performance.md, third pass).

PostgreSQL keeps conversation_id in conversation_part_words already: nothing to re-key there.
It gets an index on that column: deleting a conversation removed its part words with a scan of
the whole table, and a search page can check a conversation's part words for a match directly
(db/search.py, conversation_page).

PostgreSQL also stores the two indexed statistics (time_to_admin_reply, last_close_at) as
generated columns `stat_<key>`, indexed as (workspace_id, stat_<key>, visible, id) in place of
the expression indexes of 0006. PostgreSQL does not answer a query from an expression index
alone (the planner wants the expression's columns, here the whole statistics JSON, in the
index), so a range's count read every matching row (3.9k random heap reads at 1M) and its page
read them all again to sort them by id. On plain columns the count and the page's ids are
index-only (the migration vacuums the table for the visibility map, as parley seed does).
Adding the columns rewrites the conversations table (72 s at 1M conversations). SQLite's
planner uses its expression indexes as covering: unchanged.

Revision ID: 0008_part_words_by_conversation
Revises: 0007_document_rowid
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic import op

from parley.kit.words import document

revision = "0008_part_words_by_conversation"
down_revision = "0007_document_rowid"
branch_labels = None
depends_on = None

PART_FTS = "conversation_part_fts"
# As in 0006 (db/search.py emits `c.stat_<key>` for these on PostgreSQL).
INDEXED_STATISTICS = ("time_to_admin_reply", "last_close_at")
PART_BITS = 32  # as parley.db.fulltext.PART_BITS when this migration was written
BATCH = 20_000


def _rebuild(key: Callable[[int, int, int], int]) -> None:
    """Empty the part FTS table and index every unredacted part again under `key(part id,
    conversation id, ordinal)`."""
    raw: Any = op.get_bind().connection.driver_connection
    raw.execute(f"INSERT INTO {PART_FTS} ({PART_FTS}) VALUES ('delete-all')")
    seen: dict[int, int] = {}
    parts = raw.execute(
        "SELECT id, conversation_id, body, redacted FROM conversation_parts ORDER BY id"
    )
    while batch := parts.fetchmany(BATCH):
        rows = []
        for part_id, conversation_id, body, redacted in batch:
            ordinal = seen.get(conversation_id, 0)
            seen[conversation_id] = ordinal + 1
            words = "" if redacted else document(body)
            if words:
                rows.append((key(part_id, conversation_id, ordinal), words))
        raw.executemany(f"INSERT INTO {PART_FTS} (rowid, words) VALUES (?, ?)", rows)


def _by_conversation(part_id: int, conversation_id: int, ordinal: int) -> int:
    if conversation_id >= 1 << (63 - PART_BITS) or ordinal >= 1 << PART_BITS:
        raise ValueError(f"no full-text key for part {part_id}")
    return conversation_id << PART_BITS | ordinal


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_conversation_part_words_conversation",
            "conversation_part_words",
            ["conversation_id"],
        )
        op.execute("ANALYZE conversation_part_words")
        op.execute(
            "ALTER TABLE conversations "
            + ", ".join(
                f"ADD COLUMN stat_{key} bigint"
                f" GENERATED ALWAYS AS (((statistics::jsonb ->> '{key}'))::bigint) STORED"
                for key in INDEXED_STATISTICS
            )
        )
        for key in INDEXED_STATISTICS:
            op.drop_index(f"ix_conversations_stat_{key}", "conversations")
            op.execute(
                f"CREATE INDEX ix_conversations_stat_{key} ON conversations"
                f" (workspace_id, stat_{key}, visible, id)"
            )
        # The rewrite left the visibility map empty: index-only scans would still read every
        # row until a vacuum. VACUUM cannot run in a transaction.
        with op.get_context().autocommit_block():
            op.execute("VACUUM (ANALYZE) conversations")
        return
    _rebuild(_by_conversation)
    op.drop_index("ix_conversation_parts_id_conversation", "conversation_parts")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_conversation_part_words_conversation", "conversation_part_words")
        for key in INDEXED_STATISTICS:
            op.drop_index(f"ix_conversations_stat_{key}", "conversations")
            op.execute(f"ALTER TABLE conversations DROP COLUMN stat_{key}")
            op.execute(
                f"CREATE INDEX ix_conversations_stat_{key} ON conversations"
                f" (workspace_id, ((statistics::jsonb ->> '{key}')::bigint), visible)"
            )
        return
    op.create_index(
        "ix_conversation_parts_id_conversation", "conversation_parts", ["id", "conversation_id"]
    )
    _rebuild(lambda part_id, conversation_id, ordinal: part_id)
