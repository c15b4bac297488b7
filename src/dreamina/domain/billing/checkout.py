"""Buying credits: a hosted checkout at the payment processor for one pack of the catalogue."""

from __future__ import annotations

import secrets
import uuid
from uuid import UUID

from dreamina.domain.billing.catalogue import Catalogue, Pack
from dreamina.domain.privacy.errors import NotFound, ProcessingRestricted
from dreamina.domain.privacy.idempotency import KeptAnswer
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.retries import retry_on_conflict
from dreamina.domain.privacy.standing import refuse_during_age_review
from dreamina.domain.privacy.vocabulary import DataCategory, Purpose
from dreamina.ports.billing import BillingCustomer, CheckoutRecord, CheckoutStatus
from dreamina.ports.clock import Clock
from dreamina.ports.disclosures import Disclosure
from dreamina.ports.payments import CheckoutRequest, HostedCheckout, PaymentProcessor
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class Checkout:
    """Starts hosted checkouts. Card details are typed only on the processor's page, never sent to us."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        processor: PaymentProcessor,
        catalogue: Catalogue,
        keyrings: Keyrings,
        success_url: str,
        cancel_url: str,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._processor = processor
        self._catalogue = catalogue
        self._keyrings = keyrings
        self._success_url = success_url
        self._cancel_url = cancel_url

    def packs(self) -> list[Pack]:
        return self._catalogue.packs()

    async def start(
        self, subject_id: UUID, pack_id: str, *, answer: KeptAnswer[HostedCheckout] | None = None
    ) -> HostedCheckout:
        """Open a checkout for ``pack_id``; the subject pays on the returned URL. ``answer``: the request carried an
        Idempotency-Key; its answer is kept with the checkout record (``AnsweredBefore`` if it has one: a session a
        racing twin opened at the processor is then never recorded, and expires unpaid)."""
        pack = self._catalogue.get(pack_id)
        async with self._uow() as uow:  # G4: the email would be disclosed to the processor
            if answer is not None:
                await answer.before(uow)
            await refuse_during_age_review(uow.accounts, subject_id)
            if await uow.restrictions.is_restricted(subject_id):
                raise ProcessingRestricted("processing of your data is restricted; lift the restriction to pay")
        customer_id = await self._customer(subject_id)
        hosted = await self._processor.create_checkout(
            CheckoutRequest(
                customer_id=customer_id,
                pack_id=pack.id,
                description=f"{pack.name}: {pack.credits} Dreamina credits",
                amount=pack.amount,
                currency=pack.currency,
                success_url=self._success_url,
                cancel_url=self._cancel_url,
                # Letters mixed in: an event field holding a long digit run is refused as a possible card number.
                reference="chk_" + secrets.token_urlsafe(18),
            )
        )
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.billing.add_checkout(
                CheckoutRecord(
                    session_id=hosted.session_id,
                    subject_id=subject_id,
                    pack_id=pack.id,
                    credits=pack.credits,
                    amount=pack.amount,
                    currency=pack.currency,
                    status=CheckoutStatus.OPEN,
                    created_at=now,
                    updated_at=now,
                )
            )
            if answer is not None:
                await answer.record(uow, hosted)
            await uow.commit()
        return hosted

    async def _customer(self, subject_id: UUID) -> str:
        """The subject's customer at the processor, created on first purchase (the email hand-off is a disclosure)."""
        async with self._uow() as uow:
            known = await uow.billing.get_customer(subject_id)
            if known is not None:
                return known.customer_id
            email: str | None = None
            if self._processor.processor is not None:
                account = await uow.accounts.get(subject_id)
                if account is None:
                    raise NotFound("account not found")
                keyring = self._keyrings(uow.subject_keys)
                email = await keyring.open(subject_id, "email", account.email_ciphertext)
        customer_id = await self._processor.create_customer(str(subject_id), email)

        async def remember() -> str:
            async with self._uow() as uow:
                await uow.billing.lock_wallet(subject_id, self._clock.now())  # write first: one writer at a time
                known = await uow.billing.get_customer(subject_id)
                if known is not None:  # a concurrent checkout stored it first (same idempotency key: same customer)
                    return known.customer_id
                now = self._clock.now()
                await uow.billing.add_customer(
                    BillingCustomer(
                        subject_id=subject_id,
                        processor=self._processor.processor or "sandbox",
                        customer_id=customer_id,
                        created_at=now,
                    )
                )
                if self._processor.processor is not None and email is not None:
                    await uow.disclosures.record(
                        Disclosure(
                            id=uuid.uuid4(),
                            subject_id=subject_id,
                            processor=self._processor.processor,
                            categories=(DataCategory.ACCOUNT.value,),
                            purpose=Purpose.PAYMENTS.value,
                            reference=customer_id,
                            occurred_at=now,
                        )
                    )
                await uow.commit()
                return customer_id

        return await retry_on_conflict(remember)
