"""Billing tables: the append-only credit ledger, wallet locks, processor customers, checkouts, payments and
handled processor events. Card data is limited to brand, last4 and expiry month/year."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dreamina.adapters.sql.base import Base


class BillingWalletRow(Base):
    """One row per subject, updated first by every ledger write: the per-subject write lock, and the running sum of
    the subject's ledger entries (NULL until its first lock counts them: wallets older than migration 0025)."""

    __tablename__ = "billing_wallets"

    subject_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    balance: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CreditLedgerEntryRow(Base):
    __tablename__ = "credit_ledger_entries"
    __table_args__ = (Index("ix_credit_ledger_entries_subject_id", "subject_id", "created_at", "id"),)

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID)
    kind: Mapped[str] = mapped_column(String)
    amount: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String, unique=True)
    reference: Mapped[str | None] = mapped_column(String, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class BillingCustomerRow(Base):
    __tablename__ = "billing_customers"

    subject_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    processor: Mapped[str] = mapped_column(String)
    customer_id: Mapped[str] = mapped_column(String, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class CheckoutSessionRow(Base):
    __tablename__ = "checkout_sessions"
    __table_args__ = (Index("ix_checkout_sessions_created_at", "created_at"),)

    session_id: Mapped[str] = mapped_column(String, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID, index=True)
    pack_id: Mapped[str] = mapped_column(String)
    credits: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class PaymentRow(Base):
    __tablename__ = "payments"

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    subject_id: Mapped[UUID] = mapped_column(GUID, index=True)
    checkout_session_id: Mapped[str] = mapped_column(String, unique=True)
    payment_intent_id: Mapped[str] = mapped_column(String, unique=True)
    customer_id: Mapped[str | None] = mapped_column(String, nullable=True)
    pack_id: Mapped[str] = mapped_column(String)
    credits: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String)
    card_brand: Mapped[str | None] = mapped_column(String, nullable=True)
    card_last4: Mapped[str | None] = mapped_column(String, nullable=True)
    card_exp_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    card_exp_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount_refunded: Mapped[int] = mapped_column(Integer)
    amount_disputed: Mapped[int] = mapped_column(Integer)
    credits_clawed_back: Mapped[int] = mapped_column(Integer)
    paid_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    retain_until: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    pseudonymised_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class ProcessedPaymentEventRow(Base):
    __tablename__ = "processed_payment_events"

    event_id: Mapped[str] = mapped_column(String, primary_key=True)
    type: Mapped[str] = mapped_column(String)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


BILLING_ROW_TYPES: tuple[type[Base], ...] = (
    BillingWalletRow,
    CreditLedgerEntryRow,
    BillingCustomerRow,
    CheckoutSessionRow,
    PaymentRow,
    ProcessedPaymentEventRow,
)
