"""Identity's retention rules: expired or revoked sessions go (their token hashes are useless by then); audit
events go when their legal period is over."""

from __future__ import annotations

from datetime import datetime, timedelta

from dreamina.domain.privacy.schedule import LEGAL_RECORD_DAYS
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class ExpiredSessions:
    """Deletes sessions once they expire (data map: ``auth_sessions``, technical data)."""

    name = "auth_sessions.expired"
    category = "technical"
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


class AuditEventsPastLegalPeriod:
    """Deletes audit events once the legal period they are kept for is over (data map: ``audit_events``)."""

    name = "audit_events.legal_period_over"
    category = "account"
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
