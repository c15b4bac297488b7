"""Generations, the subject's side: submit, read, list, cancel and delete their jobs (and stop them all when their
account is suspended). The worker's side is :mod:`dreamina.domain.generation.runner`.

Privacy at the outbound port: a restricted subject is refused before anything is stored or reserved; the prompt is
checked by the content moderator before the charge is reserved (a refused prompt is neither charged, stored nor sent
on) and sealed with the subject's data key before it is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from uuid import UUID

from dreamina.domain.generation.errors import KindNotAvailable
from dreamina.domain.generation.moderation import ContentScreening, refuse_new_content
from dreamina.domain.generation.provider_jobs import ProviderJobs
from dreamina.domain.generation.removal import ContentRemoval
from dreamina.domain.generation.rules import PROMPT_FIELD, GenerationRules
from dreamina.domain.generation.settlement import settle
from dreamina.domain.generation.validation import GenerationRequest, validate
from dreamina.domain.generation.views import (
    GenerationListing,
    GenerationView,
    GenerationViews,
    decode_cursor,
    encode_cursor,
)
from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.domain.privacy.idempotency import KeptAnswer
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.retries import retry_on_conflict
from dreamina.ports.clock import Clock
from dreamina.ports.generation import (
    Generation,
    GenerationCharges,
    GenerationKind,
    GenerationStatus,
    JobQueue,
    ModelProvider,
)
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory, reader_of


class Generations:
    """The subject's generation use cases. ``providers`` maps each kind to the provider configured for it."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        keyrings: Keyrings,
        clock: Clock,
        store: ObjectStore,
        providers: Mapping[GenerationKind, ModelProvider],
        queue: JobQueue,
        charges: GenerationCharges,
        rules: GenerationRules | None = None,
        screening: ContentScreening | None = None,
    ) -> None:
        self._uow = uow
        self._read = reader_of(uow)  # the read-only use cases' units of work
        self._keyrings = keyrings
        self._clock = clock
        self._screening = screening
        self.providers = dict(providers)
        self.queue = queue
        self._charges = charges
        self.rules = rules or GenerationRules()
        self._views = GenerationViews(keyrings, store, clock, self.rules.url_ttl_seconds)
        self._removal = ContentRemoval(store, clock)
        self._provider_jobs = ProviderJobs(uow, clock, self.providers)

    async def submit(
        self, subject_id: UUID, request: GenerationRequest, *, answer: KeptAnswer[Generation] | None = None
    ) -> Generation:
        """Validate, reserve the charge, store the job (prompt sealed) and enqueue it by id. ``answer``: the request
        carried an Idempotency-Key; its answer is kept in the same unit of work (``AnsweredBefore`` if it has one)."""
        valid = validate(request, self.rules)
        kind = valid.kind
        provider = self.providers.get(kind)
        if provider is None or kind not in provider.capabilities.kinds:
            raise KindNotAvailable(f"no model provider is configured for {kind.value} generations")
        references = tuple(dict.fromkeys(request.reference_upload_ids))
        caps = provider.capabilities
        if len(references) > caps.max_references:
            raise InvalidInput(
                f"this provider takes at most {caps.max_references} reference images", field="reference_upload_ids"
            )
        if len(references) < caps.min_references:
            raise InvalidInput(
                f"{kind.value} generations need at least {caps.min_references} reference image(s)",
                field="reference_upload_ids",
            )
        generation_id = uuid.uuid4()
        if self._screening is not None:
            # Read only (no writer turn on SQLite): a replay is answered, a paused or restricted subject's prompt
            # is never sent to the screen; the store below checks the standing again in its own transaction.
            async with self._read() as uow:
                if answer is not None:
                    await answer.before(uow)
                await refuse_new_content(uow, subject_id)
            await self._screening.check_prompt(subject_id, valid.prompt)

        async def store() -> Generation:
            # One unit of work: the hold on the credits exists exactly if the job it pays for does.
            async with self._uow() as uow:
                if answer is not None:
                    await answer.before(uow)
                await refuse_new_content(uow, subject_id)
                for upload_id in references:
                    upload = await uow.uploads.get(upload_id)
                    if upload is None or upload.subject_id != subject_id:
                        raise NotFound("no such upload", field="reference_upload_ids")
                await self._charges.reserve(uow, subject_id, generation_id, kind, valid.units)
                now = self._clock.now()
                generation = Generation(
                    id=generation_id,
                    subject_id=subject_id,
                    kind=kind,
                    status=GenerationStatus.QUEUED,
                    prompt_ciphertext=await self._keyrings(uow.subject_keys).seal(
                        subject_id, PROMPT_FIELD, valid.prompt
                    ),
                    params=valid.params,
                    reference_upload_ids=references,
                    provider=provider.name,
                    provider_job_id=None,
                    attempts=0,
                    failure_reason=None,
                    outputs=(),
                    created_at=now,
                    updated_at=now,
                )
                await uow.generations.add(generation)
                if answer is not None:
                    await answer.record(uow, generation)
                await uow.commit()
                return generation

        generation = await retry_on_conflict(store)
        await self.queue.enqueue(generation_id)
        return generation

    async def get(self, subject_id: UUID, generation_id: UUID) -> GenerationView:
        async with self._read() as uow:
            generation = await self._owned(uow, subject_id, generation_id)
            return await self._views.view(uow, generation)

    async def list(self, subject_id: UUID, limit: int = 20, cursor: str | None = None) -> GenerationListing:
        if not 1 <= limit <= self.rules.page_size_max:
            raise InvalidInput(f"limit must be 1..{self.rules.page_size_max}", field="limit")
        before = decode_cursor(cursor) if cursor else None
        async with self._read() as uow:
            page = await uow.generations.page_for_subject(subject_id, limit, before)
            items = await self._views.page(uow, page.items)
        next_cursor = encode_cursor(*page.next_cursor) if page.next_cursor else None
        return GenerationListing(items=items, next_cursor=next_cursor)

    async def cancel(self, subject_id: UUID, generation_id: UUID) -> GenerationView:
        """Stop a job that has not finished; its reserved charge is released. Finished jobs stay as they are."""
        async with self._uow() as uow:
            generation = await self._owned(uow, subject_id, generation_id)
            if not generation.status.terminal:
                await settle(uow, self._charges, generation.id, GenerationStatus.CANCELED)
                generation.cancel(self._clock.now())
                await uow.generations.update(generation)
                await uow.commit()
                await self._provider_jobs.cancel(generation)
            return await self._views.view(uow, generation)

    async def stop_for_subject(self, subject_id: UUID) -> int:
        """Stop every queued or running job of the subject (their account was suspended); each reserved charge is
        released as on a cancel. Returns how many were stopped."""
        stopped = 0
        while True:
            async with self._uow() as uow:
                batch = await uow.generations.unfinished_for_subject(subject_id, 100)
            if not batch:
                return stopped
            for generation in batch:
                try:
                    view = await self.cancel(subject_id, generation.id)
                except NotFound:
                    continue  # deleted meanwhile: nothing left to stop
                if not view.status.terminal:
                    raise RuntimeError("a generation could not be stopped")  # never loop forever
                stopped += 1

    async def delete(self, subject_id: UUID, generation_id: UUID, *, taken_down_by: UUID | None = None) -> None:
        """Remove the prompt, outputs and references nothing else uses from every store; ask the provider to
        forget its copy where its API allows, and audit the outcome. ``taken_down_by``: the staff member taking
        the generation down after an abuse report (the same removal, audited as theirs)."""
        async with self._uow() as uow:
            generation = await self._owned(uow, subject_id, generation_id)
            if not generation.status.terminal:
                await settle(uow, self._charges, generation.id, GenerationStatus.CANCELED)
            await self._removal.remove(uow, generation, expired=False, taken_down_by=taken_down_by)
            await uow.commit()
        await self._provider_jobs.forget_everywhere(generation)

    async def _owned(self, uow: UnitOfWork, subject_id: UUID, generation_id: UUID) -> Generation:
        generation = await uow.generations.get(generation_id)
        if generation is None or generation.subject_id != subject_id:
            raise NotFound("no such generation")  # another subject's job is indistinguishable from none
        return generation
