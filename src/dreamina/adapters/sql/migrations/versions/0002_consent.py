"""consent: consent history, objections, policy notices, analytics events, staff roles

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:30:00

Written by hand after the models in ``models_consent.py``; runs on SQLite and PostgreSQL alike. ``seq`` is
``BIGINT`` with an identity on PostgreSQL and ``INTEGER PRIMARY KEY`` (the rowid) on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC
SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("seq", SEQUENCE, autoincrement=True, nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=True),
        sa.Column("device_key", sa.String(), nullable=True),
        sa.Column("functional", sa.Boolean(), nullable=False),
        sa.Column("analytics", sa.Boolean(), nullable=False),
        sa.Column("marketing", sa.Boolean(), nullable=False),
        sa.Column("sale_share_opt_out", sa.Boolean(), nullable=False),
        sa.Column("gpc", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(), nullable=False),
        sa.Column("recorded_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_consent_records")),
        sa.UniqueConstraint("id", name=op.f("uq_consent_records_id")),
    )
    op.create_index("ix_consent_records_subject_id", "consent_records", ["subject_id", "seq"], unique=False)
    op.create_index("ix_consent_records_device_key", "consent_records", ["device_key", "seq"], unique=False)

    op.create_table(
        "objections",
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("objected", sa.Boolean(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "purpose", name=op.f("pk_objections")),
    )

    op.create_table(
        "policy_notices",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("effective_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("notified_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("resolved_at", DateTimeUTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_notices")),
        sa.UniqueConstraint("subject_id", "policy_version", name="uq_policy_notices_subject_version"),
    )
    op.create_index("ix_policy_notices_policy_version", "policy_notices", ["policy_version"], unique=False)

    op.create_table(
        "analytics_events",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("feature", sa.String(), nullable=True),
        sa.Column("page", sa.String(), nullable=True),
        sa.Column("country", sa.String(), nullable=True),
        sa.Column("browser_family", sa.String(), nullable=False),
        sa.Column("device_class", sa.String(), nullable=False),
        sa.Column("pseudonym", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
    )
    op.create_index("ix_analytics_events_day", "analytics_events", ["day", "name"], unique=False)

    op.create_table(
        "staff_members",
        sa.Column("account_id", GUID(length=16), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("granted_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_staff_members")),
    )


def downgrade() -> None:
    op.drop_table("staff_members")
    op.drop_index("ix_analytics_events_day", table_name="analytics_events")
    op.drop_table("analytics_events")
    op.drop_index("ix_policy_notices_policy_version", table_name="policy_notices")
    op.drop_table("policy_notices")
    op.drop_table("objections")
    op.drop_index("ix_consent_records_device_key", table_name="consent_records")
    op.drop_index("ix_consent_records_subject_id", table_name="consent_records")
    op.drop_table("consent_records")
