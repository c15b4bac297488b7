"""Removing a generation from our stores: its row, its outputs and the reference uploads nothing else uses, audited
as the subject's deletion or as the expiry their own content-retention setting asked for."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from uuid import UUID

from dreamina.domain.generation.rules import outputs_prefix
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.generation import Generation, Upload
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.unit_of_work import UnitOfWork


class ContentRemoval:
    """Works inside the caller's unit of work; the caller commits (and then has the provider forget its copy)."""

    def __init__(self, store: ObjectStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def remove(
        self, uow: UnitOfWork, generation: Generation, *, expired: bool, taken_down_by: UUID | None = None
    ) -> None:
        """The rows, the outputs and the references nothing else uses; audited as the subject's deletion, as the
        expiry their own setting asked for, or as a staff member's takedown after an abuse report."""
        await uow.generations.delete(generation.id)
        orphaned = await self.delete_unshared(uow, generation.reference_upload_ids)
        outputs = outputs_prefix(generation.subject_id, generation.id)
        await self._store.abort_incomplete(outputs)  # a worker killed while storing an output left its parts
        await self._store.delete_prefix(outputs)
        actor_kind, actor_id, action, reason = (
            (ActorKind.STAFF, taken_down_by, "generation_taken_down", "abuse report")
            if taken_down_by is not None
            else (ActorKind.SYSTEM, None, "generation_expired", "the subject's content-retention setting")
            if expired
            else (ActorKind.SUBJECT, generation.subject_id, "generation_deleted", None)
        )
        await uow.audit.append(
            AuditEvent(
                id=uuid.uuid4(),
                subject_id=generation.subject_id,
                actor_kind=actor_kind,
                actor_id=actor_id,
                action=action,
                fields=("prompt", "outputs", *(["reference_uploads"] if orphaned else [])),
                reason=reason,
                occurred_at=self._clock.now(),
            )
        )

    async def delete_unshared(self, uow: UnitOfWork, upload_ids: Sequence[UUID]) -> tuple[Upload, ...]:
        """Delete, row and object, each of the uploads no generation references (any more); returns them."""
        orphaned: list[Upload] = []
        for upload_id in upload_ids:
            upload = await uow.uploads.get(upload_id)
            if upload is not None and await uow.generations.count_referencing(upload_id) == 0:
                await uow.uploads.delete(upload_id)
                orphaned.append(upload)
        # objects go before the commit: a crash in between leaves a row pointing at nothing, never a
        # deleted row whose content lingers
        await self._store.delete_many([upload.object_key for upload in orphaned])
        return tuple(orphaned)
