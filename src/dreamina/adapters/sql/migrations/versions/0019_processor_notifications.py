"""data rights: outbound data-subject-request notifications to processors, one row per (request, processor)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28 16:30:00

Written by hand from ``models_processor_notices``; runs on SQLite and PostgreSQL alike. Erasures whose saga had
already collected its processors before this revision get their notifications planned when the saga next runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTimeUTC = advanced_alchemy.types.DateTimeUTC
GUID = advanced_alchemy.types.GUID


def upgrade() -> None:
    op.create_table(
        "processor_notifications",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("request_id", GUID(length=16), nullable=False),
        sa.Column("completion_id", GUID(length=16), nullable=False),
        sa.Column("processor", sa.String(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("next_attempt_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("finished_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_notifications")),
        sa.UniqueConstraint("request_id", "processor", name="uq_processor_notifications_request_id_processor"),
    )
    op.create_index("ix_processor_notifications_status", "processor_notifications", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_processor_notifications_status", table_name="processor_notifications")
    op.drop_table("processor_notifications")
