"""Search: full-text index and search indexes (issue 3).

Revision ID: 0002_search
Revises: 0001_initial
Create Date: 2026-11-30
"""

from __future__ import annotations

revision = "0002_search"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
