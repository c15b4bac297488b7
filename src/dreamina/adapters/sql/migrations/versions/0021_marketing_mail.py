"""consent: marketing campaigns, sent by a job in batches to the subjects who may receive them

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28 16:30:00

Written by hand from ``models_marketing``; runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC


def upgrade() -> None:
    op.create_table(
        "marketing_campaigns",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_line", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("cursor", GUID(length=16), nullable=True),
        sa.Column("started_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("finished_at", DateTimeUTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketing_campaigns")),
    )
    op.create_index("ix_marketing_campaigns_status", "marketing_campaigns", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_marketing_campaigns_status", table_name="marketing_campaigns")
    op.drop_table("marketing_campaigns")
