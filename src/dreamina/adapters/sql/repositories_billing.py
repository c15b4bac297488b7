"""The billing repository over SQL (SQLite and PostgreSQL), same conventions as ``repositories.py``.

``lock_wallet`` is an ``UPDATE`` of the subject's wallet row: PostgreSQL holds that row lock until the
transaction ends, and SQLite takes its single write lock at the first write, so on both backends a second
writer for the same subject waits instead of reading a balance that is about to change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, text, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql import partitions
from dreamina.adapters.sql.models_billing import (
    BillingCustomerRow,
    BillingWalletRow,
    CheckoutSessionRow,
    CreditLedgerEntryRow,
    PaymentRow,
    ProcessedPaymentEventRow,
)
from dreamina.adapters.sql.partitions import HANDLED_PAYMENT_EVENTS, is_postgres
from dreamina.adapters.sql.repository_kit import (
    DriverRead,
    SqlRepositories,
    SqlRepository,
    insert_into,
    retention_batch,
)
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


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        subject_id=row.subject_id,
        kind=EntryKind(row.kind),
        amount=row.amount,
        idempotency_key=row.idempotency_key,
        reference=row.reference,
        created_at=row.created_at,
    )


def _checkout(row: Any) -> CheckoutRecord:
    return CheckoutRecord(
        session_id=row.session_id,
        subject_id=row.subject_id,
        pack_id=row.pack_id,
        credits=row.credits,
        amount=row.amount,
        currency=row.currency,
        status=CheckoutStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_PAYMENT_FIELDS = (
    "id",
    "subject_id",
    "checkout_session_id",
    "payment_intent_id",
    "customer_id",
    "pack_id",
    "credits",
    "amount",
    "currency",
    "card_brand",
    "card_last4",
    "card_exp_month",
    "card_exp_year",
    "amount_refunded",
    "amount_disputed",
    "credits_clawed_back",
    "paid_at",
    "retain_until",
    "pseudonymised_at",
)


def _payment(row: Any) -> PaymentRecord:
    return PaymentRecord(**{name: getattr(row, name) for name in _PAYMENT_FIELDS})


def _payment_values(payment: PaymentRecord) -> dict[str, Any]:
    for name in ("checkout_session_id", "payment_intent_id", "customer_id", "pack_id", "currency"):
        check_text(name, getattr(payment, name))
    check_text("card_brand", payment.card_brand)
    check_text("card_last4", payment.card_last4)
    for name in ("paid_at", "retain_until", "pseudonymised_at"):
        check_time(name, getattr(payment, name))
    return {name: getattr(payment, name) for name in _PAYMENT_FIELDS}


_LEDGER = cast(Table, CreditLedgerEntryRow.__table__)
_WALLETS = cast(Table, BillingWalletRow.__table__)


def _ledger_sum(subject: Any) -> Any:
    """The sum of a subject's entries, read where no wallet keeps it yet: a wallet's first lock since migration 0025,
    and a subject without a wallet (entries written without a lock; a tombstone's pseudonymised ledger)."""
    total = select(func.coalesce(func.sum(_LEDGER.c.amount), 0)).where(_LEDGER.c.subject_id == subject)
    return total.scalar_subquery()


class SqlBillingRepository(SqlRepository):
    """:class:`~dreamina.ports.billing.BillingRepository` over the billing tables.

    The wallet row keeps the running sum of its subject's entries: a trigger adds each inserted entry's amount to it
    in the entry's own statement (migration 0025), so the balance is one row however long the history (it was a sum
    over the whole ledger, two entries a generation: ``bench/ledger.py``). A wallet whose balance is NULL has not been
    counted yet (migration 0025 leaves them so): its first lock counts the ledger once, and until then its entries
    leave it NULL.
    """

    _ledger = _LEDGER
    # every submission reads its reservation's entry
    _entry_by_key = DriverRead(select(_ledger).where(_ledger.c.idempotency_key == bindparam("idempotency_key")))
    _balance_of = DriverRead(
        select(
            func.coalesce(
                select(_WALLETS.c.balance).where(_WALLETS.c.subject_id == bindparam("subject_id")).scalar_subquery(),
                _ledger_sum(bindparam("subject_id")),
            ).label("total")
        )
    )
    # on the table, not the mapped class: every submission bumps it, and an ORM bulk UPDATE costs 5-10% of a
    # submission's CPU in SQLAlchemy's ORM layer (no instances are kept to synchronise)
    _bump_wallet = (
        update(_WALLETS)
        .where(_WALLETS.c.subject_id == bindparam("wallet_subject"))
        .values(
            revision=_WALLETS.c.revision + 1,
            updated_at=bindparam("wallet_now"),
            balance=func.coalesce(_WALLETS.c.balance, _ledger_sum(_WALLETS.c.subject_id)),
        )
        .returning(_WALLETS.c.balance)
    )
    # -- ledger ---------------------------------------------------------------------------------------------------

    async def lock_wallet(self, subject_id: UUID, now: datetime) -> int:
        check_time("now", now)
        params = {"wallet_subject": subject_id, "wallet_now": now}
        held = (await self._session.execute(self._bump_wallet, params)).first()
        if held is not None:
            return int(held.balance)
        await self._write(
            insert_into(BillingWalletRow).values(
                subject_id=subject_id, revision=1, updated_at=now, balance=_ledger_sum(subject_id)
            ),
            conflict="the wallet was created concurrently",
        )
        return await self.balance(subject_id)

    async def add_entry(self, entry: LedgerEntry) -> None:
        check_text("idempotency_key", entry.idempotency_key)
        check_text("reference", entry.reference)
        check_time("created_at", entry.created_at)
        values = {
            "id": entry.id,
            "subject_id": entry.subject_id,
            "kind": EntryKind(entry.kind).value,
            "amount": entry.amount,
            "idempotency_key": entry.idempotency_key,
            "reference": entry.reference,
            "created_at": entry.created_at,
        }
        # the database adds the amount to the subject's wallet (a trigger: migration 0025)
        await self._append(CreditLedgerEntryRow, values, conflict="this ledger entry is already recorded")

    async def get_entry(self, idempotency_key: str) -> LedgerEntry | None:
        check_text("idempotency_key", idempotency_key)
        row = await self._entry_by_key.first(self._session, {"idempotency_key": idempotency_key})
        return None if row is None else _entry(row)

    async def balance(self, subject_id: UUID) -> int:
        row = await self._balance_of.first(self._session, {"subject_id": subject_id})
        return int(row.total or 0) if row is not None else 0

    async def count_entries(self, subject_id: UUID) -> int:
        return await self._count(self._ledger, self._ledger.c.subject_id == subject_id)

    async def has_wallet(self, subject_id: UUID) -> bool:
        return await self._count(_WALLETS, _WALLETS.c.subject_id == subject_id) > 0

    async def list_entries(self, subject_id: UUID, after: LedgerCursor | None, limit: int) -> list[LedgerEntry]:
        statement = select(CreditLedgerEntryRow.__table__).where(CreditLedgerEntryRow.subject_id == subject_id)
        if after is not None:
            check_time("cursor", after.created_at)
            statement = statement.where(
                or_(
                    CreditLedgerEntryRow.created_at < after.created_at,
                    and_(
                        CreditLedgerEntryRow.created_at == after.created_at,
                        CreditLedgerEntryRow.id < after.entry_id,
                    ),
                )
            )
        statement = statement.order_by(CreditLedgerEntryRow.created_at.desc(), CreditLedgerEntryRow.id.desc())
        return [_entry(row) for row in await self._session.execute(statement.limit(limit))]

    # -- customers ------------------------------------------------------------------------------------------------

    async def get_customer(self, subject_id: UUID) -> BillingCustomer | None:
        row = (
            await self._session.execute(
                select(BillingCustomerRow.__table__).where(BillingCustomerRow.subject_id == subject_id)
            )
        ).first()
        if row is None:
            return None
        return BillingCustomer(
            subject_id=row.subject_id, processor=row.processor, customer_id=row.customer_id, created_at=row.created_at
        )

    async def add_customer(self, customer: BillingCustomer) -> None:
        check_text("processor", customer.processor)
        check_text("customer_id", customer.customer_id)
        check_time("created_at", customer.created_at)
        await self._write(
            insert_into(BillingCustomerRow).values(
                subject_id=customer.subject_id,
                processor=customer.processor,
                customer_id=customer.customer_id,
                created_at=customer.created_at,
            ),
            conflict="the subject already has a customer at the processor",
        )

    async def delete_customer(self, subject_id: UUID) -> bool:
        return (
            await self._execute_count(delete(BillingCustomerRow).where(BillingCustomerRow.subject_id == subject_id)) > 0
        )

    # -- checkouts and payments -----------------------------------------------------------------------------------

    async def add_checkout(self, checkout: CheckoutRecord) -> None:
        for name in ("session_id", "pack_id", "currency"):
            check_text(name, getattr(checkout, name))
        check_time("created_at", checkout.created_at)
        check_time("updated_at", checkout.updated_at)
        await self._write(
            insert_into(CheckoutSessionRow).values(
                session_id=checkout.session_id,
                subject_id=checkout.subject_id,
                pack_id=checkout.pack_id,
                credits=checkout.credits,
                amount=checkout.amount,
                currency=checkout.currency,
                status=CheckoutStatus(checkout.status).value,
                created_at=checkout.created_at,
                updated_at=checkout.updated_at,
            ),
            conflict="this checkout session is already recorded",
        )

    async def get_checkout(self, session_id: str) -> CheckoutRecord | None:
        check_text("session_id", session_id)
        row = (
            await self._session.execute(
                select(CheckoutSessionRow.__table__).where(CheckoutSessionRow.session_id == session_id)
            )
        ).first()
        return None if row is None else _checkout(row)

    async def update_checkout(self, checkout: CheckoutRecord) -> None:
        check_time("updated_at", checkout.updated_at)
        changed = await self._write(
            update(CheckoutSessionRow)
            .where(CheckoutSessionRow.session_id == checkout.session_id)
            .values(status=CheckoutStatus(checkout.status).value, updated_at=checkout.updated_at),
            conflict="the checkout could not be updated",
        )
        if changed == 0:
            raise NotFound("checkout not found")

    async def add_payment(self, payment: PaymentRecord) -> None:
        await self._write(
            insert_into(PaymentRow).values(**_payment_values(payment)), conflict="this payment is already recorded"
        )

    async def get_payment_by_intent(self, payment_intent_id: str) -> PaymentRecord | None:
        check_text("payment_intent_id", payment_intent_id)
        row = (
            await self._session.execute(
                select(PaymentRow.__table__).where(PaymentRow.payment_intent_id == payment_intent_id)
            )
        ).first()
        return None if row is None else _payment(row)

    async def update_payment(self, payment: PaymentRecord) -> None:
        values = _payment_values(payment)
        values.pop("id")
        changed = await self._write(
            update(PaymentRow).where(PaymentRow.id == payment.id).values(**values),
            conflict="the payment could not be updated",
        )
        if changed == 0:
            raise NotFound("payment not found")

    async def list_payments(self, subject_id: UUID) -> list[PaymentRecord]:
        statement = (
            select(PaymentRow.__table__)
            .where(PaymentRow.subject_id == subject_id)
            .order_by(PaymentRow.paid_at, PaymentRow.id)
        )
        return [_payment(row) for row in await self._session.execute(statement)]

    # -- events ---------------------------------------------------------------------------------------------------

    async def record_event(self, event_id: str, event_type: str, received_at: datetime) -> None:
        check_text("event_id", event_id)
        check_text("type", event_type)
        check_time("received_at", received_at)
        if is_postgres(self._session):
            # Partitioned by received_at, the primary key is (event_id, received_at) and no longer allows one row
            # per event id only. A lock on the id, held to the end of the transaction, stands in for that: a second
            # mark of the same event waits for the first transaction, then (each statement reads what is committed)
            # sees its row, as a unique index would have made it wait and fail.
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"processed_payment_events:{event_id}"},
            )
            if await self.event_handled(event_id):
                raise Conflict("this event was already handled")
        await self._write(
            insert_into(ProcessedPaymentEventRow).values(event_id=event_id, type=event_type, received_at=received_at),
            conflict="this event was already handled",
        )

    async def event_handled(self, event_id: str) -> bool:
        check_text("event_id", event_id)
        found = await self._session.scalar(
            select(ProcessedPaymentEventRow.event_id).where(ProcessedPaymentEventRow.event_id == event_id)
        )
        return found is not None

    # -- erasure and retention ------------------------------------------------------------------------------------

    async def pseudonymise_subject(self, subject_id: UUID, tombstone: UUID, now: datetime) -> int:
        check_time("now", now)
        count = await self._execute_count(
            update(CreditLedgerEntryRow)
            .where(CreditLedgerEntryRow.subject_id == subject_id)
            .values(
                subject_id=tombstone,
                # keys that embed the subject id ("welcome:<id>") would tie the tombstone back to the person
                idempotency_key=func.replace(CreditLedgerEntryRow.idempotency_key, str(subject_id), str(tombstone)),
            )
        )
        count += await self._execute_count(
            update(CheckoutSessionRow).where(CheckoutSessionRow.subject_id == subject_id).values(subject_id=tombstone)
        )
        count += await self._execute_count(
            update(PaymentRow)
            .where(PaymentRow.subject_id == subject_id)
            .values(subject_id=tombstone, customer_id=None, pseudonymised_at=now)
        )
        await self._execute_count(delete(BillingWalletRow).where(BillingWalletRow.subject_id == subject_id))
        return count

    async def delete_payments_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        oldest = select(PaymentRow.id).where(PaymentRow.retain_until < cutoff).order_by(PaymentRow.retain_until)
        doomed = retention_batch(oldest, limit).scalar_subquery()
        return await self._execute_count(delete(PaymentRow).where(PaymentRow.id.in_(doomed)))

    async def delete_events_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        if is_postgres(self._session):  # partitioned by month: whole months are dropped, the rest goes here
            return await partitions.delete_oldest(self._session, HANDLED_PAYMENT_EVENTS, cutoff, limit)
        oldest = select(ProcessedPaymentEventRow.event_id).where(ProcessedPaymentEventRow.received_at < cutoff)
        doomed = retention_batch(oldest, limit).scalar_subquery()
        return await self._execute_count(
            delete(ProcessedPaymentEventRow).where(ProcessedPaymentEventRow.event_id.in_(doomed))
        )

    async def delete_checkouts_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        oldest = (
            select(CheckoutSessionRow.session_id)
            .where(CheckoutSessionRow.created_at < cutoff)
            .order_by(CheckoutSessionRow.created_at)
        )
        doomed = retention_batch(oldest, limit).scalar_subquery()
        return await self._execute_count(delete(CheckoutSessionRow).where(CheckoutSessionRow.session_id.in_(doomed)))

    async def count_checkouts_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        statement = select(func.count()).select_from(CheckoutSessionRow).where(CheckoutSessionRow.created_at < cutoff)
        return int((await self._session.execute(statement)).scalar_one())

    async def count_payments_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        statement = select(func.count()).select_from(PaymentRow).where(PaymentRow.retain_until < cutoff)
        return int((await self._session.execute(statement)).scalar_one())

    async def count_events_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        statement = (
            select(func.count())
            .select_from(ProcessedPaymentEventRow)
            .where(ProcessedPaymentEventRow.received_at < cutoff)
        )
        return int((await self._session.execute(statement)).scalar_one())

    async def prepare_event_periods(self, now: datetime) -> None:
        check_time("now", now)
        if is_postgres(self._session):
            await partitions.prepare(self._session, HANDLED_PAYMENT_EVENTS, now.date())

    async def drop_event_periods_before(self, cutoff: datetime) -> int | None:
        check_time("cutoff", cutoff)
        if not is_postgres(self._session):
            return None  # SQLite: one plain table, everything goes by batches
        return await partitions.drop_expired(self._session, HANDLED_PAYMENT_EVENTS, cutoff)


REPOSITORIES: SqlRepositories = {
    "billing": SqlBillingRepository,
}
"""The billing module's stores, by their name in the unit of work."""
