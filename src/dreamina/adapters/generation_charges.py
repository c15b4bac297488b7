"""The generation module's ``GenerationCharges`` port, served by the billing module's credit ledger."""

from __future__ import annotations

from uuid import UUID

from dreamina.domain.billing.catalogue import GenerationPrices
from dreamina.domain.billing.credits import Credits
from dreamina.ports.generation import GenerationKind


class LedgerGenerationCharges:
    """:class:`~dreamina.ports.generation.GenerationCharges` over :class:`~dreamina.domain.billing.credits.Credits`:
    the price comes from configuration (per image, per second of video); reserve raises ``InsufficientCredits``
    (402); all three are idempotent and write exactly once."""

    def __init__(self, credits: Credits, prices: GenerationPrices) -> None:
        self._credits = credits
        self._prices = prices

    async def reserve(self, subject_id: UUID, generation_id: UUID, kind: GenerationKind, units: int) -> None:
        cost = self._prices.cost(kind.value, outputs=units, seconds=units)
        await self._credits.reserve(subject_id, generation_id, cost)

    async def capture(self, generation_id: UUID) -> None:
        await self._credits.capture(generation_id)

    async def release(self, generation_id: UUID) -> None:
        await self._credits.release(generation_id)
