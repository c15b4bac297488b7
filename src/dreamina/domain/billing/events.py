"""Handling the processor's signed events: credit paid checkouts, close expired ones, claw back refunds and
disputes. Each event id is handled exactly once (a unique mark written in the same transaction as its effects),
whether it arrives twice, concurrently or out of order.

Delayed payment methods (a SEPA debit) complete the session unpaid: nothing is credited and the checkout waits
(``awaiting_payment``) for ``checkout.session.async_payment_succeeded``, which credits the pack exactly like a paid
completion (the same ``purchase:<session>`` key, so at most once however the two arrive), or
``..._async_payment_failed``, which credits nothing, puts the failure on the subject's audit trail and tells them
by mail. Refunds and disputes are handled in :mod:`.clawbacks`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from dreamina.domain.billing.clawbacks import (
    DISPUTE_CLOSED,
    DISPUTED,
    REFUNDED,
    Clawbacks,
    Outcome,
    proportional_credits,
)
from dreamina.domain.billing.errors import InvalidEvent
from dreamina.domain.billing.notices import PaymentNotices
from dreamina.domain.privacy.errors import Conflict
from dreamina.domain.privacy.retries import retry_on_conflict
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.billing import CheckoutStatus, EntryKind, LedgerEntry, PaymentRecord
from dreamina.ports.clock import Clock
from dreamina.ports.payments import CardSummary, PaymentProcessor, ProcessorEvent
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"
HANDLED_TYPES = frozenset({COMPLETED, ASYNC_SUCCEEDED, ASYNC_FAILED, EXPIRED, REFUNDED, DISPUTED, DISPUTE_CLOSED})
__all__ = ["HANDLED_TYPES", "Outcome", "PaymentEvents", "proportional_credits"]


class PaymentEvents:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        processor: PaymentProcessor,
        record_retention: timedelta,
        notices: PaymentNotices | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._processor = processor
        self._retention = record_retention
        self._notices = notices
        self._clawbacks = Clawbacks(uow=uow, clock=clock, mark=self._mark)

    async def receive(self, payload: bytes, signature: str | None) -> Outcome:
        """Verify and handle one delivery; ``InvalidSignature`` changes nothing."""
        return await self.handle(self._processor.verify_event(payload, signature))

    async def handle(self, event: ProcessorEvent) -> Outcome:
        async with self._uow() as uow:
            if await uow.billing.event_handled(event.id):
                return Outcome.DUPLICATE
        if event.type in (COMPLETED, ASYNC_SUCCEEDED):
            return await self._completed(event)
        if event.type == ASYNC_FAILED:
            return await self._payment_failed(event)
        if event.type == EXPIRED:
            return await retry_on_conflict(lambda: self._expired(event))
        if event.type in (REFUNDED, DISPUTED, DISPUTE_CLOSED):
            return await self._clawbacks.handle(event)
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
            raise InvalidEvent(f"{event.type} without a session id")
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
                    if event.payment_status == "unpaid" and event.type == COMPLETED:  # a delayed method
                        current.await_payment(now)
                        await uow.billing.update_checkout(current)
                        await uow.commit()
                        return Outcome.AWAITING_PAYMENT
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

    async def _payment_failed(self, event: ProcessorEvent) -> Outcome:
        if not event.session_id:
            raise InvalidEvent(f"{event.type} without a session id")
        session_id = event.session_id

        async def attempt() -> Outcome:
            async with self._uow() as uow:
                if not await self._mark(uow, event):
                    return Outcome.DUPLICATE
                checkout = await uow.billing.get_checkout(session_id)
                if checkout is None:
                    await uow.commit()
                    return Outcome.IGNORED
                now = self._clock.now()
                checkout.fail_payment(now)
                await uow.billing.update_checkout(checkout)
                await uow.audit.append(
                    AuditEvent(
                        id=uuid.uuid4(),
                        subject_id=checkout.subject_id,
                        actor_kind=ActorKind.SYSTEM,
                        actor_id=None,
                        action="billing.payment_failed",
                        fields=("checkout_sessions.status",),
                        reason=session_id,
                        occurred_at=now,
                    )
                )
                if self._notices is not None:
                    await self._notices.payment_failed(uow, checkout)
                await uow.commit()
                return Outcome.PAYMENT_FAILED

        outcome = await retry_on_conflict(attempt)
        if outcome is Outcome.PAYMENT_FAILED and self._notices is not None:
            await self._notices.flush()
        return outcome

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
