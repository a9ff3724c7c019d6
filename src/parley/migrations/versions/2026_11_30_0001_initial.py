"""Initial schema: workspaces, admins, teams, tokens, contacts, tags, conversations, parts, outbox.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# Integer primary keys: BIGINT identity on PostgreSQL, the rowid alias on SQLite.
PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = sa.BigInteger()


def _ts(name: str, nullable: bool = True) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("default_version", sa.String(8), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        _ts("created_at", False),
    )
    op.create_table(
        "admins",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(16), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),  # admin | bot
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("job_title", sa.Text(), nullable=True),
        sa.Column("away_mode_enabled", sa.Boolean(), nullable=False),
        sa.Column("away_mode_reassign", sa.Boolean(), nullable=False),
        sa.Column("away_status_reason_id", ID, nullable=True),
        sa.Column("has_inbox_seat", sa.Boolean(), nullable=False),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        _ts("created_at", False),
        sa.UniqueConstraint("workspace_id", "email", name="uq_admins_workspace_email"),
    )
    op.create_table(
        "teams",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(16), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("assignment_limit", sa.Integer(), nullable=True),
        sa.Column("distribution_method", sa.Text(), nullable=True),
        _ts("created_at", False),
        sa.UniqueConstraint("workspace_id", "name", name="uq_teams_workspace_name"),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", ID, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("admin_id", ID, sa.ForeignKey("admins.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_team_members_admin", "team_members", ["admin_id"])
    op.create_table(
        "access_tokens",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(16), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("admin_id", ID, sa.ForeignKey("admins.id"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        # SHA-256 of the token; the token itself is shown once and never stored.
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("token_hint", sa.String(16), nullable=False),
        _ts("created_at", False),
        _ts("revoked_at"),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("workspace_id", sa.String(16), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("owner_id", ID, nullable=True),
        sa.Column("unsubscribed_from_emails", sa.Boolean(), nullable=False),
        sa.Column("has_hard_bounced", sa.Boolean(), nullable=False),
        sa.Column("marked_email_as_spam", sa.Boolean(), nullable=False),
        sa.Column("language_override", sa.Text(), nullable=True),
        sa.Column("custom_attributes", sa.Text(), nullable=False),  # JSON object
        sa.Column("archived", sa.Boolean(), nullable=False),
        _ts("signed_up_at"),
        _ts("last_seen_at"),
        _ts("last_replied_at"),
        _ts("last_contacted_at"),
        _ts("created_at", False),
        _ts("updated_at", False),
    )
    op.create_index("ix_contacts_ws_updated", "contacts", ["workspace_id", "updated_at", "id"])
    op.create_index("ix_contacts_ws_external", "contacts", ["workspace_id", "external_id"])
    op.create_index("ix_contacts_ws_email", "contacts", ["workspace_id", "email"])
    # Users are unique by external_id and by email (case-insensitively) within a workspace; the
    # service checks first and answers 409, these indexes settle concurrent creates.
    users = sa.text("role = 'user'")
    op.create_index(
        "uq_contacts_user_external_id",
        "contacts",
        ["workspace_id", "external_id"],
        unique=True,
        sqlite_where=users,
        postgresql_where=users,
    )
    op.create_index(
        "uq_contacts_user_email",
        "contacts",
        ["workspace_id", sa.text("lower(email)")],
        unique=True,
        sqlite_where=users,
        postgresql_where=users,
    )
    op.create_table(
        "tags",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(16), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        _ts("created_at", False),
        sa.UniqueConstraint("workspace_id", "name", name="uq_tags_workspace_name"),
    )
    op.create_table(
        "contact_tags",
        sa.Column(
            "contact_id",
            sa.String(24),
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag_id", ID, sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
        _ts("created_at", False),
        # The admin whose request applied the tag (`tag.applied_by`); null if unknown.
        sa.Column("applied_by_admin_id", ID, nullable=True),
    )
    op.create_index("ix_contact_tags_tag", "contact_tags", ["tag_id"])
    op.create_table(
        "conversations",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(16), sa.ForeignKey("workspaces.id"), nullable=False),
        _ts("created_at", False),
        _ts("updated_at", False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("state", sa.String(8), nullable=False),  # open | closed | snoozed
        sa.Column("read", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),  # none | low | medium | high | urgent
        sa.Column("admin_assignee_id", ID, nullable=True),
        sa.Column("team_assignee_id", ID, nullable=True),
        _ts("waiting_since"),
        _ts("snoozed_until"),
        # The source: the message that started the conversation.
        sa.Column("source_type", sa.String(16), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column("source_delivered_as", sa.String(24), nullable=False),
        sa.Column("source_subject", sa.Text(), nullable=False),
        sa.Column("source_body", sa.Text(), nullable=True),
        sa.Column("source_author_type", sa.String(8), nullable=False),  # admin | user | lead
        sa.Column("source_author_admin_id", ID, nullable=True),
        sa.Column("source_author_contact_id", sa.String(24), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("source_redacted", sa.Boolean(), nullable=False),
        sa.Column("source_attachments", sa.Text(), nullable=False),  # JSON array
        sa.Column("custom_attributes", sa.Text(), nullable=False),  # JSON object
        _ts("first_contact_reply_at"),
        sa.Column(
            "teammate_ids", sa.Text(), nullable=False
        ),  # JSON array, first-participation order
        sa.Column("statistics", sa.Text(), nullable=False),  # JSON object (domain.statistics)
        sa.Column("conversation_rating", sa.Text(), nullable=True),  # JSON object
        sa.Column("sla_applied", sa.Text(), nullable=True),  # JSON object
        sa.Column("ai_agent_participated", sa.Boolean(), nullable=False),
        # False for an admin-initiated message until the contact replies (spec-digest §6.13).
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("part_count", sa.Integer(), nullable=False),
        # Bumped by every change to what the conversation renders as (see conversation_documents).
        sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_conversations_ws_updated", "conversations", ["workspace_id", "updated_at", "id"]
    )
    # The conversation as GET /conversations/{id} answers it in the default wire format (JSON
    # text), made from `revision`: it is current only while the conversation's revision is the
    # same. Kept apart from the conversations row so that the row stays small for writes and
    # scans.
    op.create_table(
        "conversation_documents",
        sa.Column(
            "conversation_id",
            ID,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_table(
        "conversation_contacts",
        sa.Column(
            "conversation_id",
            ID,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "contact_id",
            sa.String(24),
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_conversation_contacts_contact", "conversation_contacts", ["contact_id"])
    op.create_table(
        "conversation_tags",
        sa.Column(
            "conversation_id",
            ID,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag_id", ID, sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
        _ts("applied_at", False),
        sa.Column("applied_by_type", sa.String(8), nullable=False),
        sa.Column("applied_by_id", sa.Text(), nullable=False),
    )
    op.create_index("ix_conversation_tags_tag", "conversation_tags", ["tag_id"])
    op.create_table(
        "conversation_parts",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            ID,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("part_type", sa.String(48), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        _ts("created_at", False),
        _ts("updated_at", False),
        _ts("notified_at", False),
        sa.Column("author_type", sa.String(8), nullable=False),  # admin | bot | user | lead
        # Exactly one of these is set: admins (and the bot) are integer-keyed, contacts are not.
        sa.Column("author_admin_id", ID, nullable=True),
        sa.Column("author_contact_id", sa.String(24), nullable=True),
        sa.Column("assigned_to_type", sa.String(16), nullable=True),
        sa.Column("assigned_to_id", sa.Text(), nullable=True),
        sa.Column("attachments", sa.Text(), nullable=False),  # JSON array
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("redacted", sa.Boolean(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=True),  # JSON object
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("event_details", sa.Text(), nullable=True),  # JSON object
        sa.Column("app_package_code", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_conversation_parts_conversation", "conversation_parts", ["conversation_id", "id"]
    )
    op.create_index(
        "ix_conversation_parts_author_contact", "conversation_parts", ["author_contact_id"]
    )
    op.create_table(
        "messages",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(16), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column(
            "conversation_id",
            ID,
            sa.ForeignKey("conversations.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("type", sa.String(16), nullable=False),  # user_message | admin_message
        sa.Column("message_type", sa.String(8), nullable=False),  # inapp | email
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("admin_id", ID, nullable=True),
        _ts("created_at", False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(16), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),  # JSON object
        _ts("created_at", False),
        _ts("delivered_at"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["delivered_at", "id"])


def downgrade() -> None:
    for table in (
        "outbox", "messages", "conversation_parts", "conversation_tags", "conversation_contacts",
        "conversation_documents",
        "conversations", "contact_tags", "tags", "contacts", "access_tokens", "team_members",
        "teams", "admins", "workspaces",
    ):  # fmt: skip
        op.drop_table(table)
