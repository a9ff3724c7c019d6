"""Integer ids are never handed out twice (SQLite): AUTOINCREMENT on every table keyed by one.

0001 declared `autoincrement=True`, which SQLite ignores without `sqlite_autoincrement`: an
`INTEGER PRIMARY KEY` takes max(id) + 1, so deleting the newest conversation (or tag, part,
message, ...) gave its id to the next one created, in any workspace. Intercom never reuses an
id, and clients key what they remember by id. Worse, a GET that rendered the deleted
conversation from an older snapshot could keep its rendering as the document of the new
conversation that took its id (both at revision 0): another workspace's content served under
this one's id (found by a security review; tests/db/test_ids.py reproduces it).

With AUTOINCREMENT SQLite records the largest id ever used in `sqlite_sequence` and never goes
below it. A table cannot be altered to it, so each table is rebuilt: created again from its own
CREATE statement with the key declared `INTEGER PRIMARY KEY AUTOINCREMENT`, its rows copied,
its indexes created again from their own statements. Migrations run with foreign keys off (the
SQLite default), so dropping a parent table does not cascade; the children's references name
the table, which the rebuilt one takes over. The copy costs about as long as reading the table
(a 100k-conversation store: ~1.1M parts).

The highest id handed out before this migration is known only if its row still exists: the
sequence starts from the largest id present. PostgreSQL's sequences never hand out an id twice:
nothing to do there.

Revision ID: 0009_ids_never_reused
Revises: 0008_part_words_by_conversation
Create Date: 2026-11-30
"""

from __future__ import annotations

import re

from alembic import op
from sqlalchemy import text

revision = "0009_ids_never_reused"
down_revision = "0008_part_words_by_conversation"
branch_labels = None
depends_on = None

# Every table keyed by an integer id of its own (conversation_documents is keyed by its
# conversation's id, so it is not here).
TABLES = (
    "admins",
    "teams",
    "access_tokens",
    "tags",
    "conversations",
    "conversation_parts",
    "messages",
    "outbox",
    "sla_policies",
    "conversation_attributes",
)

# How SQLAlchemy wrote the key in 0001's CREATE TABLE statements, and how AUTOINCREMENT needs it.
PLAIN_KEY = ("\tid INTEGER NOT NULL, \n", ", \n\tPRIMARY KEY (id)")
AUTOINCREMENT_KEY = "\tid INTEGER PRIMARY KEY AUTOINCREMENT, \n"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for table in TABLES:
        _rebuild(table, autoincrement=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for table in TABLES:
        _rebuild(table, autoincrement=False)


def _rebuild(table: str, *, autoincrement: bool) -> None:
    bind = op.get_bind()
    # Dropping a parent table with foreign keys on would delete its children's rows.
    assert bind.execute(text("PRAGMA foreign_keys")).scalar_one() == 0
    create = bind.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    ).scalar_one()
    indexes = (
        bind.execute(
            text(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
                " AND sql IS NOT NULL"  # automatic indexes (UNIQUE constraints) come with the table
            ),
            {"t": table},
        )
        .scalars()
        .all()
    )
    column, constraint = PLAIN_KEY
    if autoincrement:
        if AUTOINCREMENT_KEY in create:
            return  # already rebuilt
        assert column in create, f"unexpected key column in {table}: {create}"
        assert constraint in create, f"unexpected key constraint in {table}: {create}"
        rebuilt = create.replace(column, AUTOINCREMENT_KEY, 1).replace(constraint, "", 1)
    else:
        if AUTOINCREMENT_KEY not in create:
            return
        rebuilt = create.replace(AUTOINCREMENT_KEY, column, 1)
        rebuilt = rebuilt[: rebuilt.rindex("\n)")] + constraint + rebuilt[rebuilt.rindex("\n)") :]
    # A table renamed by an earlier rebuild has its name quoted in its statement.
    head = re.match(rf'CREATE TABLE "?{table}"? \(', rebuilt)
    assert head is not None, create
    op.execute(f"CREATE TABLE {table}_rebuilt (" + rebuilt[head.end() :])
    op.execute(f"INSERT INTO {table}_rebuilt SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
    for statement in indexes:
        op.execute(statement)
