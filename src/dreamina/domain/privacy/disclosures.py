"""The disclosure ledger as the subject reads it (G10): which processors received their data, what and why."""

from __future__ import annotations

from uuid import UUID

from dreamina.ports.disclosures import Disclosure
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class DisclosureHistory:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def for_subject(self, subject_id: UUID) -> list[Disclosure]:
        """Every hand-off of the subject's data to a processor, oldest first."""
        async with self._uow() as uow:
            return await uow.disclosures.list_for_subject(subject_id)
