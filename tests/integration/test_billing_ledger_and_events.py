"""Billing use cases on every store (memory, SQLite, PostgreSQL): the ledger, generation charges and the
processor's events delivered twice, concurrently, out of order, stale or tampered. Ledger sums stay exact."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.payments import InMemoryPaymentProcessor
from dreamina.adapters.payments import events as signed
from dreamina.domain.billing.catalogue import Catalogue, GenerationPrices, Pack
from dreamina.domain.billing.credits import Credits
from dreamina.domain.billing.errors import EventNotReady, InsufficientCredits, InvalidSignature
from dreamina.domain.billing.events import Outcome, PaymentEvents
from dreamina.domain.billing.records import BillingRecords
from dreamina.domain.billing.retention import ExpiredPaymentRecords, ForgottenPaymentEvents
from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.domain.privacy.retention import RetentionSweep
from dreamina.ports.billing import CheckoutRecord, CheckoutStatus, EntryKind
from dreamina.ports.generation import GenerationCharges, GenerationKind
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.wiring.billing import LedgerGenerationCharges

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECRET = "whsec_test_secret"
WELCOME = 40
PACK = Pack("starter", "Starter", 100, 500, "eur")


class Harness:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow
        self.clock = MovableClock(NOW)
        self.processor = InMemoryPaymentProcessor(secret=SECRET, clock=self.clock)
        self.credits = Credits(uow=uow, clock=self.clock, welcome_credits=WELCOME)
        self.events = PaymentEvents(
            uow=uow, clock=self.clock, processor=self.processor, record_retention=timedelta(days=3650)
        )
        self.records = BillingRecords(uow=uow, clock=self.clock, processor=self.processor)
        self.catalogue = Catalogue((PACK,))

    async def reserve(self, charges: GenerationCharges, subject: UUID, generation: UUID, units: int) -> None:
        """What a submission does: the hold, in a unit of work the caller commits (with the generation row)."""
        async with self.uow() as uow:
            await charges.reserve(uow, subject, generation, GenerationKind.IMAGE, units)
            await uow.commit()

    async def open_checkout(self, subject: UUID) -> str:
        """A checkout as Checkout.start leaves it (the processor's session plus our record)."""
        from dreamina.ports.payments import CheckoutRequest

        hosted = await self.processor.create_checkout(
            CheckoutRequest(
                None, PACK.id, "Starter", PACK.amount, PACK.currency, "https://s", "https://c", uuid.uuid4().hex
            )
        )
        async with self.uow() as uow:
            await uow.billing.add_checkout(
                CheckoutRecord(
                    hosted.session_id,
                    subject,
                    PACK.id,
                    PACK.credits,
                    PACK.amount,
                    PACK.currency,
                    CheckoutStatus.OPEN,
                    NOW,
                    NOW,
                )
            )
            await uow.commit()
        return hosted.session_id

    async def pay(self, session_id: str) -> tuple[bytes, str]:
        """Pay on the (fake) hosted page; returns the signed completion event it sent."""
        before = len(self.processor.sent)
        attempt = await self.processor.pay(session_id, "4242 4242 4242 4242", "12", "2030", "123")
        assert attempt.status == "succeeded"
        (delivery,) = self.processor.sent[before:]
        return delivery

    async def ledger_sum(self, subject: UUID) -> int:
        page = await self.credits.ledger(subject, limit=100)
        return sum(e.amount for e in page.entries)


@pytest.fixture
def h(uow_factory: UnitOfWorkFactory) -> Harness:
    return Harness(uow_factory)


def intent_of(delivery: tuple[bytes, str]) -> str:
    return str(json.loads(delivery[0])["data"]["object"]["payment_intent"])


# -- ledger -------------------------------------------------------------------------------------------------------


async def test_welcome_grant_is_written_once_and_balance_is_the_ledger_sum(h: Harness) -> None:
    subject = uuid.uuid4()
    assert await asyncio.gather(*(h.credits.balance(subject) for _ in range(4))) == [WELCOME] * 4
    page = await h.credits.ledger(subject)
    assert [(e.kind, e.amount) for e in page.entries] == [(EntryKind.WELCOME_GRANT, WELCOME)]
    assert page.next_cursor is None


async def test_ledger_pages_newest_first_without_gaps_or_repeats(h: Harness) -> None:
    subject = uuid.uuid4()
    await h.credits.balance(subject)
    for _ in range(7):
        h.clock.advance(timedelta(seconds=1))
        await h.credits.reserve(subject, uuid.uuid4(), 1)
    seen, cursor = [], None
    while True:
        page = await h.credits.ledger(subject, cursor=cursor, limit=3)
        seen.extend(page.entries)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == 8 and len({e.id for e in seen}) == 8
    assert [e.created_at for e in seen] == sorted((e.created_at for e in seen), reverse=True)
    assert seen[-1].kind is EntryKind.WELCOME_GRANT
    with pytest.raises(InvalidInput):
        await h.credits.ledger(subject, cursor="not-a-cursor")


async def test_reserve_capture_release_are_idempotent_and_exactly_once(h: Harness) -> None:
    # 1 credit per image output, so units are credits here
    charges: GenerationCharges = LedgerGenerationCharges(h.credits, GenerationPrices(image_per_output=1))
    subject, done, failed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await h.reserve(charges, subject, done, 10)
    await h.reserve(charges, subject, done, 10)  # retried submission
    await h.reserve(charges, subject, failed, 12)
    assert await h.credits.balance(subject) == WELCOME - 22
    for _ in range(2):  # a worker that died and retried
        await charges.capture(done)
        await charges.release(failed)
    await charges.release(done)  # after capture: no-op
    await charges.capture(failed)  # after release: no-op
    assert await h.credits.balance(subject) == WELCOME - 10
    kinds = sorted(e.kind.value for e in (await h.credits.ledger(subject)).entries)
    assert kinds == ["capture", "release", "reserve", "reserve", "welcome_grant"]
    with pytest.raises(NotFound):
        await charges.capture(uuid.uuid4())


async def test_reserve_refuses_when_short_and_stores_nothing(h: Harness) -> None:
    subject = uuid.uuid4()
    with pytest.raises(InsufficientCredits) as refused:
        await h.credits.reserve(subject, uuid.uuid4(), WELCOME + 1)
    assert refused.value.code == "insufficient_credits"
    assert await h.credits.balance(subject) == WELCOME
    assert len((await h.credits.ledger(subject)).entries) == 1


async def test_concurrent_reservations_never_overspend(h: Harness) -> None:
    subject = uuid.uuid4()
    await h.credits.balance(subject)
    results = await asyncio.gather(
        *(h.credits.reserve(subject, uuid.uuid4(), 10) for _ in range(6)), return_exceptions=True
    )
    assert sum(r is None for r in results) == WELCOME // 10
    assert all(isinstance(r, InsufficientCredits) for r in results if r is not None)
    assert await h.credits.balance(subject) == 0 == await h.ledger_sum(subject)


# -- processor events ----------------------------------------------------------------------------------------------


async def test_paid_checkout_credits_once_with_card_summary_only(h: Harness) -> None:
    subject = uuid.uuid4()
    delivery = await h.pay(await h.open_checkout(subject))
    assert await h.events.receive(*delivery) is Outcome.CREDITED
    assert await h.events.receive(*delivery) is Outcome.DUPLICATE
    assert await h.credits.balance(subject) == WELCOME + PACK.credits == await h.ledger_sum(subject)
    (payment,) = await h.records.payments(subject)
    assert (payment.card_brand, payment.card_last4, payment.card_exp_month, payment.card_exp_year) == (
        "visa",
        "4242",
        12,
        2030,
    )
    assert (payment.amount, payment.currency, payment.credits) == (500, "eur", 100)


async def test_two_concurrent_deliveries_of_one_event_credit_once(h: Harness) -> None:
    subject = uuid.uuid4()
    delivery = await h.pay(await h.open_checkout(subject))
    outcomes = await asyncio.gather(h.events.receive(*delivery), h.events.receive(*delivery))
    assert sorted(o.value for o in outcomes) == ["credited", "duplicate"]
    assert await h.credits.balance(subject) == WELCOME + PACK.credits == await h.ledger_sum(subject)


async def test_refund_delivered_before_completion_is_refused_then_applied_in_order(h: Harness) -> None:
    subject = uuid.uuid4()
    completed = await h.pay(await h.open_checkout(subject))
    intent = intent_of(completed)
    # The refund's event is produced while the processor thinks the payment is known; we have not seen it yet.
    await h.processor.refund(intent, 250, "half")
    refunded = h.processor.sent[-1]
    with pytest.raises(EventNotReady):
        await h.events.receive(*refunded)
    assert await h.credits.balance(subject) == WELCOME  # nothing changed
    assert await h.events.receive(*completed) is Outcome.CREDITED
    assert await h.events.receive(*refunded) is Outcome.CLAWED_BACK  # the processor's redelivery
    assert await h.credits.balance(subject) == WELCOME + 50 == await h.ledger_sum(subject)


async def test_cumulative_refunds_out_of_order_claw_back_exactly_the_pack(h: Harness) -> None:
    subject = uuid.uuid4()
    completed = await h.pay(await h.open_checkout(subject))
    await h.events.receive(*completed)
    intent = intent_of(completed)
    await h.processor.refund(intent, 100, "first")
    first = h.processor.sent[-1]
    await h.processor.refund(intent, None, "rest")
    full = h.processor.sent[-1]
    assert await h.events.receive(*full) is Outcome.CLAWED_BACK  # the later event arrives first
    assert await h.events.receive(*first) is Outcome.CLAWED_BACK
    assert await h.credits.balance(subject) == WELCOME == await h.ledger_sum(subject)


async def test_dispute_after_spending_makes_the_balance_negative_and_refuses_generations(h: Harness) -> None:
    subject = uuid.uuid4()
    completed = await h.pay(await h.open_checkout(subject))
    await h.events.receive(*completed)
    await h.credits.reserve(subject, uuid.uuid4(), WELCOME + 90)
    await h.processor.dispute(intent_of(completed))
    assert await h.events.receive(*h.processor.sent[-1]) is Outcome.CLAWED_BACK
    assert await h.credits.balance(subject) == -90 == await h.ledger_sum(subject)
    with pytest.raises(InsufficientCredits):
        await h.credits.reserve(subject, uuid.uuid4(), 1)


async def test_amount_or_currency_mismatch_grants_nothing(h: Harness) -> None:
    subject = uuid.uuid4()
    session_id = await h.open_checkout(subject)
    body = json.loads((await h.pay(session_id))[0])
    body["id"] = "evt_tampered_amount"
    body["data"]["object"]["amount_total"] = 50
    payload = json.dumps(body).encode()
    assert await h.events.receive(payload, signed.sign(payload, SECRET, int(NOW.timestamp()))) is Outcome.MISMATCH
    assert await h.credits.balance(subject) == WELCOME


@pytest.mark.parametrize("how", ["tampered", "old_timestamp", "wrong_secret", "missing", "garbage"])
async def test_bad_signatures_change_nothing(h: Harness, how: str) -> None:
    subject = uuid.uuid4()
    payload, header = await h.pay(await h.open_checkout(subject))
    if how == "tampered":
        payload = payload.replace(b'"amount_total":500', b'"amount_total":5000')
    elif how == "old_timestamp":
        header = signed.sign(payload, SECRET, int((NOW - timedelta(minutes=6)).timestamp()))
    elif how == "wrong_secret":
        header = signed.sign(payload, "whsec_other", int(NOW.timestamp()))
    elif how == "missing":
        header = ""
    else:
        header = "t=abc,v1=zz"
    with pytest.raises(InvalidSignature):
        await h.events.receive(payload, header)
    assert await h.credits.balance(subject) == WELCOME
    async with h.uow() as uow:
        assert not await uow.billing.event_handled(json.loads(payload)["id"])


async def test_expired_checkout_is_closed_and_grants_nothing(h: Harness) -> None:
    subject = uuid.uuid4()
    session_id = await h.open_checkout(subject)
    await h.processor.expire_checkout(session_id)
    assert await h.events.receive(*h.processor.sent[-1]) is Outcome.EXPIRED
    async with h.uow() as uow:
        checkout = await uow.billing.get_checkout(session_id)
    assert checkout is not None and checkout.status is CheckoutStatus.EXPIRED
    assert await h.credits.balance(subject) == WELCOME


# -- legal hold ----------------------------------------------------------------------------------------------------


async def test_erasure_pseudonymises_payment_records_and_deletes_the_customer(h: Harness) -> None:
    from dreamina.ports.billing import BillingCustomer

    subject = uuid.uuid4()
    customer_id = await h.processor.create_customer(str(subject), "someone@example.com")
    async with h.uow() as uow:
        await uow.billing.add_customer(BillingCustomer(subject, "stripe", customer_id, NOW))
        await uow.commit()
    await h.credits.balance(subject)  # the welcome grant
    await h.events.receive(*await h.pay(await h.open_checkout(subject)))
    erased = await h.records.pseudonymise_subject(subject)
    assert erased.processor_customer_deleted is True and h.processor.customers_deleted == [customer_id]
    assert erased.records_pseudonymised == 4  # welcome + purchase entries, the checkout, the payment
    assert await h.records.payments(subject) == []
    (kept,) = await h.records.payments(erased.tombstone)
    assert kept.customer_id is None and kept.pseudonymised_at is not None and kept.amount == 500
    async with h.uow() as uow:
        assert await uow.billing.balance(subject) == 0
        assert await uow.billing.balance(erased.tombstone) == WELCOME + PACK.credits
        assert await uow.billing.get_customer(subject) is None
        # no idempotency key names the person any more (issue 13, finding 13): "welcome:<id>" moved to the tombstone
        assert await uow.billing.get_entry(f"welcome:{subject}") is None
        assert await uow.billing.get_entry(f"welcome:{erased.tombstone}") is not None
        (audit,) = await uow.audit.list_for_subject(subject)
    assert audit.action == "processor_deletion"


async def test_retention_sweep_deletes_only_expired_payment_records(h: Harness) -> None:
    subject = uuid.uuid4()
    await h.events.receive(*await h.pay(await h.open_checkout(subject)))
    sweep = RetentionSweep([ExpiredPaymentRecords(h.uow), ForgottenPaymentEvents(h.uow)], h.clock, batch_size=1)
    h.clock.advance(timedelta(days=89))
    assert [(r.due, r.applied) for r in await sweep.run()] == [(0, 0), (0, 0)]
    h.clock.advance(timedelta(days=2))  # the handled-event mark is forgotten; the payment record is kept
    assert [(r.due, r.applied) for r in await sweep.run()] == [(0, 0), (1, 1)]
    h.clock.advance(timedelta(days=3649 - 91))
    assert [(r.due, r.applied) for r in await sweep.run()] == [(0, 0), (0, 0)]
    assert len(await h.records.payments(subject)) == 1
    h.clock.advance(timedelta(days=2))  # past the 10-year legal period
    assert [(r.due, r.applied) for r in await sweep.run()] == [(1, 1), (0, 0)]
    assert await h.records.payments(subject) == []
