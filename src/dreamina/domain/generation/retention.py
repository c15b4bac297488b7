"""Generation's retention rule: prompts and outputs go after the number of days their owner chose (section 6)."""

from __future__ import annotations

from datetime import datetime

from dreamina.domain.generation.generations import Generations
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class GenerationsPastOwnerRetention:
    """Deletes generations older than their owner's ``content_retention_days`` (owners without one keep them),
    with their outputs and the reference uploads no other generation uses, through the same path as a deletion
    the subject asks for."""

    name = "generations.owner_retention"
    category = "content"
    description = "generations are deleted automatically after the number of days their owner set"

    def __init__(self, uow: UnitOfWorkFactory, generations: Generations) -> None:
        self._uow = uow
        self._generations = generations

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.generations.count_past_owner_retention(now)

    async def apply(self, now: datetime, limit: int) -> int:
        return await self._generations.expire_past_owner_retention(now, limit)
