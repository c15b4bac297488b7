"""Refunds and disputes take credits back. ``charge.refunded`` carries the processor's running total of refunds;
the credits in proportion are clawed back (keyed by event). ``charge.dispute.created`` (a chargeback) withdraws the
disputed part of the pack's credits while the card network decides; ``charge.dispute.closed`` either gives them
back (``won``, or ``warning_closed``: an inquiry that never became a chargeback) or keeps them withdrawn (``lost``).

Each dispute has one withdrawal entry (``dispute:<dispute id>``) and at most one reversal
(``dispute-reversed:<dispute id>``) in the ledger, whose unique keys make both exactly-once across redeliveries and
even across distinct event ids. A closing that arrives before its creation applies the withdrawal first, so the
late creation finds it and changes nothing.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable

from dreamina.domain.billing.errors import EventNotReady, InvalidEvent
from dreamina.domain.privacy.retries import retry_on_conflict
from dreamina.ports.billing import EntryKind, LedgerEntry, PaymentRecord
from dreamina.ports.clock import Clock
from dreamina.ports.payments import ProcessorEvent
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

REFUNDED = "charge.refunded"
DISPUTED = "charge.dispute.created"
DISPUTE_CLOSED = "charge.dispute.closed"
RETURNED = frozenset({"won", "warning_closed"})  # the funds come back to us, so the credits go back to the buyer


class Outcome(enum.StrEnum):
    CREDITED = "credited"
    AWAITING_PAYMENT = "awaiting_payment"
    NOT_PAID = "not_paid"
    PAYMENT_FAILED = "payment_failed"
    MISMATCH = "amount_mismatch"
    EXPIRED = "expired"
    CLAWED_BACK = "clawed_back"
    DISPUTE_WON = "dispute_won"
    DISPUTE_LOST = "dispute_lost"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


def proportional_credits(credits: int, part: int, whole: int) -> int:
    """Credits matching ``part`` of a payment of ``whole`` (rounded half up, never more than ``credits``)."""
    if whole <= 0:
        return 0
    return min(credits, (credits * part * 2 + whole) // (whole * 2))


def withdrawal_key(dispute_id: str) -> str:
    return f"dispute:{dispute_id}"


def reversal_key(dispute_id: str) -> str:
    return f"dispute-reversed:{dispute_id}"


async def payment_subject(uow_factory: UnitOfWorkFactory, event: ProcessorEvent) -> tuple[str, uuid.UUID]:
    """The payment intent an event is about and whose payment it is; ``EventNotReady`` until its completion is in.

    Nothing is recorded when the payment is missing, so the processor's redelivery is handled in full once it is.
    """
    if not event.payment_intent_id:
        raise InvalidEvent(f"{event.type} without a payment intent")
    async with uow_factory() as uow:
        payment = await uow.billing.get_payment_by_intent(event.payment_intent_id)
    if payment is None:
        raise EventNotReady("the payment this event refers to is not recorded yet")
    return event.payment_intent_id, payment.subject_id


class Clawbacks:
    """Handles refund and dispute events for :class:`~dreamina.domain.billing.events.PaymentEvents` (which
    dispatches them)."""

    def __init__(
        self, *, uow: UnitOfWorkFactory, clock: Clock, mark: Callable[[UnitOfWork, ProcessorEvent], Awaitable[bool]]
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._mark = mark

    async def handle(self, event: ProcessorEvent) -> Outcome:
        intent, subject_id = await payment_subject(self._uow, event)
        dispute_id = event.object_id

        async def attempt() -> Outcome:
            async with self._uow() as uow:
                await uow.billing.lock_wallet(subject_id, self._clock.now())
                if not await self._mark(uow, event):
                    return Outcome.DUPLICATE
                payment = await uow.billing.get_payment_by_intent(intent)
                assert payment is not None
                outcome = Outcome.CLAWED_BACK
                if event.type == REFUNDED:
                    await self._refund(uow, payment, event)
                    await uow.billing.update_payment(payment)
                    await uow.commit()
                    return outcome
                withdrawn = await self._withdraw(uow, payment, dispute_id, event.amount or 0)
                if event.type == DISPUTE_CLOSED and event.status in RETURNED:
                    await self._give_back(uow, payment, dispute_id, event.amount or 0, withdrawn)
                    outcome = Outcome.DISPUTE_WON
                elif event.type == DISPUTE_CLOSED:
                    outcome = Outcome.DISPUTE_LOST if event.status == "lost" else Outcome.IGNORED
                await uow.billing.update_payment(payment)
                await uow.commit()
                return outcome

        return await retry_on_conflict(attempt)

    async def _refund(self, uow: UnitOfWork, payment: PaymentRecord, event: ProcessorEvent) -> None:
        payment.record_refund(event.amount_refunded or 0)
        await self._take(uow, payment, EntryKind.REFUND_CLAWBACK, f"event:{event.id}", event.object_id, always=False)

    async def _take(
        self, uow: UnitOfWork, payment: PaymentRecord, kind: EntryKind, key: str, reference: str, *, always: bool
    ) -> int:
        """Claw back what the payment's refunds and disputes now owe beyond what was taken; returns the credits."""
        owed = proportional_credits(payment.credits, payment.amount_refunded + payment.amount_disputed, payment.amount)
        delta = max(0, owed - payment.credits_clawed_back)
        if delta > 0 or always:
            await uow.billing.add_entry(
                LedgerEntry(
                    id=uuid.uuid4(),
                    subject_id=payment.subject_id,
                    kind=kind,
                    amount=-delta,
                    idempotency_key=key,
                    reference=reference,
                    created_at=self._clock.now(),
                )
            )
            payment.claw_back(delta)
        return delta

    async def _withdraw(self, uow: UnitOfWork, payment: PaymentRecord, dispute_id: str, disputed: int) -> int:
        """The dispute's withdrawal, written once (even of 0 credits: it marks the dispute as counted); returns the
        credits it took."""
        existing = await uow.billing.get_entry(withdrawal_key(dispute_id))
        if existing is not None:
            return -existing.amount
        payment.record_dispute(disputed)
        return await self._take(
            uow, payment, EntryKind.DISPUTE_CLAWBACK, withdrawal_key(dispute_id), dispute_id, always=True
        )

    async def _give_back(
        self, uow: UnitOfWork, payment: PaymentRecord, dispute_id: str, disputed: int, withdrawn: int
    ) -> None:
        if await uow.billing.get_entry(reversal_key(dispute_id)) is not None:
            return
        await uow.billing.add_entry(
            LedgerEntry(
                id=uuid.uuid4(),
                subject_id=payment.subject_id,
                kind=EntryKind.DISPUTE_REVERSAL,
                amount=withdrawn,
                idempotency_key=reversal_key(dispute_id),
                reference=dispute_id,
                created_at=self._clock.now(),
            )
        )
        payment.reverse_dispute(disputed, withdrawn)
