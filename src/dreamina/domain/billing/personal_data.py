"""The billing module's holder of personal data: credit ledger, checkouts, payments (a legal hold), customers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from dreamina.domain.billing.records import BillingRecords
from dreamina.domain.privacy.paging import paged
from dreamina.ports.billing import LedgerCursor, LedgerEntry
from dreamina.ports.data_rights import Coverage, ErasureOutcome, ErasureStage, ExportSink, ProcessorReference
from dreamina.ports.unit_of_work import UnitOfWorkFactory

PAGE = 500


class BillingPersonalData:
    """:class:`~dreamina.ports.data_rights.PersonalDataHolder` for the billing stores.

    Erasure goes through :meth:`BillingRecords.pseudonymise_subject`: the customer is deleted at the processor
    (outcome audited; a failure raises, so the saga retries), then ledger entries, checkouts and payments keep
    their amounts for the accounts but point at a random tombstone instead of the person.
    """

    name = "billing"
    stage = ErasureStage.MODULE_RECORDS
    coverage: tuple[Coverage, ...] = (
        Coverage(
            "store",
            "billing_wallets",
            "not exported: a lock row and the running sum of credit_ledger.json's entries (your balance)",
            "deleted",
        ),
        Coverage(
            "store",
            "credit_ledger_entries",
            "credit_ledger.json",
            "pseudonymised legal hold: the subject becomes a random tombstone",
            pseudonymised_legal_hold=True,
        ),
        Coverage(
            "store", "billing_customers", "payments.json (the processor's customer id)", "deleted, also at Stripe"
        ),
        Coverage(
            "store",
            "checkout_sessions",
            "payments.json (each completed checkout is a payment)",
            "pseudonymised legal hold: the subject becomes a random tombstone",
            pseudonymised_legal_hold=True,
        ),
        Coverage(
            "store",
            "payments",
            "payments.json",
            "pseudonymised legal hold: the subject becomes a random tombstone, the customer id is dropped",
            pseudonymised_legal_hold=True,
        ),
        Coverage(
            "store",
            "sandbox_checkout_sessions",
            "not exported: the sandbox's test purchases; each paid one is in payments.json",
            "untouched: names nobody (the link is our checkout session, pseudonymised); deleted after 90 days",
        ),
        Coverage(
            "store",
            "processed_payment_events",
            "not exported: event ids only, they name nobody",
            "untouched: names nobody; forgotten after 90 days",
        ),
    )

    def __init__(self, *, uow: UnitOfWorkFactory, records: BillingRecords) -> None:
        self._uow = uow
        self._records = records

    async def count(self, subject_id: UUID) -> dict[str, int]:
        async with self._uow() as uow:
            return {
                "credit_ledger_entries": await uow.billing.count_entries(subject_id),
                "billing_wallets": int(await uow.billing.has_wallet(subject_id)),
                "payments": len(await uow.billing.list_payments(subject_id)),
                "billing_customers": int(await uow.billing.get_customer(subject_id) is not None),
            }

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        async with self._uow() as uow:
            customer = await uow.billing.get_customer(subject_id)
            payments = [
                {
                    "pack": p.pack_id,
                    "credits": p.credits,
                    "amount": p.amount,
                    "currency": p.currency,
                    "card_brand": p.card_brand,
                    "card_last4": p.card_last4,
                    "checkout_session": p.checkout_session_id,
                    "payment_intent": p.payment_intent_id,
                    "customer": None if customer is None else customer.customer_id,
                }
                for p in await uow.billing.list_payments(subject_id)
            ]
        # streamed a page at a time: memory does not grow with the subject's history (bench/history.py)
        await sink.write_records(
            "credit_ledger", "every credit added to or taken from your balance", self._ledger(subject_id)
        )
        await sink.write_records("payments", "your payments (card brand and last 4 digits only)", payments)

    async def _ledger(self, subject_id: UUID) -> AsyncIterator[dict[str, Any]]:
        async def fetch(after: LedgerCursor | None) -> list[LedgerEntry]:
            async with self._uow() as uow:
                return await uow.billing.list_entries(subject_id, after, PAGE)

        async for e in paged(fetch, PAGE, lambda e: LedgerCursor(created_at=e.created_at, entry_id=e.id)):
            yield {
                "kind": e.kind.value,
                "amount": e.amount,
                "reference": e.reference,
                "created_at": e.created_at.isoformat(),
            }

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        erased = await self._records.pseudonymise_subject(subject_id)
        return ErasureOutcome(
            self.name, deleted=int(bool(erased.processor_customer_deleted)), pseudonymised=erased.records_pseudonymised
        )

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        return []  # the Stripe customer is deleted by erase() itself, before the records lose their link
