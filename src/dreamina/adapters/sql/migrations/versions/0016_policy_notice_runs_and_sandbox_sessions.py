"""consent: policy-change notices as a durable job (one run per published version); billing: the payment
sandbox's checkout sessions in the database, so a restart loses none

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 11:00:00

Written by hand from ``models_policy`` and ``models_sandbox``; runs on SQLite and PostgreSQL alike. Versions
published before this revision had their notices sent inside the request, so no run is created for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTimeUTC = advanced_alchemy.types.DateTimeUTC


def upgrade() -> None:
    op.create_table(
        "policy_notice_runs",
        sa.Column("policy_version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("notices_sent", sa.Integer(), nullable=False),
        sa.Column("requested_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("started_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("finished_at", DateTimeUTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("policy_version", name=op.f("pk_policy_notice_runs")),
    )
    op.create_index("ix_policy_notice_runs_status", "policy_notice_runs", ["status"])
    op.create_table(
        "sandbox_checkout_sessions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=True),
        sa.Column("pack_id", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("success_url", sa.String(), nullable=False),
        sa.Column("cancel_url", sa.String(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("payment_status", sa.String(), nullable=False),
        sa.Column("pending_debit", sa.String(), nullable=True),
        sa.Column("payment_intent_id", sa.String(), nullable=True),
        sa.Column("charge_id", sa.String(), nullable=True),
        sa.Column("card_brand", sa.String(), nullable=True),
        sa.Column("card_last4", sa.String(), nullable=True),
        sa.Column("card_exp_month", sa.Integer(), nullable=True),
        sa.Column("card_exp_year", sa.Integer(), nullable=True),
        sa.Column("amount_refunded", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_checkout_sessions")),
        sa.UniqueConstraint("reference", name=op.f("uq_sandbox_checkout_sessions_reference")),
        sa.UniqueConstraint("payment_intent_id", name=op.f("uq_sandbox_checkout_sessions_payment_intent_id")),
    )
    op.create_index("ix_sandbox_checkout_sessions_created_at", "sandbox_checkout_sessions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_sandbox_checkout_sessions_created_at", table_name="sandbox_checkout_sessions")
    op.drop_table("sandbox_checkout_sessions")
    op.drop_index("ix_policy_notice_runs_status", table_name="policy_notice_runs")
    op.drop_table("policy_notice_runs")
