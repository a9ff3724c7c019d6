"""Time: office hours, SLA policies, timers, ratings (issue 4).

Revision ID: 0003_time
Revises: 0002_search
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_time"
down_revision = "0002_search"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = sa.BigInteger()


def upgrade() -> None:
    # One schedule per workspace; a workspace without a row is always in office hours.
    op.create_table(
        "office_hours",
        sa.Column("workspace_id", sa.String(16), sa.ForeignKey("workspaces.id"), primary_key=True),
        sa.Column("schedule", sa.Text(), nullable=False),  # JSON (domain.office_hours)
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "sla_policies",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(16), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("first_response_time", sa.BigInteger(), nullable=True),
        sa.Column("next_response_time", sa.BigInteger(), nullable=True),
        sa.Column("time_to_close", sa.BigInteger(), nullable=True),
        sa.Column("office_hours", sa.Boolean(), nullable=False),
        sa.Column("apply_to_new_conversations", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("workspace_id", "name", name="uq_sla_policies_workspace_name"),
    )
    # The SLA tracker of a conversation (domain.sla.Tracker); conversations.sla_applied holds
    # the rendered summary.
    op.create_table(
        "conversation_slas",
        sa.Column(
            "conversation_id",
            ID,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("policy_id", ID, nullable=True),
        sa.Column("initial", sa.Text(), nullable=False),  # JSON: the tracker when applied
        sa.Column("tracker", sa.Text(), nullable=False),  # JSON: the tracker now
    )
    # Which side an unassignment cleared (admin | team): the part renders nobody_admin for
    # both, and the statistics replay needs to know.
    op.add_column("conversation_parts", sa.Column("assigned_side", sa.String(8), nullable=True))
    # The snooze timer's scan: due snoozed conversations, oldest deadline first.
    op.create_index("ix_conversations_snoozed_until", "conversations", ["state", "snoozed_until"])


def downgrade() -> None:
    op.drop_index("ix_conversations_snoozed_until", table_name="conversations")
    # Plain DROP COLUMN (SQLite >= 3.35): batch mode would reflect and copy the whole table.
    op.execute("ALTER TABLE conversation_parts DROP COLUMN assigned_side")
    op.drop_table("conversation_slas")
    op.drop_table("sla_policies")
    op.drop_table("office_hours")
