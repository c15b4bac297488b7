"""Consent's retention rules: analytics events are deleted 180 days after their day; anonymous devices' consent
records 13 months after they were made."""

from __future__ import annotations

from datetime import datetime, timedelta

from dreamina.domain.consent.analytics import RETENTION_DAYS
from dreamina.domain.consent.data_map import DEVICE_CONSENT_DAYS
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class ExpiredAnalyticsEvents:
    """Deletes analytics events older than the declared period (data map: ``analytics_events``, usage data): whole
    days at once where the store keeps them by day, the rest in batches."""

    name = "analytics_events.expired"
    category = DataCategory.USAGE
    description = f"analytics events are deleted {RETENTION_DAYS} days after the day they describe"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.analytics_events.count_before(now.date() - timedelta(days=RETENTION_DAYS))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.analytics_events.delete_before(now.date() - timedelta(days=RETENTION_DAYS), limit)
            await uow.commit()
        return deleted

    async def prepare_periods(self, now: datetime) -> None:
        async with self._uow() as uow:
            await uow.analytics_events.prepare_periods(now.date())
            await uow.commit()

    async def drop_whole_periods(self, now: datetime) -> int | None:
        async with self._uow() as uow:
            dropped = await uow.analytics_events.drop_periods_before(now.date() - timedelta(days=RETENTION_DAYS))
            await uow.commit()
        return dropped


class ExpiredDeviceConsent:
    """Deletes consent records of anonymous devices once the device cookie's lifetime has passed since they were
    made (data map: ``consent_records.device_key``); an account's records live as long as the account."""

    name = "consent_records.device_expired"
    category = DataCategory.TECHNICAL
    description = "consent records of anonymous devices are deleted 13 months after they were made"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    @staticmethod
    def _cutoff(now: datetime) -> datetime:
        return now - timedelta(days=DEVICE_CONSENT_DAYS)

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.consent_records.count_device_records_before(self._cutoff(now))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.consent_records.delete_device_records_before(self._cutoff(now), limit)
            await uow.commit()
        return deleted
