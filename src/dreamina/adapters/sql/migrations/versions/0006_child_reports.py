"""children: reports that an account belongs to a child (policy section 9)

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-26 10:00:00

Written to match ``adapters/sql/models_child_reports.py``; the stairway test compares the result with the models on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC


def upgrade() -> None:
    op.create_table(
        "child_reports",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("received_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("reports_received", sa.Integer(), nullable=False),
        sa.Column("suspended_account", sa.Boolean(), nullable=False),
        sa.Column("reporter_key", sa.LargeBinary(), nullable=True),
        sa.Column("reporters_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("details_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("closed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("erasure_request_id", GUID(length=16), nullable=True),
        sa.Column("reporter_data_deleted_at", DateTimeUTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_reports")),
    )
    op.create_index("ix_child_reports_subject_id", "child_reports", ["subject_id", "status"])
    op.create_index("ix_child_reports_status_received_at", "child_reports", ["status", "received_at"])
    op.create_index("ix_child_reports_closed_at", "child_reports", ["closed_at"])


def downgrade() -> None:
    op.drop_index("ix_child_reports_closed_at", table_name="child_reports")
    op.drop_index("ix_child_reports_status_received_at", table_name="child_reports")
    op.drop_index("ix_child_reports_subject_id", table_name="child_reports")
    op.drop_table("child_reports")
