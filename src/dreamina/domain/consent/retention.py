"""Consent's retention rules: analytics events are deleted 180 days after their day."""

from __future__ import annotations

from datetime import datetime, timedelta

from dreamina.domain.consent.analytics import RETENTION_DAYS
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class ExpiredAnalyticsEvents:
    """Deletes analytics events older than the declared period (data map: ``analytics_events``, usage data)."""

    name = "analytics_events.expired"
    category = "usage"
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
