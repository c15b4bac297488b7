"""The hand-off to a model provider: what it is sent, and the disclosure ledger entry that precedes sending it."""

from __future__ import annotations

import uuid

from dreamina.domain.generation.rules import PROMPT_FIELD
from dreamina.domain.privacy.improvement import improvement_allowed
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.vocabulary import DataCategory, Purpose
from dreamina.ports.disclosures import Disclosure
from dreamina.ports.generation import Generation, ModelProvider, ProviderRequest, ReferenceImage
from dreamina.ports.object_store import ObjectNotFound, ObjectStore
from dreamina.ports.unit_of_work import UnitOfWork


class ProviderHandoff:
    """Opens the prompt and reads the references a job sends to its provider."""

    def __init__(self, keyrings: Keyrings, store: ObjectStore) -> None:
        self._keyrings = keyrings
        self._store = store

    async def prepare(self, uow: UnitOfWork, generation: Generation, provider: ModelProvider) -> ProviderRequest:
        """The request for ``provider``; a third-party provider's receipt of the subject's content is recorded in
        ``uow``, to commit with the job's transition before anything is sent, with whether the subject allowed
        improvement use at that moment (the request carries the same answer to the adapter). ``KeyDestroyed`` if
        the subject's data was erased."""
        allowed = await improvement_allowed(uow, generation.subject_id)
        request = await self._request(uow, generation, allowed)
        processor = provider.capabilities.processor
        if processor is not None:
            await uow.disclosures.record(
                Disclosure(
                    id=uuid.uuid4(),
                    subject_id=generation.subject_id,
                    processor=processor,
                    categories=(DataCategory.CONTENT.value,),
                    purpose=Purpose.GENERATION.value,
                    reference=str(generation.id),
                    occurred_at=generation.updated_at,
                    improvement_allowed=allowed,
                )
            )
        return request

    async def _request(self, uow: UnitOfWork, generation: Generation, improvement: bool) -> ProviderRequest:
        keyring = self._keyrings(uow.subject_keys)
        prompt = await keyring.open(generation.subject_id, PROMPT_FIELD, generation.prompt_ciphertext)
        references: list[ReferenceImage] = []
        for upload_id in generation.reference_upload_ids:
            upload = await uow.uploads.get(upload_id)
            if upload is None:
                continue  # deleted by the subject since: it is not sent
            try:
                data = await self._store.get(upload.object_key)
            except ObjectNotFound:
                continue
            references.append(ReferenceImage(data, upload.content_type, upload.width, upload.height))
        params = generation.params
        return ProviderRequest(
            idempotency_key=str(generation.id),
            kind=generation.kind,
            prompt=prompt,
            references=tuple(references),
            aspect_ratio=str(params["aspect_ratio"]),
            count=int(params.get("count", 1)),
            duration_seconds=int(params.get("duration_seconds", 0)),
            seed=params.get("seed"),
            improvement_allowed=improvement,
        )
