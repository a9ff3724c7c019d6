"""The full-text index of conversation bodies, kept in step with the bodies by the SQL layer
(db/conversations.py calls these in the transaction that writes the body).

What is indexed: the words (parley.kit.words) of each conversation's source body and of each
part's body, unless redacted. SQLite holds them in contentless FTS5 tables (rowid = conversation
id / part id); a contentless row is removed by FTS5's 'delete' command, which needs the same
words again, so the rule "indexed iff not redacted and has words" is applied the same way on
insert and on removal. PostgreSQL holds tsvectors keyed by id, with GIN indexes.
"""

from __future__ import annotations

from parley.db.database import Transaction
from parley.kit.words import document

SOURCE_FTS = "conversation_source_fts"
PART_FTS = "conversation_part_fts"


async def add_source(tx: Transaction, conversation_id: int, body: str | None) -> None:
    words = document(body)
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
    words = document(body)
    if not words:
        return
    if tx.dialect == "postgresql":
        await tx.execute(
            "INSERT INTO conversation_part_words (part_id, conversation_id, words)"
            " VALUES (:id, :conversation, to_tsvector('simple', :words))",
            {"id": part_id, "conversation": conversation_id, "words": words},
        )
    else:
        await tx.execute(
            f"INSERT INTO {PART_FTS} (rowid, words) VALUES (:id, :words)",
            {"id": part_id, "words": words},
        )


async def remove_part(tx: Transaction, part_id: int, old_body: str | None) -> None:
    if tx.dialect == "postgresql":
        await tx.execute("DELETE FROM conversation_part_words WHERE part_id = :id", {"id": part_id})
        return
    words = document(old_body)
    if words:
        await tx.execute(
            f"INSERT INTO {PART_FTS} ({PART_FTS}, rowid, words) VALUES ('delete', :id, :words)",
            {"id": part_id, "words": words},
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
    for part in await tx.fetch_all(
        "SELECT id, body FROM conversation_parts WHERE conversation_id = :id AND redacted = :r",
        {"id": conversation_id, "r": False},
    ):
        await remove_part(tx, int(part["id"]), part["body"])
    row = await tx.fetch_one(
        "SELECT source_body FROM conversations WHERE id = :id AND source_redacted = :r",
        {"id": conversation_id, "r": False},
    )
    if row is not None:
        await remove_source(tx, conversation_id, row["source_body"])
