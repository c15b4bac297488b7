"""In-memory fake of the billing repository, staged and committed like the other memory tables.

The wallet lock is optimistic here: the revision read when locking must still be the committed one at commit,
else the commit raises ``Conflict`` and the use case retries, which is what a blocked writer amounts to on SQL.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from uuid import UUID

from dreamina.adapters.memory.tables import (
    MemoryStores,
    Staging,
    Table,
    TableSpec,
    Unique,
    retention_batch,
    utc,
    utc_or_none,
)
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.ports.billing import (
    BillingCustomer,
    CheckoutRecord,
    CheckoutStatus,
    EntryKind,
    LedgerCursor,
    LedgerEntry,
    PaymentRecord,
)


class _WalletTable(Table[UUID, int]):
    """Wallet revisions; a lock remembers the committed revision it saw and re-checks it at commit."""

    def __init__(self, committed: dict[UUID, int]) -> None:
        super().__init__(committed)
        self._seen: dict[UUID, int | None] = {}

    def lock(self, key: UUID) -> None:
        if key not in self._seen:
            self._seen[key] = self._committed.get(key)
        self._staged[key] = (self.get(key) or 0) + 1

    def check_commit(self) -> None:
        for key, seen in self._seen.items():
            if self._committed.get(key) != seen:
                raise Conflict("another writer changed this wallet")
        super().check_commit()

    def discard(self) -> None:
        super().discard()
        self._seen.clear()


class InMemoryBillingRepository:
    def __init__(self, staging: Staging) -> None:
        wallets = staging.table("billing_wallets")
        assert isinstance(wallets, _WalletTable)
        self._wallets = wallets
        self._entries: Table[UUID, LedgerEntry] = staging.table("credit_ledger_entries")
        self._customers: Table[UUID, BillingCustomer] = staging.table("billing_customers")
        self._checkouts: Table[str, CheckoutRecord] = staging.table("checkout_sessions")
        self._payments: Table[UUID, PaymentRecord] = staging.table("payments")
        self._events: Table[str, tuple[str, datetime]] = staging.table("processed_payment_events")

    async def lock_wallet(self, subject_id: UUID, now: datetime) -> int:
        check_time("now", now)
        self._wallets.lock(subject_id)
        return await self.balance(subject_id)  # a fake's sum: the SQL wallets keep a running one

    async def add_entry(self, entry: LedgerEntry) -> None:
        check_text("idempotency_key", entry.idempotency_key)
        check_text("reference", entry.reference)
        check_time("created_at", entry.created_at)
        self._entries.insert(
            entry.id, dataclasses.replace(entry, kind=EntryKind(entry.kind), created_at=utc(entry.created_at))
        )

    async def get_entry(self, idempotency_key: str) -> LedgerEntry | None:
        check_text("idempotency_key", idempotency_key)
        return next((e for _, e in self._entries.rows() if e.idempotency_key == idempotency_key), None)

    async def balance(self, subject_id: UUID) -> int:
        return sum(e.amount for _, e in self._entries.rows() if e.subject_id == subject_id)

    async def count_entries(self, subject_id: UUID) -> int:
        return sum(1 for _, e in self._entries.rows() if e.subject_id == subject_id)

    async def has_wallet(self, subject_id: UUID) -> bool:
        return self._wallets.get(subject_id) is not None

    async def list_entries(self, subject_id: UUID, after: LedgerCursor | None, limit: int) -> list[LedgerEntry]:
        entries = [e for _, e in self._entries.rows() if e.subject_id == subject_id]
        if after is not None:
            check_time("cursor", after.created_at)
            position = (utc(after.created_at), after.entry_id.bytes)
            entries = [e for e in entries if (e.created_at, e.id.bytes) < position]
        entries.sort(key=lambda e: (e.created_at, e.id.bytes), reverse=True)
        return entries[:limit]

    async def get_customer(self, subject_id: UUID) -> BillingCustomer | None:
        return self._customers.get(subject_id)

    async def add_customer(self, customer: BillingCustomer) -> None:
        check_text("processor", customer.processor)
        check_text("customer_id", customer.customer_id)
        check_time("created_at", customer.created_at)
        self._customers.insert(customer.subject_id, dataclasses.replace(customer, created_at=utc(customer.created_at)))

    async def delete_customer(self, subject_id: UUID) -> bool:
        return self._customers.delete(subject_id)

    async def add_checkout(self, checkout: CheckoutRecord) -> None:
        for name in ("session_id", "pack_id", "currency"):
            check_text(name, getattr(checkout, name))
        check_time("created_at", checkout.created_at)
        check_time("updated_at", checkout.updated_at)
        self._checkouts.insert(checkout.session_id, _stored_checkout(checkout))

    async def get_checkout(self, session_id: str) -> CheckoutRecord | None:
        check_text("session_id", session_id)
        found = self._checkouts.get(session_id)
        return None if found is None else dataclasses.replace(found)

    async def update_checkout(self, checkout: CheckoutRecord) -> None:
        check_time("updated_at", checkout.updated_at)
        found = self._checkouts.get(checkout.session_id)
        if found is None:
            raise NotFound("checkout not found")
        self._checkouts.replace(
            checkout.session_id,
            dataclasses.replace(found, status=CheckoutStatus(checkout.status), updated_at=utc(checkout.updated_at)),
        )

    async def add_payment(self, payment: PaymentRecord) -> None:
        self._payments.insert(payment.id, _stored_payment(payment))

    async def get_payment_by_intent(self, payment_intent_id: str) -> PaymentRecord | None:
        check_text("payment_intent_id", payment_intent_id)
        found = next((p for _, p in self._payments.rows() if p.payment_intent_id == payment_intent_id), None)
        return None if found is None else dataclasses.replace(found)

    async def update_payment(self, payment: PaymentRecord) -> None:
        if self._payments.get(payment.id) is None:
            raise NotFound("payment not found")
        self._payments.replace(payment.id, _stored_payment(payment))

    async def list_payments(self, subject_id: UUID) -> list[PaymentRecord]:
        found = [dataclasses.replace(p) for _, p in self._payments.rows() if p.subject_id == subject_id]
        return sorted(found, key=lambda p: (p.paid_at, p.id.bytes))

    async def record_event(self, event_id: str, event_type: str, received_at: datetime) -> None:
        check_text("event_id", event_id)
        check_text("type", event_type)
        check_time("received_at", received_at)
        self._events.insert(event_id, (event_type, utc(received_at)))

    async def event_handled(self, event_id: str) -> bool:
        check_text("event_id", event_id)
        return self._events.get(event_id) is not None

    async def pseudonymise_subject(self, subject_id: UUID, tombstone: UUID, now: datetime) -> int:
        check_time("now", now)
        count = 0
        for key, entry in list(self._entries.rows()):
            if entry.subject_id == subject_id:
                rekeyed = entry.idempotency_key.replace(str(subject_id), str(tombstone))
                self._entries.replace(key, dataclasses.replace(entry, subject_id=tombstone, idempotency_key=rekeyed))
                count += 1
        for session_id, checkout in list(self._checkouts.rows()):
            if checkout.subject_id == subject_id:
                self._checkouts.replace(session_id, dataclasses.replace(checkout, subject_id=tombstone))
                count += 1
        for payment_id, payment in list(self._payments.rows()):
            if payment.subject_id == subject_id:
                self._payments.replace(
                    payment_id,
                    dataclasses.replace(payment, subject_id=tombstone, customer_id=None, pseudonymised_at=utc(now)),
                )
                count += 1
        self._wallets.delete(subject_id)
        return count

    async def delete_payments_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        doomed = [key for key, p in self._payments.rows() if p.retain_until < cutoff][:limit]
        for key in doomed:
            self._payments.delete(key)
        return len(doomed)

    async def delete_events_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        doomed = [key for key, (_, at) in self._events.rows() if at < cutoff][:limit]
        for key in doomed:
            self._events.delete(key)
        return len(doomed)

    async def delete_checkouts_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        due = retention_batch(
            self._checkouts.rows(), lambda r: r[1].created_at < cutoff, lambda r: r[1].created_at, limit
        )
        for key, _ in due:
            self._checkouts.delete(key)
        return len(due)

    async def count_checkouts_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        return sum(1 for _, c in self._checkouts.rows() if c.created_at < cutoff)

    async def count_payments_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        return sum(1 for _, p in self._payments.rows() if p.retain_until < cutoff)

    async def count_events_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        return sum(1 for _, (_, at) in self._events.rows() if at < cutoff)

    async def prepare_event_periods(self, now: datetime) -> None:
        check_time("now", now)  # one table, no periods: everything goes by batches

    async def drop_event_periods_before(self, cutoff: datetime) -> int | None:
        check_time("cutoff", cutoff)
        return None


def _stored_checkout(checkout: CheckoutRecord) -> CheckoutRecord:
    return dataclasses.replace(
        checkout,
        status=CheckoutStatus(checkout.status),
        created_at=utc(checkout.created_at),
        updated_at=utc(checkout.updated_at),
    )


def _stored_payment(payment: PaymentRecord) -> PaymentRecord:
    for name in ("checkout_session_id", "payment_intent_id", "customer_id", "pack_id", "currency"):
        check_text(name, getattr(payment, name))
    check_text("card_brand", payment.card_brand)
    check_text("card_last4", payment.card_last4)
    for name in ("paid_at", "retain_until", "pseudonymised_at"):
        check_time(name, getattr(payment, name))
    return dataclasses.replace(
        payment,
        paid_at=utc(payment.paid_at),
        retain_until=utc(payment.retain_until),
        pseudonymised_at=utc_or_none(payment.pseudonymised_at),
    )


STORES = MemoryStores(
    tables=(
        TableSpec("billing_wallets", kind=_WalletTable),
        TableSpec(
            "credit_ledger_entries",
            (Unique(lambda e: e.idempotency_key, "this ledger entry is already recorded"),),
            "this ledger entry is already recorded",
        ),
        TableSpec(
            "billing_customers",
            (Unique(lambda c: c.customer_id, "the subject already has a customer at the processor"),),
            "the subject already has a customer at the processor",
        ),
        TableSpec("checkout_sessions", duplicate_key="this checkout session is already recorded"),
        TableSpec(
            "payments",
            (
                Unique(lambda p: p.checkout_session_id, "this payment is already recorded"),
                Unique(lambda p: p.payment_intent_id, "this payment is already recorded"),
            ),
            "this payment is already recorded",
        ),
        TableSpec("processed_payment_events", duplicate_key="this event was already handled"),
    ),
    repositories={"billing": InMemoryBillingRepository},
)
