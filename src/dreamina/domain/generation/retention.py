"""Generation's retention rule: prompts, outputs and uploads go after the number of days their owner chose
(section 6)."""

from __future__ import annotations

from datetime import datetime

from dreamina.domain.generation.expiry import ContentExpiry
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class GenerationsPastOwnerRetention:
    """Deletes generations older than their owner's ``content_retention_days`` (owners without one keep them),
    with their outputs and the reference uploads no other generation uses, through the same path as a deletion
    the subject asks for."""

    name = "generations.owner_retention"
    category = DataCategory.CONTENT
    description = "generations are deleted automatically after the number of days their owner set"

    def __init__(self, uow: UnitOfWorkFactory, expiry: ContentExpiry) -> None:
        self._uow = uow
        self._expiry = expiry

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.generations.count_past_owner_retention(now)

    async def apply(self, now: datetime, limit: int) -> int:
        return await self._expiry.expire_past_owner_retention(now, limit)


class UnusedUploadsPastOwnerRetention:
    """Deletes uploads no generation uses that are older than their owner's ``content_retention_days`` (owners
    without one keep them), row and object, through the path that deletes a deleted generation's unshared
    references. Uploads a generation uses go with the last generation using them (above)."""

    name = "uploads.owner_retention"
    category = DataCategory.CONTENT
    description = (
        "reference uploads no generation uses are deleted automatically after the number of days their owner set"
    )

    def __init__(self, uow: UnitOfWorkFactory, expiry: ContentExpiry) -> None:
        self._uow = uow
        self._expiry = expiry

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.uploads.count_unused_past_owner_retention(now)

    async def apply(self, now: datetime, limit: int) -> int:
        return await self._expiry.expire_unused_uploads_past_owner_retention(now, limit)
