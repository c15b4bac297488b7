"""Handling the processor's signed events: credit paid checkouts, close expired ones, claw back refunds and
disputes. Each event id is handled exactly once (a unique mark written in the same transaction as its effects),
whether it arrives twice, concurrently or out of order.
"""

from __future__ import annotations

import enum
import uuid
from datetime import timedelta

from dreamina.domain.billing.errors import EventNotReady, InvalidEvent
from dreamina.domain.privacy.errors import Conflict
from dreamina.domain.privacy.retries import retry_on_conflict
from dreamina.ports.billing import CheckoutStatus, EntryKind, LedgerEntry, PaymentRecord
from dreamina.ports.clock import Clock
from dreamina.ports.payments import CardSummary, PaymentProcessor, ProcessorEvent
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

COMPLETED = "checkout.session.completed"
EXPIRED = "checkout.session.expired"
REFUNDED = "charge.refunded"
DISPUTED = "charge.dispute.created"
HANDLED_TYPES = frozenset({COMPLETED, EXPIRED, REFUNDED, DISPUTED})


class Outcome(enum.StrEnum):
    CREDITED = "credited"
    NOT_PAID = "not_paid"
    MISMATCH = "amount_mismatch"
    EXPIRED = "expired"
    CLAWED_BACK = "clawed_back"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


def proportional_credits(credits: int, part: int, whole: int) -> int:
    """Credits matching ``part`` of a payment of ``whole`` (rounded half up, never more than ``credits``)."""
    if whole <= 0:
        return 0
    return min(credits, (credits * part * 2 + whole) // (whole * 2))


class PaymentEvents:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        processor: PaymentProcessor,
        record_retention: timedelta,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._processor = processor
        self._retention = record_retention

    async def receive(self, payload: bytes, signature: str | None) -> Outcome:
        """Verify and handle one delivery; ``InvalidSignature`` changes nothing."""
        return await self.handle(self._processor.verify_event(payload, signature))

    async def handle(self, event: ProcessorEvent) -> Outcome:
        async with self._uow() as uow:
            if await uow.billing.event_handled(event.id):
                return Outcome.DUPLICATE
        if event.type == COMPLETED:
            return await self._completed(event)
        if event.type == EXPIRED:
            return await retry_on_conflict(lambda: self._expired(event))
        if event.type in (REFUNDED, DISPUTED):
            return await self._clawback(event)
        return await retry_on_conflict(lambda: self._ignore(event))

    async def _mark(self, uow: UnitOfWork, event: ProcessorEvent) -> bool:
        """Write the event's handled mark; False if another delivery got there first."""
        try:
            await uow.billing.record_event(event.id, event.type, self._clock.now())
        except Conflict:
            return False
        return True

    async def _ignore(self, event: ProcessorEvent) -> Outcome:
        async with self._uow() as uow:
            if not await self._mark(uow, event):
                return Outcome.DUPLICATE
            await uow.commit()
        return Outcome.IGNORED

    async def _completed(self, event: ProcessorEvent) -> Outcome:
        if not event.session_id:
            raise InvalidEvent("checkout.session.completed without a session id")
        async with self._uow() as uow:
            checkout = await uow.billing.get_checkout(event.session_id)
        if checkout is None:  # a session some other integration of the account made: not ours to credit
            return await retry_on_conflict(lambda: self._ignore(event))
        paid = event.payment_status == "paid" and bool(event.payment_intent_id)
        card: CardSummary | None = None
        if paid and event.payment_intent_id:
            card = await self._processor.card_summary(event.payment_intent_id)

        async def attempt() -> Outcome:
            async with self._uow() as uow:
                await uow.billing.lock_wallet(checkout.subject_id, self._clock.now())
                if not await self._mark(uow, event):
                    return Outcome.DUPLICATE
                current = await uow.billing.get_checkout(checkout.session_id)
                assert current is not None
                now = self._clock.now()
                if not paid or event.payment_intent_id is None:
                    await uow.commit()
                    return Outcome.NOT_PAID
                if event.amount != current.amount or (event.currency or "").lower() != current.currency:
                    current.refuse_amount(now)
                    await uow.billing.update_checkout(current)
                    await uow.commit()
                    return Outcome.MISMATCH
                if await uow.billing.get_payment_by_intent(event.payment_intent_id) is None:
                    await uow.billing.add_payment(
                        PaymentRecord(
                            id=uuid.uuid4(),
                            subject_id=current.subject_id,
                            checkout_session_id=current.session_id,
                            payment_intent_id=event.payment_intent_id,
                            customer_id=event.customer_id,
                            pack_id=current.pack_id,
                            credits=current.credits,
                            amount=current.amount,
                            currency=current.currency,
                            card_brand=card.brand if card else None,
                            card_last4=card.last4 if card else None,
                            card_exp_month=card.exp_month if card else None,
                            card_exp_year=card.exp_year if card else None,
                            amount_refunded=0,
                            amount_disputed=0,
                            credits_clawed_back=0,
                            paid_at=now,
                            retain_until=now + self._retention,
                        )
                    )
                    await uow.billing.add_entry(
                        LedgerEntry(
                            id=uuid.uuid4(),
                            subject_id=current.subject_id,
                            kind=EntryKind.PURCHASE,
                            amount=current.credits,
                            idempotency_key=f"purchase:{current.session_id}",
                            reference=current.session_id,
                            created_at=now,
                        )
                    )
                current.complete(now)
                await uow.billing.update_checkout(current)
                await uow.commit()
                return Outcome.CREDITED

        return await retry_on_conflict(attempt)

    async def _expired(self, event: ProcessorEvent) -> Outcome:
        if not event.session_id:
            raise InvalidEvent("checkout.session.expired without a session id")
        async with self._uow() as uow:
            if not await self._mark(uow, event):
                return Outcome.DUPLICATE
            checkout = await uow.billing.get_checkout(event.session_id)
            if checkout is not None and checkout.status is CheckoutStatus.OPEN:
                checkout.expire(self._clock.now())
                await uow.billing.update_checkout(checkout)
            await uow.commit()
        return Outcome.EXPIRED if checkout is not None else Outcome.IGNORED

    async def _clawback(self, event: ProcessorEvent) -> Outcome:
        if not event.payment_intent_id:
            raise InvalidEvent(f"{event.type} without a payment intent")
        intent = event.payment_intent_id
        async with self._uow() as uow:
            payment = await uow.billing.get_payment_by_intent(intent)
        if payment is None:
            # Out of order: the payment's completion has not arrived yet. Nothing is recorded, so the
            # processor's redelivery is handled in full once it has.
            raise EventNotReady("the payment this event refers to is not recorded yet")
        subject_id = payment.subject_id

        async def attempt() -> Outcome:
            async with self._uow() as uow:
                await uow.billing.lock_wallet(subject_id, self._clock.now())
                if not await self._mark(uow, event):
                    return Outcome.DUPLICATE
                current = await uow.billing.get_payment_by_intent(intent)
                assert current is not None
                if event.type == REFUNDED:
                    current.record_refund(event.amount_refunded or 0)
                    kind = EntryKind.REFUND_CLAWBACK
                else:
                    current.record_dispute(event.amount or 0)
                    kind = EntryKind.DISPUTE_CLAWBACK
                owed = proportional_credits(
                    current.credits, current.amount_refunded + current.amount_disputed, current.amount
                )
                delta = owed - current.credits_clawed_back
                if delta > 0:
                    await uow.billing.add_entry(
                        LedgerEntry(
                            id=uuid.uuid4(),
                            subject_id=current.subject_id,
                            kind=kind,
                            amount=-delta,
                            idempotency_key=f"event:{event.id}",
                            reference=event.object_id,
                            created_at=self._clock.now(),
                        )
                    )
                    current.claw_back(delta)
                await uow.billing.update_payment(current)
                await uow.commit()
                return Outcome.CLAWED_BACK

        return await retry_on_conflict(attempt)
