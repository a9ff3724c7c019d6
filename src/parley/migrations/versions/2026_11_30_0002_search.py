"""Search: full-text index and search indexes (issue 3).

Full text: the words of conversation source bodies and part bodies (parley.kit.words), written
by the SQL layer in the same transaction as the body itself.
  * SQLite: contentless FTS5 tables keyed by rowid (conversation id, part id). Contentless keeps
    the index small (the text is the normalised body, which the database already holds as HTML);
    a row is removed with FTS5's 'delete' command, given the same words again.
  * PostgreSQL: tsvector tables with GIN indexes (conversation id, part id).

B-tree indexes serve the typical filters and the immutable result order (id descending for
conversations, created_at then id descending for contacts), so a cursor walk is stable.

Counting (`total_count`) is what broad queries cost, so the indexes a count needs are covering:
  * (workspace_id, visible, id) on conversations: the list's page and count, and the
    workspace/visibility check of every id a subquery (tags, full text, contacts) produces, are
    index-only — the wide conversation rows are never read to count.
  * (tag_id, conversation_id) on conversation_tags: a tag lookup yields conversation ids without
    reading the table.
  * SQLite: (id, conversation_id) on conversation_parts: a part found by the full-text index
    becomes its conversation id without reading the part (PostgreSQL keeps conversation_id in
    conversation_part_words itself).
  * (workspace_id, archived, created_at, id) on contacts: the contact list's page and count.

Revision ID: 0002_search
Revises: 0001_initial
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_search"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# statistics.* members promoted to expression indexes (the query compiler in db/search.py emits
# exactly these expressions; keep the two lists in step).
INDEXED_STATISTICS = ("time_to_admin_reply", "last_close_at")


def statistic_expression(dialect: str, key: str) -> str:
    if dialect == "postgresql":
        return f"((statistics::jsonb ->> '{key}')::bigint)"
    return f"json_extract(statistics, '$.{key}')"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_index(
        "ix_conversations_ws_visible_id", "conversations", ["workspace_id", "visible", "id"]
    )
    op.create_index(
        "ix_conversation_tags_tag_conversation", "conversation_tags", ["tag_id", "conversation_id"]
    )
    if dialect == "sqlite":
        op.create_index(
            "ix_conversation_parts_id_conversation", "conversation_parts", ["id", "conversation_id"]
        )
    op.create_index(
        "ix_conversations_ws_admin",
        "conversations",
        ["workspace_id", "admin_assignee_id", "updated_at"],
    )
    op.create_index(
        "ix_conversations_ws_team", "conversations", ["workspace_id", "team_assignee_id"]
    )
    op.create_index(
        "ix_conversations_ws_state", "conversations", ["workspace_id", "state", "updated_at"]
    )
    op.create_index("ix_conversations_ws_created", "conversations", ["workspace_id", "created_at"])
    op.create_index(
        "ix_conversations_source_contact", "conversations", ["source_author_contact_id"]
    )
    op.create_index("ix_conversations_source_admin", "conversations", ["source_author_admin_id"])
    for key in INDEXED_STATISTICS:
        op.execute(
            f"CREATE INDEX ix_conversations_stat_{key} ON conversations"
            f" (workspace_id, {statistic_expression(dialect, key)})"
        )
    op.create_index(
        "ix_contacts_ws_archived_created",
        "contacts",
        ["workspace_id", "archived", "created_at", "id"],
    )
    if dialect == "postgresql":
        op.create_table(
            "conversation_source_words",
            sa.Column("conversation_id", sa.BigInteger(), primary_key=True),
            sa.Column("words", postgresql.TSVECTOR(), nullable=False),
        )
        op.create_table(
            "conversation_part_words",
            sa.Column("part_id", sa.BigInteger(), primary_key=True),
            sa.Column("conversation_id", sa.BigInteger(), nullable=False),
            sa.Column("words", postgresql.TSVECTOR(), nullable=False),
        )
        op.execute(
            "CREATE INDEX ix_conversation_source_words ON conversation_source_words"
            " USING gin (words)"
        )
        op.execute(
            "CREATE INDEX ix_conversation_part_words ON conversation_part_words USING gin (words)"
        )
    else:
        for table in ("conversation_source_fts", "conversation_part_fts"):
            op.execute(
                f"CREATE VIRTUAL TABLE {table} USING fts5(words, content='',"
                " tokenize='unicode61 remove_diacritics 0')"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_table("conversation_part_words")
        op.drop_table("conversation_source_words")
    else:
        op.execute("DROP TABLE conversation_part_fts")
        op.execute("DROP TABLE conversation_source_fts")
    op.drop_index("ix_contacts_ws_archived_created", "contacts")
    if dialect == "sqlite":
        op.drop_index("ix_conversation_parts_id_conversation", "conversation_parts")
    op.drop_index("ix_conversation_tags_tag_conversation", "conversation_tags")
    for key in INDEXED_STATISTICS:
        op.drop_index(f"ix_conversations_stat_{key}", "conversations")
    for name in (
        "ix_conversations_source_admin", "ix_conversations_source_contact",
        "ix_conversations_ws_created", "ix_conversations_ws_state", "ix_conversations_ws_team",
        "ix_conversations_ws_admin", "ix_conversations_ws_visible_id",
    ):  # fmt: skip
        op.drop_index(name, "conversations")
