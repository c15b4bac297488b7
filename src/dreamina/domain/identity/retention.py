"""Identity's retention rules: expired or revoked sessions go (their token hashes are useless by then); audit
events go when their legal period is over; closed child reports lose the reporter's data after 90 days and their
record after 3 years; a received report still unmatched after a week is given up."""

from __future__ import annotations

from datetime import datetime, timedelta

from dreamina.domain.identity.child_report_data import CHILD_REPORT_DATA
from dreamina.domain.privacy.schedule import LEGAL_RECORD_DAYS
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.unit_of_work import UnitOfWorkFactory


def _declared_days(store: str, field: str) -> int:
    """The period the data map declares for a field: the schedule is the declaration, not a second constant."""
    days = CHILD_REPORT_DATA.field(store, field).retention.days
    if days is None:
        raise LookupError(f"the data map declares no retention period for {store}.{field}")
    return days


REPORTER_DATA_DAYS = _declared_days("child_reports", "reporters_ciphertext")
REPORT_RECORD_DAYS = _declared_days("child_reports", "subject_id")
INBOX_DAYS = _declared_days("child_report_inbox", "sealed")


class ExpiredSessions:
    """Deletes sessions once they expire (data map: ``auth_sessions``, technical data)."""

    name = "auth_sessions.expired"
    category = DataCategory.TECHNICAL
    description = "signed-in sessions are deleted once they expire"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.sessions.count_expired(now)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.sessions.delete_expired(now, limit)
            await uow.commit()
        return deleted


class ClosedChildReportContacts:
    """Deletes the reporter's contact, relationship and details (and the report's key) 90 days after a child report
    is closed (data map: ``child_reports``, reporter data)."""

    name = "child_reports.reporter_data"
    category = DataCategory.ACCOUNT
    description = f"a child report's reporter data is deleted {REPORTER_DATA_DAYS} days after the report is closed"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.child_reports.count_reporter_data(now - timedelta(days=REPORTER_DATA_DAYS))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            done = await uow.child_reports.delete_reporter_data(now - timedelta(days=REPORTER_DATA_DAYS), now, limit)
            await uow.commit()
        return done


class ExpiredChildReports:
    """Deletes a child report's record 3 years after it was closed (data map: ``child_reports``)."""

    name = "child_reports.closed"
    category = DataCategory.ACCOUNT
    description = f"a closed child report's record is deleted {REPORT_RECORD_DAYS // 365} years after it was closed"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.child_reports.count_closed(now - timedelta(days=REPORT_RECORD_DAYS))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            done = await uow.child_reports.delete_closed(now - timedelta(days=REPORT_RECORD_DAYS), limit)
            await uow.commit()
        return done


class AuditEventsPastLegalPeriod:
    """Deletes audit events once the legal period they are kept for is over (data map: ``audit_events``)."""

    name = "audit_events.legal_period_over"
    category = DataCategory.ACCOUNT
    description = f"audit events are deleted {LEGAL_RECORD_DAYS} days after they happened"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    @staticmethod
    def _cutoff(now: datetime) -> datetime:
        return now - timedelta(days=LEGAL_RECORD_DAYS)

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.audit.count_before(self._cutoff(now))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.audit.delete_before(self._cutoff(now), limit)
            await uow.commit()
        return deleted

    async def prepare_periods(self, now: datetime) -> None:
        async with self._uow() as uow:
            await uow.audit.prepare_periods(now)
            await uow.commit()

    async def drop_whole_periods(self, now: datetime) -> int | None:
        async with self._uow() as uow:
            dropped = await uow.audit.drop_periods_before(self._cutoff(now))
            await uow.commit()
        return dropped


class ExpiredAccountTokens:
    """Deletes one-time tokens once they expire, used or not (data map: ``account_tokens``)."""

    name = "account_tokens.expired"
    category = DataCategory.TECHNICAL
    description = "one-time tokens are deleted once they expire"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.account_tokens.count_expired(now)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.account_tokens.delete_expired(now, limit)
            await uow.commit()
        return deleted


class UnmatchedChildReports:
    """Deletes a received child report still waiting to be matched a week after it arrived (data map:
    ``child_report_inbox``; matching normally takes it within seconds)."""

    name = "child_report_inbox.unmatched"
    category = DataCategory.ACCOUNT
    description = f"a child report waiting to be matched is deleted {INBOX_DAYS} days after it arrived"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.child_report_inbox.count_older(now - timedelta(days=INBOX_DAYS))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            done = await uow.child_report_inbox.delete_older(now - timedelta(days=INBOX_DAYS), limit)
            await uow.commit()
        return done
