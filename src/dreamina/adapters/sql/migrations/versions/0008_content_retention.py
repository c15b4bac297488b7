"""retention: the account's content-retention setting and the indexes every retention sweep walks

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-26 10:00:00

Written by hand; runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns): each lets one retention task find its next batch without scanning the table
_INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("ix_audit_events_occurred_at", "audit_events", ["occurred_at"]),
    ("ix_privacy_requests_status_updated", "privacy_requests", ["status", "updated_at"]),
    ("ix_privacy_requests_code_expires_at", "privacy_requests", ["code_expires_at"]),
    ("ix_privacy_jobs_expires_at", "privacy_jobs", ["expires_at"]),
    ("ix_consent_records_subject_recorded", "consent_records", ["subject_id", "recorded_at"]),
    ("ix_checkout_sessions_created_at", "checkout_sessions", ["created_at"]),
)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("content_retention_days", sa.Integer(), nullable=True))
        batch.create_index(op.f("ix_accounts_content_retention_days"), ["content_retention_days"])
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("accounts") as batch:
        batch.drop_index(op.f("ix_accounts_content_retention_days"))
        batch.drop_column("content_retention_days")
