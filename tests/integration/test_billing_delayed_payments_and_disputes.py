"""Delayed payment methods and closed disputes on every store (memory, SQLite, PostgreSQL), through signed events:
a debit credits only once the bank confirms it, a failed one credits nothing and is on the record, a won dispute
gives back exactly what its creation took, a lost one keeps it, whatever the redelivery and arrival order."""

from __future__ import annotations

import asyncio
import json
import uuid

from dreamina.adapters.payments import events as signed
from dreamina.domain.billing.events import Outcome
from dreamina.ports.billing import CheckoutStatus, EntryKind

from .test_billing_ledger_and_events import WELCOME, Harness, h, intent_of

__all__ = ["h"]  # the shared harness fixture

SUCCEEDS, FAILS = signed.SEPA_TEST_IBANS


async def _deliver(harness: Harness, *, times: int = 1) -> list[Outcome]:
    """Deliver the processor's latest event ``times`` times at once."""
    payload, header = harness.processor.sent[-1]
    return list(await asyncio.gather(*(harness.events.receive(payload, header) for _ in range(times))))


async def _checkout_status(harness: Harness, session_id: str) -> CheckoutStatus:
    async with harness.uow() as uow:
        checkout = await uow.billing.get_checkout(session_id)
    assert checkout is not None
    return checkout.status


async def test_a_debit_credits_nothing_while_unpaid_and_the_pack_once_when_it_succeeds(h: Harness) -> None:
    subject = uuid.uuid4()
    session_id = await h.open_checkout(subject)
    await h.processor.pay_by_debit(session_id, SUCCEEDS)
    assert await _deliver(h, times=2) in (
        [Outcome.AWAITING_PAYMENT, Outcome.DUPLICATE],
        [Outcome.DUPLICATE, Outcome.AWAITING_PAYMENT],
    )
    assert await h.credits.balance(subject) == WELCOME
    assert await _checkout_status(h, session_id) is CheckoutStatus.AWAITING_PAYMENT

    await h.processor.settle_debit(session_id)
    outcomes = await _deliver(h, times=3)
    assert sorted(outcomes) == sorted([Outcome.CREDITED, Outcome.DUPLICATE, Outcome.DUPLICATE])
    assert await _deliver(h) == [Outcome.DUPLICATE]
    assert await h.credits.balance(subject) == WELCOME + 100
    purchases = [e for e in (await h.credits.ledger(subject)).entries if e.kind is EntryKind.PURCHASE]
    assert [(e.amount, e.reference) for e in purchases] == [(100, session_id)]
    assert await _checkout_status(h, session_id) is CheckoutStatus.COMPLETED
    (payment,) = await h.records.payments(subject)
    assert (payment.amount, payment.card_brand, payment.card_last4) == (500, None, None)  # no card paid


async def test_a_failed_debit_credits_nothing_and_the_failure_is_on_the_record(h: Harness) -> None:
    subject = uuid.uuid4()
    session_id = await h.open_checkout(subject)
    await h.processor.pay_by_debit(session_id, FAILS)
    await _deliver(h)
    await h.processor.settle_debit(session_id)
    assert sorted(await _deliver(h, times=2)) == sorted([Outcome.PAYMENT_FAILED, Outcome.DUPLICATE])
    assert await h.credits.balance(subject) == WELCOME
    assert await _checkout_status(h, session_id) is CheckoutStatus.PAYMENT_FAILED
    assert await h.records.payments(subject) == []
    async with h.uow() as uow:
        trail = await uow.audit.list_for_subject(subject)
    assert [(e.action, e.reason) for e in trail] == [("billing.payment_failed", session_id)]


async def _paid_and_disputed(harness: Harness, subject: uuid.UUID) -> str:
    """A paid pack whose payment is then disputed; returns the dispute id (the credits are withdrawn)."""
    session_id = await harness.open_checkout(subject)
    completed = await harness.pay(session_id)
    await harness.events.receive(*completed)
    await harness.processor.dispute(intent_of(completed))
    payload, header = harness.processor.sent[-1]
    assert await harness.events.receive(payload, header) is Outcome.CLAWED_BACK
    assert await harness.credits.balance(subject) == WELCOME
    return str(json.loads(payload)["data"]["object"]["id"])


async def test_a_won_dispute_returns_the_withdrawn_credits_exactly_once(h: Harness) -> None:
    subject = uuid.uuid4()
    dispute_id = await _paid_and_disputed(h, subject)
    await h.processor.close_dispute(dispute_id, "won")
    outcomes = await _deliver(h, times=3)
    assert sorted(outcomes) == sorted([Outcome.DISPUTE_WON, Outcome.DUPLICATE, Outcome.DUPLICATE])
    assert await h.credits.balance(subject) == WELCOME + 100
    returned = [e for e in (await h.credits.ledger(subject)).entries if e.kind is EntryKind.DISPUTE_REVERSAL]
    assert [(e.amount, e.reference) for e in returned] == [(100, dispute_id)]
    (payment,) = await h.records.payments(subject)
    assert (payment.amount_disputed, payment.credits_clawed_back) == (0, 0)


async def test_a_lost_dispute_keeps_the_credits_withdrawn(h: Harness) -> None:
    subject = uuid.uuid4()
    dispute_id = await _paid_and_disputed(h, subject)
    await h.processor.close_dispute(dispute_id, "lost")
    assert sorted(await _deliver(h, times=2)) == sorted([Outcome.DISPUTE_LOST, Outcome.DUPLICATE])
    assert await h.credits.balance(subject) == WELCOME
    (payment,) = await h.records.payments(subject)
    assert (payment.amount_disputed, payment.credits_clawed_back) == (500, 100)


async def test_a_closed_dispute_that_arrives_before_its_creation_settles_the_same(h: Harness) -> None:
    for status, expected in (("won", WELCOME + 100), ("lost", WELCOME)):
        subject = uuid.uuid4()
        session_id = await h.open_checkout(subject)
        completed = await h.pay(session_id)
        await h.events.receive(*completed)
        await h.processor.dispute(intent_of(completed))
        created = h.processor.sent[-1]
        dispute_id = str(json.loads(created[0])["data"]["object"]["id"])
        await h.processor.close_dispute(dispute_id, status)
        await _deliver(h)  # the closing first
        await h.events.receive(*created)  # then the creation, late
        assert await h.credits.balance(subject) == expected, status
