"""indexes: analytics events by pseudonym (export and erasure find a subject's events without scanning the table),
and at most one open child report per account (two reports arriving at once merge instead of opening two)

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-25 17:30:00

Written by hand; runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_index("ix_analytics_events_pseudonym", "analytics_events", ["pseudonym"])
    op.create_index(
        "ux_child_reports_open_subject",
        "child_reports",
        ["subject_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("ux_child_reports_open_subject", table_name="child_reports")
    op.drop_index("ix_analytics_events_pseudonym", table_name="analytics_events")
