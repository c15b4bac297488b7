"""abuse reports: reports about generated content, received sealed and matched to their generation

Revision ID: 0023
Revises: 0021
Create Date: 2026-11-29 01:30:00

Written to match ``adapters/sql/models_abuse_reports.py``; the stairway test compares the result with the models on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC

_REPORT_INDEXES = {
    "ix_abuse_reports_status_received_at": ["status", "received_at"],
    "ix_abuse_reports_generation_id": ["generation_id"],
    "ix_abuse_reports_owner_id": ["owner_id"],
    "ix_abuse_reports_reporter_id": ["reporter_id"],
    "ix_abuse_reports_closed_at": ["closed_at"],
}


def upgrade() -> None:
    op.create_table(
        "abuse_reports",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("generation_id", GUID(length=16), nullable=False),
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("reporter_id", GUID(length=16), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("via_link", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("received_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("reporter_key", sa.LargeBinary(), nullable=True),
        sa.Column("reporter_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("closed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("reporter_data_deleted_at", DateTimeUTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abuse_reports")),
    )
    for name, columns in _REPORT_INDEXES.items():
        op.create_index(name, "abuse_reports", columns)
    op.create_table(
        "abuse_report_inbox",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("received_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abuse_report_inbox")),
    )
    op.create_index("ix_abuse_report_inbox_received_at", "abuse_report_inbox", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_abuse_report_inbox_received_at", table_name="abuse_report_inbox")
    op.drop_table("abuse_report_inbox")
    for name in reversed(_REPORT_INDEXES):
        op.drop_index(name, table_name="abuse_reports")
    op.drop_table("abuse_reports")
