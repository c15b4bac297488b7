"""Identity's retention rules: expired or revoked sessions go (their token hashes are useless by then)."""

from __future__ import annotations

from datetime import datetime

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
