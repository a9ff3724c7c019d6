"""Versions: the 2.16 conversation attributes (issue 5).

Revision ID: 0004_versions
Revises: 0003_time
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_versions"
down_revision = "0003_time"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # The definitions of conversation custom attributes (GET/POST /conversations/attributes,
    # 2.16). Values live in conversations.custom_attributes, keyed by `name`.
    op.create_table(
        "conversation_attributes",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(16), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        # string | integer | list | decimal | boolean | datetime | relationship | files
        sa.Column("data_type", sa.String(16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("visible_to_team_ids", sa.Text(), nullable=False),  # JSON array of str
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("multiline", sa.Boolean(), nullable=True),  # string only
        sa.Column("options", sa.Text(), nullable=True),  # list only: JSON [{id, label, archived}]
        sa.Column("reference", sa.Text(), nullable=True),  # relationship only: JSON object
        sa.Column("admin_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ux_conversation_attributes_ws_name",
        "conversation_attributes",
        ["workspace_id", "name"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_conversation_attributes_ws_name", table_name="conversation_attributes")
    op.drop_table("conversation_attributes")
