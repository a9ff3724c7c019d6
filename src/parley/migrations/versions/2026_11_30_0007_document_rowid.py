"""Stored documents found in one lookup: keyed by rowid, with their workspace, only current.

0001 kept every conversation's last rendering with the revision it was made from, and a GET
joined the conversation to learn whether that revision was still current: a descent of the
conversations table (~1.2 KB rows, rarely in the page cache on a large store) before the
document's. Now a document exists only while it is current — `db.conversations` deletes it in
the statement that bumps the revision — and carries its workspace, so a GET reads the document
alone. On SQLite the key also becomes the table's rowid (`INTEGER PRIMARY KEY`; 0001's
`BIGINT PRIMARY KEY` made a separate unique index, two descents per read and two trees per
write). A GET's lookup on a 100k store: 18-21 µs → ~10 µs (random ids, page cache warm).

Only current documents are kept on the way up (a stale one would now be served); the way down
keeps them all. `body` is BLOB on SQLite: documents are stored as the bytes the API sends.

Revision ID: 0007_document_rowid
Revises: 0006_statistics_indexes
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0007_document_rowid"
down_revision = "0006_statistics_indexes"
branch_labels = None
depends_on = None

CURRENT = (
    " FROM conversation_documents d JOIN conversations c"
    " ON c.id = d.conversation_id AND c.revision = d.revision"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DELETE FROM conversation_documents d USING conversations c"
            " WHERE c.id = d.conversation_id AND c.revision <> d.revision"
        )
        op.execute("ALTER TABLE conversation_documents ADD COLUMN workspace_id VARCHAR(16)")
        op.execute(
            "UPDATE conversation_documents d SET workspace_id = c.workspace_id"
            " FROM conversations c WHERE c.id = d.conversation_id"
        )
        op.execute("ALTER TABLE conversation_documents ALTER COLUMN workspace_id SET NOT NULL")
        return
    op.execute(
        "CREATE TABLE conversation_documents_rebuilt ("
        " conversation_id INTEGER NOT NULL PRIMARY KEY"
        " REFERENCES conversations (id) ON DELETE CASCADE,"
        " workspace_id VARCHAR(16) NOT NULL,"
        " revision BIGINT NOT NULL,"
        " body BLOB NOT NULL)"
    )
    op.execute(
        "INSERT INTO conversation_documents_rebuilt (conversation_id, workspace_id, revision, body)"
        " SELECT d.conversation_id, c.workspace_id, d.revision, d.body" + CURRENT
    )
    _replace()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE conversation_documents DROP COLUMN workspace_id")
        return
    op.execute(
        "CREATE TABLE conversation_documents_rebuilt ("
        " conversation_id BIGINT NOT NULL PRIMARY KEY"
        " REFERENCES conversations (id) ON DELETE CASCADE,"
        " revision BIGINT NOT NULL,"
        " body TEXT NOT NULL)"
    )
    op.execute(
        "INSERT INTO conversation_documents_rebuilt (conversation_id, revision, body)"
        " SELECT conversation_id, revision, body FROM conversation_documents"
    )
    _replace()


def _replace() -> None:
    op.execute("DROP TABLE conversation_documents")
    op.execute("ALTER TABLE conversation_documents_rebuilt RENAME TO conversation_documents")
