"""The generation module's ``GenerationCharges`` port, served by the billing module's credit ledger."""

from __future__ import annotations

from uuid import UUID

from dreamina.domain.billing.credits import Credits


class LedgerGenerationCharges:
    """:class:`~dreamina.ports.charges.GenerationCharges` over :class:`~dreamina.domain.billing.credits.Credits`:
    reserve raises ``InsufficientCredits`` (402); all three are idempotent and write exactly once."""

    def __init__(self, credits: Credits) -> None:
        self._credits = credits

    async def reserve(self, subject_id: UUID, generation_id: UUID, cost: int) -> None:
        await self._credits.reserve(subject_id, generation_id, cost)

    async def capture(self, generation_id: UUID) -> None:
        await self._credits.capture(generation_id)

    async def release(self, generation_id: UUID) -> None:
        await self._credits.release(generation_id)
