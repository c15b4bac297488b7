"""Content retention (policy section 6): generations and unused uploads older than their owner's
content-retention setting go, through the same path as a deletion the subject asks for."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from dreamina.domain.generation.provider_jobs import ProviderJobs
from dreamina.domain.generation.removal import ContentRemoval
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.generation import GenerationCharges, GenerationKind, ModelProvider
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class ContentExpiry:
    """The batches the retention tasks of :mod:`dreamina.domain.generation.retention` apply."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        store: ObjectStore,
        providers: Mapping[GenerationKind, ModelProvider],
        charges: GenerationCharges,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._charges = charges
        self._removal = ContentRemoval(store, clock)
        self._provider_jobs = ProviderJobs(uow, clock, providers)

    async def expire_past_owner_retention(self, now: datetime, limit: int) -> int:
        """Delete, exactly as :meth:`Generations.delete` does, at most ``limit`` generations older than their
        owner's content-retention setting, in one transaction; returns how many."""
        async with self._uow() as uow:
            batch = await uow.generations.lock_past_owner_retention(now, limit)
            unfinished = {g.id for g in batch if not g.status.terminal}
            if unfinished:  # a stuck job: its charge is released first, as delete does, outside any transaction
                await uow.rollback()
                for generation_id in unfinished:
                    await self._charges.release(generation_id)
                again = await uow.generations.lock_past_owner_retention(now, limit)
                batch = [g for g in again if g.status.terminal or g.id in unfinished]
            for generation in batch:
                await self._removal.remove(uow, generation, expired=True)
            await uow.commit()
        for generation in batch:
            await self._provider_jobs.forget_everywhere(generation)
        return len(batch)

    async def expire_unused_uploads_past_owner_retention(self, now: datetime, limit: int) -> int:
        """Delete, as the deletion of a generation does with the references nothing else uses, at most ``limit``
        uploads no generation uses that are older than their owner's content-retention setting, in one
        transaction; returns how many."""
        async with self._uow() as uow:
            batch = await uow.uploads.lock_unused_past_owner_retention(now, limit)
            deleted = await self._removal.delete_unshared(uow, [upload.id for upload in batch])
            for upload in deleted:
                await uow.audit.append(
                    AuditEvent(
                        id=uuid.uuid4(),
                        subject_id=upload.subject_id,
                        actor_kind=ActorKind.SYSTEM,
                        actor_id=None,
                        action="upload_expired",
                        fields=("reference_uploads",),
                        reason="the subject's content-retention setting",
                        occurred_at=self._clock.now(),
                    )
                )
            await uow.commit()
        return len(deleted)
