"""Builders of billing records for the repository contract suites."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from uuid import UUID

from dreamina.ports.billing import (
    BillingCustomer,
    CheckoutRecord,
    CheckoutStatus,
    EntryKind,
    LedgerEntry,
    PaymentRecord,
)
from dreamina.ports.payments import SandboxSession
from dreamina.ports.unit_of_work import UnitOfWork


def make_entry(subject: UUID, at: datetime, amount: int = 10, key: str | None = None) -> LedgerEntry:
    return LedgerEntry(
        id=uuid.uuid4(),
        subject_id=subject,
        kind=EntryKind.PURCHASE if amount > 0 else EntryKind.RESERVE,
        amount=amount,
        idempotency_key=key or f"test:{uuid.uuid4()}",
        reference="cs_test_reference",
        created_at=at,
    )


def make_checkout(subject: UUID, at: datetime, session_id: str | None = None) -> CheckoutRecord:
    return CheckoutRecord(
        session_id=session_id or f"cs_test_{uuid.uuid4().hex[:24]}",
        subject_id=subject,
        pack_id="starter",
        credits=100,
        amount=500,
        currency="eur",
        status=CheckoutStatus.OPEN,
        created_at=at,
        updated_at=at,
    )


def make_payment(subject: UUID, at: datetime, checkout: CheckoutRecord) -> PaymentRecord:
    return PaymentRecord(
        id=uuid.uuid4(),
        subject_id=subject,
        checkout_session_id=checkout.session_id,
        payment_intent_id=f"pi_{uuid.uuid4().hex[:24]}",
        customer_id="cus_test",
        pack_id=checkout.pack_id,
        credits=checkout.credits,
        amount=checkout.amount,
        currency=checkout.currency,
        card_brand="visa",
        card_last4="4242",
        card_exp_month=12,
        card_exp_year=2030,
        amount_refunded=0,
        amount_disputed=0,
        credits_clawed_back=0,
        paid_at=at,
        retain_until=at + timedelta(days=3650),
    )


def make_sandbox_session(created_at: datetime, number: int | None = None) -> SandboxSession:
    """A payment sandbox session opened at ``created_at`` (``number`` fixes its id and reference)."""
    suffix = uuid.uuid4().hex[:24] if number is None else f"{number:024d}"
    return SandboxSession(
        id=f"cs_test_{suffix}",
        reference=f"chk_{suffix}",
        customer_id=None,
        pack_id="starter",
        description="Starter: 100 Dreamina credits",
        amount=500,
        currency="eur",
        success_url="http://127.0.0.1:8000/ok",
        cancel_url="http://127.0.0.1:8000/cancel",
        created_at=created_at,
        expires_at=created_at + timedelta(hours=24),
    )


async def write_one_of_each_billing_row(uow: UnitOfWork, subject: UUID, at: datetime) -> None:
    await uow.billing.lock_wallet(subject, at)
    await uow.billing.add_entry(make_entry(subject, at))
    await uow.billing.add_customer(BillingCustomer(subject, "stripe", f"cus_{uuid.uuid4().hex[:14]}", at))
    checkout = make_checkout(subject, at)
    await uow.billing.add_checkout(checkout)
    await uow.billing.add_payment(make_payment(subject, at, checkout))
    await uow.billing.record_event(f"evt_{uuid.uuid4().hex[:24]}", "checkout.session.completed", at)
    await uow.sandbox_sessions.add(make_sandbox_session(at))
