"""Generation charges until the billing module lands."""

from __future__ import annotations

from uuid import UUID

from dreamina.ports.generation import GenerationKind


class UnmeteredCharges:
    """:class:`~dreamina.ports.generation.GenerationCharges` that charges nothing: the embedded default until
    billing wires its credit ledger to this port. Every call is accepted (and trivially idempotent)."""

    async def reserve(self, subject_id: UUID, generation_id: UUID, kind: GenerationKind, units: int) -> None:
        return None

    async def capture(self, generation_id: UUID) -> None:
        return None

    async def release(self, generation_id: UUID) -> None:
        return None
