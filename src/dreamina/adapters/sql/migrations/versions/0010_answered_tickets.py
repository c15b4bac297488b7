"""support tickets: an index for the retention sweep of tickets answered but never closed (their clock starts at the
last answer)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 18:30:00

Written by hand; runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_support_tickets_answered", "support_tickets", ["category", "answered_at"])


def downgrade() -> None:
    op.drop_index("ix_support_tickets_answered", table_name="support_tickets")
