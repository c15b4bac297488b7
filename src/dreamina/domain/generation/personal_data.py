"""The generation module's holder of personal data: generations (with decrypted prompts) and uploads' records.

The files themselves (``uploads/<subject>/``, ``outputs/<subject>/``) are exported and erased by the object holder;
this one covers the rows, and names every provider job so the erasure saga can ask the provider to forget it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from dreamina.domain.generation.rules import PROMPT_FIELD
from dreamina.domain.privacy.errors import KeyDestroyed
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.paging import paged
from dreamina.ports.data_rights import Coverage, ErasureOutcome, ErasureStage, ExportSink, ProcessorReference
from dreamina.ports.generation import Generation, Upload
from dreamina.ports.unit_of_work import UnitOfWorkFactory

PAGE = 200


def archived(key: str, subject_id: UUID) -> str:
    """Where the object holder puts the object ``key`` in the export archive: ``files/<prefix>/<rest>``, without
    the subject's own folder (``outputs/<subject>/<generation>/0.png`` -> ``files/outputs/<generation>/0.png``)."""
    head, found, rest = key.partition(f"/{subject_id}/")
    return f"files/{head}/{rest}" if found else f"files/{key}"


class GenerationPersonalData:
    """:class:`~dreamina.ports.data_rights.PersonalDataHolder` for ``generations``, ``generation_references`` and
    ``uploads``."""

    name = "generation"
    stage = ErasureStage.MODULE_RECORDS
    coverage: tuple[Coverage, ...] = (
        Coverage(
            "store", "generations", "generations.json (prompts decrypted, parameters, status, outputs)", "deleted"
        ),
        Coverage("store", "generation_references", "generations.json (reference_upload_ids)", "deleted"),
        Coverage("store", "uploads", "uploads.json (size, type, when; the files are under files/uploads/)", "deleted"),
    )

    def __init__(self, *, uow: UnitOfWorkFactory, keyrings: Keyrings, processors: dict[str, str]) -> None:
        """``processors`` maps a provider name to its processor id in the data map (providers that run here: none)."""
        self._uow = uow
        self._keyrings = keyrings
        self._processors = processors

    async def count(self, subject_id: UUID) -> dict[str, int]:
        async with self._uow() as uow:
            generations, references = await uow.generations.count_for_subject(subject_id)
            return {
                "generations": generations,
                "generation_references": references,
                "uploads": await uow.uploads.count_for_subject(subject_id),
            }

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        """Streamed a page at a time, each page read in a unit of work of its own: memory does not grow with the
        subject's history (``bench/history.py``)."""
        await sink.write_records(
            "generations", "your generations, prompts included, and their outputs", self._generations(subject_id)
        )
        await sink.write_records(
            "uploads", "reference images you uploaded (the files are in files/uploads/)", self._uploads(subject_id)
        )

    async def _generations(self, subject_id: UUID) -> AsyncIterator[dict[str, Any]]:
        async with self._uow() as uow:  # the data key read once for every prompt (a destroyed key opens none)
            try:
                opener: Callable[[str, bytes], str] | None = await self._keyrings(uow.subject_keys).opener(subject_id)
            except KeyDestroyed:
                opener = None
        async for g in self._pages(subject_id):
            yield _generation_record(opener, subject_id, g)

    async def _uploads(self, subject_id: UUID) -> AsyncIterator[dict[str, Any]]:
        async def fetch(before: tuple[datetime, UUID] | None) -> list[Upload]:
            async with self._uow() as uow:
                return (await uow.uploads.page_for_subject(subject_id, PAGE, before))[0]

        async for u in paged(fetch, PAGE, lambda u: (u.created_at, u.id)):
            yield {
                "id": str(u.id),
                "file": archived(u.object_key, subject_id),
                "content_type": u.content_type,
                "width": u.width,
                "height": u.height,
                "bytes": u.bytes,
                "created_at": u.created_at.isoformat(),
            }

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        """Every generation, its reference links and every upload, deleted by the store in one unit of work (none is
        loaded: ``bench/history.py``)."""
        async with self._uow() as uow:
            generations, links = await uow.generations.delete_for_subject(subject_id)
            uploads = await uow.uploads.delete_for_subject(subject_id)
            await uow.commit()
        return ErasureOutcome(self.name, deleted=generations + links + uploads)

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        found = []
        async for g in self._pages(subject_id):
            if g.provider in self._processors and g.provider_job_id:
                found.append(ProcessorReference(processor=self._processors[g.provider], reference=g.provider_job_id))
        return found

    async def _pages(self, subject_id: UUID) -> AsyncIterator[Generation]:
        """The subject's generations, newest first, a page in memory at a time."""

        async def fetch(before: tuple[datetime, UUID] | None) -> list[Generation]:
            async with self._uow() as uow:
                return (await uow.generations.page_for_subject(subject_id, PAGE, before)).items

        async for generation in paged(fetch, PAGE, lambda g: (g.created_at, g.id)):
            yield generation


def _generation_record(opener: Callable[[str, bytes], str] | None, subject_id: UUID, g: Generation) -> dict[str, Any]:
    return {
        "id": str(g.id),
        "kind": g.kind.value,
        "status": g.status.value,
        "prompt": None if opener is None else opener(PROMPT_FIELD, g.prompt_ciphertext),
        "params": g.params,
        "reference_upload_ids": [str(u) for u in g.reference_upload_ids],
        "provider": g.provider,
        "failure_reason": g.failure_reason,
        "outputs": [
            {"file": archived(o.object_key, subject_id), "content_type": o.content_type, "bytes": o.bytes}
            for o in g.outputs
        ],
        "created_at": g.created_at.isoformat(),
    }
