"""Data rights' retention rules (policy section 6, G7): export archives after 7 days, expired one-time codes, and
the records of closed requests once their legal period is over."""

from __future__ import annotations

from datetime import datetime, timedelta

from dreamina.domain.data_rights.data_map import REQUEST_RECORD_DAYS
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.data_rights import CLOSED_STATUSES
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class ExpiredExportArchives:
    """Deletes each export archive whose download link expired, object first, then the job's link to it."""

    name = "privacy_jobs.expired_archives"
    category = DataCategory.ACCOUNT
    description = "export archives are deleted (object and key) once their 7-day link expires"

    def __init__(self, uow: UnitOfWorkFactory, store: ObjectStore) -> None:
        self._uow = uow
        self._store = store

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.privacy_jobs.count_expired_archives(now)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            jobs = await uow.privacy_jobs.lock_expired_archives(now, limit)
            # objects go before the commit: a crash in between leaves a key pointing at nothing (cleared by the
            # next sweep; deleting a missing object is a no-op), never a forgotten key whose archive lingers
            await self._store.delete_many([job.archive_key for job in jobs if job.archive_key is not None])
            cleared = await uow.privacy_jobs.clear_archives([job.request_id for job in jobs], now)
            await uow.commit()
        return cleared


class ExpiredIdentityCodes:
    """Clears one-time identity codes (their keyed hash and expiry) from requests once they expire."""

    name = "privacy_requests.expired_codes"
    category = DataCategory.TECHNICAL
    description = "one-time identity codes are cleared once they expire"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.privacy_requests.count_expired_codes(now)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            cleared = await uow.privacy_requests.clear_expired_codes(now, limit)
            await uow.commit()
        return cleared


class ClosedRequestRecords:
    """Deletes closed requests, their history and job once the legal period for proving the answer is over."""

    name = "privacy_requests.legal_period_over"
    category = DataCategory.ACCOUNT
    description = f"records of closed privacy requests are deleted {REQUEST_RECORD_DAYS} days after they closed"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    @staticmethod
    def _cutoff(now: datetime) -> datetime:
        return now - timedelta(days=REQUEST_RECORD_DAYS)

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.privacy_requests.count_closed_before(CLOSED_STATUSES, self._cutoff(now))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            ids = await uow.privacy_requests.lock_closed_before(CLOSED_STATUSES, self._cutoff(now), limit)
            await uow.privacy_request_events.delete_for_requests(ids)
            await uow.privacy_jobs.delete_for_requests(ids)
            deleted = await uow.privacy_requests.delete_many(ids)
            await uow.commit()
        return deleted
