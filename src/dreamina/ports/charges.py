"""What a generation needs from billing: reserve its cost at submission, capture on success, release otherwise."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID


class GenerationCharges(Protocol):
    async def reserve(self, subject_id: UUID, generation_id: UUID, cost: int) -> None: ...
    async def capture(self, generation_id: UUID) -> None: ...
    async def release(self, generation_id: UUID) -> None: ...
