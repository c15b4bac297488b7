"""billing: credit ledger, wallet locks, processor customers, checkouts, payments, handled processor events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:30:00

Written to match ``adapters/sql/models_billing.py``; the stairway test compares the result with the models on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.GUID
DateTimeUTC = advanced_alchemy.types.DateTimeUTC


def upgrade() -> None:
    op.create_table(
        "billing_wallets",
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_billing_wallets")),
    )
    op.create_table(
        "credit_ledger_entries",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_ledger_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_credit_ledger_entries_idempotency_key")),
    )
    op.create_index("ix_credit_ledger_entries_subject_id", "credit_ledger_entries", ["subject_id", "created_at", "id"])
    op.create_table(
        "billing_customers",
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("processor", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_billing_customers")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_billing_customers_customer_id")),
    )
    op.create_table(
        "checkout_sessions",
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("pack_id", sa.String(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_checkout_sessions")),
    )
    op.create_index(op.f("ix_checkout_sessions_subject_id"), "checkout_sessions", ["subject_id"])
    op.create_table(
        "payments",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("checkout_session_id", sa.String(), nullable=False),
        sa.Column("payment_intent_id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=True),
        sa.Column("pack_id", sa.String(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("card_brand", sa.String(), nullable=True),
        sa.Column("card_last4", sa.String(), nullable=True),
        sa.Column("card_exp_month", sa.Integer(), nullable=True),
        sa.Column("card_exp_year", sa.Integer(), nullable=True),
        sa.Column("amount_refunded", sa.Integer(), nullable=False),
        sa.Column("amount_disputed", sa.Integer(), nullable=False),
        sa.Column("credits_clawed_back", sa.Integer(), nullable=False),
        sa.Column("paid_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("retain_until", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("pseudonymised_at", DateTimeUTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("checkout_session_id", name=op.f("uq_payments_checkout_session_id")),
        sa.UniqueConstraint("payment_intent_id", name=op.f("uq_payments_payment_intent_id")),
    )
    op.create_index(op.f("ix_payments_subject_id"), "payments", ["subject_id"])
    op.create_index(op.f("ix_payments_retain_until"), "payments", ["retain_until"])
    op.create_table(
        "processed_payment_events",
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("received_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_payment_events")),
    )
    op.create_index(op.f("ix_processed_payment_events_received_at"), "processed_payment_events", ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_processed_payment_events_received_at"), table_name="processed_payment_events")
    op.drop_table("processed_payment_events")
    op.drop_index(op.f("ix_payments_retain_until"), table_name="payments")
    op.drop_index(op.f("ix_payments_subject_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_checkout_sessions_subject_id"), table_name="checkout_sessions")
    op.drop_table("checkout_sessions")
    op.drop_table("billing_customers")
    op.drop_index("ix_credit_ledger_entries_subject_id", table_name="credit_ledger_entries")
    op.drop_table("credit_ledger_entries")
    op.drop_table("billing_wallets")
