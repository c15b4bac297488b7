"""Payment records the law makes us keep (a declared legal hold): refunds, retention, and erasure by
pseudonymisation. The data-rights module calls :meth:`BillingRecords.pseudonymise_subject` on erasure.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from dreamina.domain.billing.errors import PaymentProcessorUnavailable
from dreamina.domain.privacy.errors import NotFound
from dreamina.domain.privacy.retries import retry_on_conflict
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.billing import PaymentRecord
from dreamina.ports.clock import Clock
from dreamina.ports.payments import PaymentProcessor
from dreamina.ports.unit_of_work import UnitOfWorkFactory

HANDLED_EVENT_RETENTION = timedelta(days=90)  # longer than the processor's redelivery window (3 days)


@dataclass(frozen=True, slots=True)
class BillingErasure:
    tombstone: UUID  # the random id that now stands where the subject's id stood
    records_pseudonymised: int
    processor_customer_deleted: bool | None  # None: the subject had no customer at the processor


class BillingRecords:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock, processor: PaymentProcessor) -> None:
        self._uow = uow
        self._clock = clock
        self._processor = processor

    async def payments(self, subject_id: UUID) -> list[PaymentRecord]:
        """The subject's payment records (for access and export requests)."""
        async with self._uow() as uow:
            return await uow.billing.list_payments(subject_id)

    async def refund(self, payment_intent_id: str, amount: int | None = None) -> str:
        """Ask the processor to refund (all, or ``amount`` minor units); its ``charge.refunded`` event then claws
        the credits back. Returns the processor's refund id."""
        async with self._uow() as uow:
            payment = await uow.billing.get_payment_by_intent(payment_intent_id)
        if payment is None:
            raise NotFound("no payment has this id")
        key = f"refund-{payment_intent_id}-{amount if amount is not None else 'full'}"
        return await self._processor.refund(payment_intent_id, amount, key)

    async def pseudonymise_subject(self, subject_id: UUID) -> BillingErasure:
        """Erasure: delete the subject's customer at the processor (outcome audited), then replace the link to
        the person in every billing record by a random tombstone. Records stay (legal hold), sums stay exact.

        If the processor cannot be reached, nothing is pseudonymised and ``PaymentProcessorUnavailable`` is
        raised, so the caller's retry finds the customer again.
        """
        async with self._uow() as uow:
            customer = await uow.billing.get_customer(subject_id)
        deleted: bool | None = None
        if customer is not None:
            try:
                deleted = await self._processor.delete_customer(customer.customer_id)
            except PaymentProcessorUnavailable:
                await self._audit(subject_id, f"{customer.processor}: customer deletion failed; will be retried")
                raise
        tombstone = uuid.uuid4()

        async def attempt() -> int:
            async with self._uow() as uow:
                now = self._clock.now()
                await uow.billing.lock_wallet(subject_id, now)
                await uow.billing.delete_customer(subject_id)
                count = await uow.billing.pseudonymise_subject(subject_id, tombstone, now)
                if customer is not None:
                    await uow.audit.append(
                        AuditEvent(
                            id=uuid.uuid4(),
                            subject_id=subject_id,
                            actor_kind=ActorKind.SYSTEM,
                            actor_id=None,
                            action="processor_deletion",
                            fields=("customer",),
                            reason=f"{customer.processor}: customer {'deleted' if deleted else 'already gone'}",
                            occurred_at=now,
                        )
                    )
                await uow.commit()
                return count

        count = await retry_on_conflict(attempt)
        return BillingErasure(tombstone=tombstone, records_pseudonymised=count, processor_customer_deleted=deleted)

    async def _audit(self, subject_id: UUID, reason: str) -> None:
        async with self._uow() as uow:
            await uow.audit.append(
                AuditEvent(
                    id=uuid.uuid4(),
                    subject_id=subject_id,
                    actor_kind=ActorKind.SYSTEM,
                    actor_id=None,
                    action="processor_deletion",
                    fields=("customer",),
                    reason=reason,
                    occurred_at=self._clock.now(),
                )
            )
            await uow.commit()
