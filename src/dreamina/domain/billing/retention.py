"""Billing's retention rules: payment records leave after their legal period; handled-event marks after 90 days."""

from __future__ import annotations

from datetime import datetime, timedelta

from dreamina.domain.billing.data_map import SANDBOX_SESSION_DAYS
from dreamina.domain.billing.records import HANDLED_EVENT_RETENTION
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class ExpiredPaymentRecords:
    """Deletes payment records whose legal hold has run out (``payments.retain_until``, set when they were made)."""

    name = "payments.legal_period_over"
    category = DataCategory.PAYMENT
    description = (
        "payment records are deleted when their legal retention period (DREAMINA_BILLING_RECORD_RETENTION_DAYS) ends"
    )

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.billing.count_payments_before(now)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.billing.delete_payments_before(now, limit)
            await uow.commit()
        return deleted


class ForgottenPaymentEvents:
    """Forgets which processor events were handled once redelivery is long impossible (``processed_payment_events``)."""

    name = "processed_payment_events.expired"
    category = DataCategory.TECHNICAL
    description = "handled-event marks are forgotten 90 days after the event arrived"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.billing.count_events_before(now - HANDLED_EVENT_RETENTION)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.billing.delete_events_before(now - HANDLED_EVENT_RETENTION, limit)
            await uow.commit()
        return deleted

    async def prepare_periods(self, now: datetime) -> None:
        async with self._uow() as uow:
            await uow.billing.prepare_event_periods(now)
            await uow.commit()

    async def drop_whole_periods(self, now: datetime) -> int | None:
        async with self._uow() as uow:
            dropped = await uow.billing.drop_event_periods_before(now - HANDLED_EVENT_RETENTION)
            await uow.commit()
        return dropped


class ExpiredCheckoutSessions:
    """Deletes the hosted checkouts we opened once the payment records' legal period has passed since then."""

    name = "checkout_sessions.legal_period_over"
    category = DataCategory.PAYMENT
    description = (
        "checkout sessions are deleted when the legal retention period (DREAMINA_BILLING_RECORD_RETENTION_DAYS) "
        "has passed since they were opened"
    )

    def __init__(self, uow: UnitOfWorkFactory, record_retention: timedelta) -> None:
        self._uow = uow
        self._retention = record_retention

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.billing.count_checkouts_before(now - self._retention)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.billing.delete_checkouts_before(now - self._retention, limit)
            await uow.commit()
        return deleted


class ExpiredSandboxSessions:
    """Deletes the payment sandbox's sessions (embedded profile's test purchases) a while after they were opened."""

    name = "sandbox_checkout_sessions.expired"
    category = DataCategory.PAYMENT
    description = f"payment sandbox sessions are deleted {SANDBOX_SESSION_DAYS} days after they were opened"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow
        self._period = timedelta(days=SANDBOX_SESSION_DAYS)

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.sandbox_sessions.count_created_before(now - self._period)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.sandbox_sessions.delete_created_before(now - self._period, limit)
            await uow.commit()
        return deleted
