"""Time: office hours, SLA policies, timers, ratings (issue 4).

Revision ID: 0003_time
Revises: 0002_search
Create Date: 2026-11-30
"""

from __future__ import annotations

revision = "0003_time"
down_revision = "0002_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
