"""generation: content moderation refusals and moderation reviews

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29 01:30:00

Written by hand from ``models_moderation``; runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC
_OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_table(
        "moderation_records",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("checked", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("input_hmac", sa.String(), nullable=False),
        sa.Column("occurred_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_records")),
    )
    op.create_index("ix_moderation_records_subject_id", "moderation_records", ["subject_id", "occurred_at"])
    op.create_index("ix_moderation_records_occurred_at", "moderation_records", ["occurred_at"])
    op.create_table(
        "moderation_reviews",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("refusals", sa.Integer(), nullable=False),
        sa.Column("opened_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("closed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_reviews")),
    )
    op.create_index("ix_moderation_reviews_status_opened_at", "moderation_reviews", ["status", "opened_at"])
    op.create_index("ix_moderation_reviews_closed_at", "moderation_reviews", ["closed_at"])
    op.create_index("ix_moderation_reviews_subject_id", "moderation_reviews", ["subject_id"])
    op.create_index(
        "ux_moderation_reviews_open_subject",
        "moderation_reviews",
        ["subject_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("ux_moderation_reviews_open_subject", table_name="moderation_reviews")
    op.drop_index("ix_moderation_reviews_subject_id", table_name="moderation_reviews")
    op.drop_index("ix_moderation_reviews_closed_at", table_name="moderation_reviews")
    op.drop_index("ix_moderation_reviews_status_opened_at", table_name="moderation_reviews")
    op.drop_table("moderation_reviews")
    op.drop_index("ix_moderation_records_occurred_at", table_name="moderation_records")
    op.drop_index("ix_moderation_records_subject_id", table_name="moderation_records")
    op.drop_table("moderation_records")
