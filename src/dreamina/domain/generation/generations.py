"""Generations: submit, read, cancel and delete a subject's jobs, and run them against a model provider.

Privacy at the outbound port: a restricted subject is refused before anything leaves; every hand-off of a prompt
or reference image to a third-party provider is written to the disclosure ledger in the same unit of work as
the job's state transition, before the request is sent.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from dreamina.domain.generation.errors import KindNotAvailable, ProcessingRestricted
from dreamina.domain.privacy.errors import InvalidInput, KeyDestroyed, NotFound
from dreamina.domain.privacy.keyring import Keyrings, SubjectKeyring
from dreamina.domain.privacy.validation import clean_text
from dreamina.domain.privacy.vocabulary import DataCategory, Purpose
from dreamina.ports.audit import AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.disclosures import Disclosure
from dreamina.ports.generation import (
    DeletionOutcome,
    Generation,
    GenerationCharges,
    GenerationKind,
    GenerationOutput,
    GenerationStatus,
    JobQueue,
    ModelProvider,
    ProviderAuthFailed,
    ProviderBadResponse,
    ProviderError,
    ProviderJob,
    ProviderJobNotFound,
    ProviderJobState,
    ProviderRefused,
    ProviderRequest,
    ProviderUnavailable,
    ReferenceImage,
    Upload,
)
from dreamina.ports.object_store import ObjectNotFound, ObjectStore
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

OUTPUT_PREFIX = "outputs"
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4")
_OUTPUT_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "video/mp4": ".mp4"}
PROMPT_FIELD = "generation.prompt"

# User-safe reasons: they name what happened, never the vendor's own words.
REASON_REFUSED = "The model provider declined this prompt or image under its content policy."
REASON_UNAVAILABLE = "The model provider stayed unavailable; please try again later."
REASON_MISCONFIGURED = "The model provider could not be reached with our credentials; please try again later."
REASON_BAD_RESPONSE = "The model provider returned an invalid result."
REASON_FAILED = "The model provider could not complete this generation."
REASON_RESTRICTED = "Processing of your data is restricted."
REASON_ERASED = "The data of this account has been erased."
REASON_PROVIDER_GONE = "The model provider for this generation is no longer configured."


def outputs_prefix(subject_id: UUID, generation_id: UUID) -> str:
    return f"{OUTPUT_PREFIX}/{subject_id}/{generation_id}"


@dataclass(frozen=True, slots=True)
class GenerationRules:
    max_prompt_chars: int = 4000
    max_references: int = 4
    max_image_count: int = 4
    max_video_seconds: int = 10
    max_attempts: int = 5
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 300.0
    job_timeout_seconds: float = 600.0
    max_poll_interval_seconds: float = 10.0
    url_ttl_seconds: int = 15 * 60
    page_size_max: int = 100

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff for ``attempt`` (1-based), never sooner than the provider's Retry-After."""
        exponential = min(self.backoff_max_seconds, self.backoff_base_seconds * (1 << max(0, attempt - 1)))
        return max(exponential, retry_after or 0.0)


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    kind: str
    prompt: str
    reference_upload_ids: Sequence[UUID] = ()
    aspect_ratio: str = "1:1"
    count: int = 1
    duration_seconds: int = 4
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class OutputView:
    url: str
    content_type: str
    bytes: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class GenerationView:
    id: UUID
    kind: GenerationKind
    status: GenerationStatus
    prompt: str
    params: dict[str, Any]
    reference_upload_ids: tuple[UUID, ...]
    outputs: list[OutputView]
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class GenerationListing:
    items: list[GenerationView]
    next_cursor: str | None


@dataclass
class RunReport:
    """What one run of a job did (for logs and tests)."""

    outcome: str
    attempt: int = 0
    delay_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def encode_cursor(created_at: datetime, generation_id: UUID) -> str:
    raw = f"{created_at.isoformat()}|{generation_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, _, ident = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition("|")
        at = datetime.fromisoformat(created)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, UUID(ident)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidInput("the cursor is not one this API handed out", field="cursor") from None


class Generations:
    """The generation use cases. ``providers`` maps each kind to the provider configured for it."""

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
    ) -> None:
        self._uow = uow
        self._keyrings = keyrings
        self._clock = clock
        self._store = store
        self.providers = dict(providers)
        self.queue = queue
        self._charges = charges
        self.rules = rules or GenerationRules()

    def _keyring(self, uow: UnitOfWork) -> SubjectKeyring:
        return self._keyrings(uow.subject_keys)

    def _provider_named(self, name: str) -> ModelProvider | None:
        return next((p for p in self.providers.values() if p.name == name), None)

    # --- the subject's side ---------------------------------------------------------------------------------

    async def submit(self, subject_id: UUID, request: GenerationRequest) -> Generation:
        """Validate, reserve the charge, store the job (prompt sealed) and enqueue it by id."""
        kind, prompt, params = self._validate(request)
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
        now = self._clock.now()
        async with self._uow() as uow:
            if await uow.restrictions.get(subject_id) is not None:
                raise ProcessingRestricted("your data may not be processed while the restriction is in place")
            for upload_id in references:
                upload = await uow.uploads.get(upload_id)
                if upload is None or upload.subject_id != subject_id:
                    raise NotFound("no such upload", field="reference_upload_ids")
            sealed = await self._keyring(uow).seal(subject_id, PROMPT_FIELD, prompt)
        # The charge is reserved between two units of work, never inside one: billing commits its own, and a
        # transaction left open across it could not commit after (SQLite refuses to upgrade a stale snapshot).
        generation = Generation(
            id=generation_id,
            subject_id=subject_id,
            kind=kind,
            status=GenerationStatus.QUEUED,
            prompt_ciphertext=sealed,
            params=params,
            reference_upload_ids=references,
            provider=provider.name,
            provider_job_id=None,
            attempts=0,
            failure_reason=None,
            outputs=(),
            created_at=now,
            updated_at=now,
        )
        await self._charges.reserve(subject_id, generation_id, kind, _units(kind, params))
        try:
            async with self._uow() as uow:
                await uow.generations.add(generation)
                await uow.commit()
        except BaseException:
            await self._charges.release(generation_id)
            raise
        await self.queue.enqueue(generation_id)
        return generation

    async def get(self, subject_id: UUID, generation_id: UUID) -> GenerationView:
        async with self._uow() as uow:
            generation = await self._owned(uow, subject_id, generation_id)
            return await self._view(uow, generation)

    async def list(self, subject_id: UUID, limit: int = 20, cursor: str | None = None) -> GenerationListing:
        if not 1 <= limit <= self.rules.page_size_max:
            raise InvalidInput(f"limit must be 1..{self.rules.page_size_max}", field="limit")
        before = decode_cursor(cursor) if cursor else None
        async with self._uow() as uow:
            page = await uow.generations.page_for_subject(subject_id, limit, before)
            items = [await self._view(uow, g) for g in page.items]
        next_cursor = encode_cursor(*page.next_cursor) if page.next_cursor else None
        return GenerationListing(items=items, next_cursor=next_cursor)

    async def cancel(self, subject_id: UUID, generation_id: UUID) -> GenerationView:
        """Stop a job that has not finished; its reserved charge is released. Finished jobs stay as they are."""
        async with self._uow() as uow:
            generation = await self._owned(uow, subject_id, generation_id)
            if not generation.status.terminal:
                await self._settle(uow, generation, GenerationStatus.CANCELED)
                generation.cancel(self._clock.now())
                await uow.generations.update(generation)
                await uow.commit()
                await self._cancel_at_provider(generation)
            return await self._view(uow, generation)

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

    async def delete(self, subject_id: UUID, generation_id: UUID) -> None:
        """Remove the prompt, outputs and references nothing else uses from every store; ask the provider to
        forget its copy where its API allows, and audit the outcome."""
        async with self._uow() as uow:
            generation = await self._owned(uow, subject_id, generation_id)
            if not generation.status.terminal:
                await self._settle(uow, generation, GenerationStatus.CANCELED)
            await self._remove(uow, generation, expired=False)
            await uow.commit()
        await self._forget_everywhere(generation)

    async def expire_past_owner_retention(self, now: datetime, limit: int) -> int:
        """Retention (policy section 6): delete, exactly as :meth:`delete` does, at most ``limit`` generations
        older than their owner's content-retention setting, in one transaction; returns how many."""
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
                await self._remove(uow, generation, expired=True)
            await uow.commit()
        for generation in batch:
            await self._forget_everywhere(generation)
        return len(batch)

    async def _remove(self, uow: UnitOfWork, generation: Generation, *, expired: bool) -> None:
        """The rows, the outputs and the references nothing else uses; audited as the subject's deletion or as
        the expiry their own setting asked for."""
        await uow.generations.delete(generation.id)
        orphaned = await self._delete_unshared(uow, generation.reference_upload_ids)
        await self._store.delete_prefix(outputs_prefix(generation.subject_id, generation.id))
        await uow.audit.append(
            AuditEvent(
                id=uuid.uuid4(),
                subject_id=generation.subject_id,
                actor_kind="system" if expired else "subject",
                actor_id=None if expired else generation.subject_id,
                action="generation_expired" if expired else "generation_deleted",
                fields=("prompt", "outputs", *(["reference_uploads"] if orphaned else [])),
                reason="the subject's content-retention setting" if expired else None,
                occurred_at=self._clock.now(),
            )
        )

    async def _delete_unshared(self, uow: UnitOfWork, upload_ids: Sequence[UUID]) -> tuple[Upload, ...]:
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

    async def expire_unused_uploads_past_owner_retention(self, now: datetime, limit: int) -> int:
        """Retention (policy section 6): delete, as the deletion of a generation does with the references nothing
        else uses, at most ``limit`` uploads no generation uses that are older than their owner's content-retention
        setting, in one transaction; returns how many."""
        async with self._uow() as uow:
            batch = await uow.uploads.lock_unused_past_owner_retention(now, limit)
            deleted = await self._delete_unshared(uow, [upload.id for upload in batch])
            for upload in deleted:
                await uow.audit.append(
                    AuditEvent(
                        id=uuid.uuid4(),
                        subject_id=upload.subject_id,
                        actor_kind="system",
                        actor_id=None,
                        action="upload_expired",
                        fields=("reference_uploads",),
                        reason="the subject's content-retention setting",
                        occurred_at=self._clock.now(),
                    )
                )
            await uow.commit()
        return len(deleted)

    async def _forget_everywhere(self, generation: Generation) -> None:
        if not generation.status.terminal:
            await self._cancel_at_provider(generation)
        await self._forget_at_provider(generation)

    # --- the worker's side ----------------------------------------------------------------------------------

    async def recover(self, limit: int = 1000) -> int:
        """Re-enqueue every unfinished job (after a restart, in-process jobs were lost with the process)."""
        async with self._uow() as uow:
            unfinished = await uow.generations.unfinished(limit)
        for generation in unfinished:
            await self.queue.enqueue(generation.id, attempt=generation.attempts)
        return len(unfinished)

    async def run(self, generation_id: UUID) -> RunReport:
        """Run one attempt of a job. Idempotent: a finished, canceled or deleted job is left alone; a job
        whose worker died resumes at its provider job, and its outputs go to fixed keys so a retry replaces
        rather than duplicates them."""
        try:
            async with asyncio.timeout(self.rules.job_timeout_seconds):
                return await self._run(generation_id)
        except TimeoutError:
            return await self._retry_or_fail(generation_id, ProviderUnavailable("the job timed out"))

    async def _run(self, generation_id: UUID) -> RunReport:
        async with self._uow() as uow:
            generation = await uow.generations.get(generation_id)
            if generation is None or generation.status.terminal:
                return RunReport("skipped")
            provider = self._provider_named(generation.provider)
            if provider is None:
                return await self._finish_failed(uow, generation, REASON_PROVIDER_GONE)
            if await uow.restrictions.get(generation.subject_id) is not None:
                return await self._finish_failed(uow, generation, REASON_RESTRICTED)
            generation.start(self._clock.now())
            request: ProviderRequest | None = None
            if generation.provider_job_id is None:
                try:
                    request = await self._provider_request(uow, generation)
                except KeyDestroyed:
                    return await self._finish_failed(uow, generation, REASON_ERASED)
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
                        )
                    )
            await uow.generations.update(generation)
            await uow.commit()
        try:
            if request is not None:
                job = await provider.submit(request)
                if not await self._remember_job(generation.id, job):
                    await self._forget_job(provider, job.provider_job_id)
                    return RunReport("abandoned")
            else:
                assert generation.provider_job_id is not None
                job = await provider.status(generation.provider_job_id)
            finished = await self._poll(provider, generation.id, job)
            if finished is None:
                return RunReport("abandoned")
            if finished.state is ProviderJobState.SUCCEEDED:
                return await self._store_outputs(provider, generation, finished)
            reason = finished.failure or REASON_FAILED
            async with self._uow() as uow:
                current = await uow.generations.get(generation.id)
                if current is None or current.status.terminal:
                    return RunReport("abandoned")
                if finished.state is ProviderJobState.CANCELED:
                    return await self._finish(uow, current, GenerationStatus.CANCELED, None)
                return await self._finish_failed(uow, current, reason)
        except ProviderJobNotFound:
            return await self._resubmit(generation.id)
        except ProviderError as error:
            return await self._retry_or_fail(generation.id, error)

    async def _poll(self, provider: ModelProvider, generation_id: UUID, job: ProviderJob) -> ProviderJob | None:
        while job.state in (ProviderJobState.PENDING, ProviderJobState.RUNNING):
            await asyncio.sleep(max(0.0, min(job.poll_after_seconds, self.rules.max_poll_interval_seconds)))
            async with self._uow() as uow:
                current = await uow.generations.get(generation_id)
            if current is None or current.status.terminal:
                return None  # canceled or deleted meanwhile: whoever did that told the provider
            job = await provider.status(job.provider_job_id)
        return job

    async def _store_outputs(self, provider: ModelProvider, generation: Generation, job: ProviderJob) -> RunReport:
        if not job.outputs:
            raise ProviderBadResponse("the provider reported success without outputs")
        prefix = outputs_prefix(generation.subject_id, generation.id)
        outputs: list[GenerationOutput] = []
        for index, output in enumerate(job.outputs):
            extension = _OUTPUT_EXTENSIONS.get(output.content_type)
            if extension is None:
                raise ProviderBadResponse("the provider returned an unexpected media type")
            key = f"{prefix}/{index}{extension}"
            written = await self._store.put_stream(key, provider.fetch(output), output.content_type)
            outputs.append(GenerationOutput(object_key=key, content_type=output.content_type, bytes=written))
        wanted = {o.object_key for o in outputs}
        for stray in await self._store.list(prefix):  # left by an earlier attempt that returned more outputs
            if stray not in wanted:
                await self._store.delete(stray)
        async with self._uow() as uow:
            current = await uow.generations.get(generation.id)
            if current is None:
                await self._store.delete_prefix(prefix)  # deleted while we rendered: keep nothing
                return RunReport("abandoned")
            if current.status.terminal:
                if current.status is not GenerationStatus.SUCCEEDED:
                    await self._store.delete_prefix(prefix)
                return RunReport("skipped")
            return await self._finish(uow, current, GenerationStatus.SUCCEEDED, None, tuple(outputs))

    async def _remember_job(self, generation_id: UUID, job: ProviderJob) -> bool:
        async with self._uow() as uow:
            current = await uow.generations.get(generation_id)
            if current is None or current.status.terminal:
                return False
            current.attach(job.provider_job_id, self._clock.now())
            await uow.generations.update(current)
            await uow.commit()
            return True

    async def _resubmit(self, generation_id: UUID) -> RunReport:
        async with self._uow() as uow:
            current = await uow.generations.get(generation_id)
            if current is None or current.status.terminal:
                return RunReport("abandoned")
            current.resubmit(self._clock.now())
            await uow.generations.update(current)
            await uow.commit()
        await self.queue.enqueue(generation_id, attempt=current.attempts)
        return RunReport("resubmit", attempt=current.attempts)

    async def _retry_or_fail(self, generation_id: UUID, error: ProviderError) -> RunReport:
        async with self._uow() as uow:
            current = await uow.generations.get(generation_id)
            if current is None or current.status.terminal:
                return RunReport("abandoned")
            if not error.retryable or current.attempts >= self.rules.max_attempts:
                return await self._finish_failed(uow, current, _reason(error))
            current.retry(self._clock.now())
            await uow.generations.update(current)
            await uow.commit()
        retry_after = error.retry_after if isinstance(error, ProviderUnavailable) else None
        delay = self.rules.backoff(current.attempts, retry_after)
        await self.queue.enqueue(generation_id, attempt=current.attempts, delay_seconds=delay)
        return RunReport("retry", attempt=current.attempts, delay_seconds=delay)

    async def _finish_failed(self, uow: UnitOfWork, generation: Generation, reason: str) -> RunReport:
        return await self._finish(uow, generation, GenerationStatus.FAILED, reason)

    async def _finish(
        self,
        uow: UnitOfWork,
        generation: Generation,
        status: GenerationStatus,
        reason: str | None,
        outputs: tuple[GenerationOutput, ...] = (),
    ) -> RunReport:
        await self._settle(uow, generation, status)
        now = self._clock.now()
        if status is GenerationStatus.SUCCEEDED:
            generation.succeed(now, outputs)
        elif status is GenerationStatus.CANCELED:
            generation.cancel(now)
        else:
            generation.fail(now, reason or REASON_FAILED)
        await uow.generations.update(generation)
        await uow.commit()
        return RunReport(status.value, attempt=generation.attempts)

    async def _settle(self, uow: UnitOfWork, generation: Generation, status: GenerationStatus) -> None:
        """Capture (succeeded) or release (anything else) the charge, before the job's terminal state commits.

        The unit of work has only read so far; its transaction is ended first because billing commits in its own,
        and on SQLite a read snapshot older than another connection's commit can never write. Both calls are
        idempotent per generation: a crash before the job's commit repeats the same call on retry, never a second
        charge.
        """
        await uow.rollback()
        if status is GenerationStatus.SUCCEEDED:
            await self._charges.capture(generation.id)
        else:
            await self._charges.release(generation.id)

    async def _provider_request(self, uow: UnitOfWork, generation: Generation) -> ProviderRequest:
        prompt = await self._keyring(uow).open(generation.subject_id, PROMPT_FIELD, generation.prompt_ciphertext)
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
        )

    async def _cancel_at_provider(self, generation: Generation) -> None:
        provider = self._provider_named(generation.provider)
        if provider is not None and generation.provider_job_id is not None:
            try:
                await provider.cancel(generation.provider_job_id)
            except ProviderError:
                pass  # the job is canceled on our side; the provider's copy is deleted below or expires

    async def _forget_at_provider(self, generation: Generation) -> None:
        provider = self._provider_named(generation.provider)
        if provider is None or generation.provider_job_id is None:
            return
        outcome = await self._forget_job(provider, generation.provider_job_id)
        async with self._uow() as uow:
            await uow.audit.append(
                AuditEvent(
                    id=uuid.uuid4(),
                    subject_id=generation.subject_id,
                    actor_kind="system",
                    actor_id=None,
                    action="provider_deletion",
                    fields=(provider.capabilities.processor or provider.name,),
                    reason=outcome,
                    occurred_at=self._clock.now(),
                )
            )
            await uow.commit()

    async def _forget_job(self, provider: ModelProvider, provider_job_id: str) -> str:
        if not provider.capabilities.supports_deletion:
            return DeletionOutcome.NOT_SUPPORTED.value
        try:
            return (await provider.delete(provider_job_id)).value
        except ProviderError:
            return "failed"

    # --- helpers --------------------------------------------------------------------------------------------

    async def _owned(self, uow: UnitOfWork, subject_id: UUID, generation_id: UUID) -> Generation:
        generation = await uow.generations.get(generation_id)
        if generation is None or generation.subject_id != subject_id:
            raise NotFound("no such generation")  # another subject's job is indistinguishable from none
        return generation

    async def _view(self, uow: UnitOfWork, generation: Generation) -> GenerationView:
        prompt = await self._keyring(uow).open(generation.subject_id, PROMPT_FIELD, generation.prompt_ciphertext)
        ttl = self.rules.url_ttl_seconds
        expires_at = self._clock.now() + timedelta(seconds=ttl)
        outputs = [
            OutputView(
                url=await self._store.signed_url(o.object_key, ttl),
                content_type=o.content_type,
                bytes=o.bytes,
                expires_at=expires_at,
            )
            for o in generation.outputs
        ]
        return GenerationView(
            id=generation.id,
            kind=generation.kind,
            status=generation.status,
            prompt=prompt,
            params=dict(generation.params),
            reference_upload_ids=generation.reference_upload_ids,
            outputs=outputs,
            failure_reason=generation.failure_reason,
            created_at=generation.created_at,
            updated_at=generation.updated_at,
        )

    def _validate(self, request: GenerationRequest) -> tuple[GenerationKind, str, dict[str, Any]]:
        try:
            kind = GenerationKind(request.kind)
        except ValueError:
            raise InvalidInput("kind must be image or video", field="kind") from None
        prompt = clean_text(
            request.prompt, field="prompt", min_length=1, max_length=self.rules.max_prompt_chars, multiline=True
        )
        if len(request.reference_upload_ids) > self.rules.max_references:
            raise InvalidInput(f"at most {self.rules.max_references} reference images", field="reference_upload_ids")
        if request.aspect_ratio not in ASPECT_RATIOS:
            raise InvalidInput("aspect_ratio must be one of " + ", ".join(ASPECT_RATIOS), field="aspect_ratio")
        params: dict[str, Any] = {"aspect_ratio": request.aspect_ratio}
        if request.seed is not None:
            if not 0 <= request.seed < 2**31:
                raise InvalidInput("seed must be 0..2147483647", field="seed")
            params["seed"] = request.seed
        if kind is GenerationKind.IMAGE:
            if not 1 <= request.count <= self.rules.max_image_count:
                raise InvalidInput(f"count must be 1..{self.rules.max_image_count}", field="count")
            params["count"] = request.count
        else:
            if not 1 <= request.duration_seconds <= self.rules.max_video_seconds:
                raise InvalidInput(
                    f"duration_seconds must be 1..{self.rules.max_video_seconds}", field="duration_seconds"
                )
            params["duration_seconds"] = request.duration_seconds
        return kind, prompt, params


def _units(kind: GenerationKind, params: Mapping[str, Any]) -> int:
    """What a generation costs in billing's units: images per picture, videos per second."""
    return int(params["count"]) if kind is GenerationKind.IMAGE else int(params["duration_seconds"])


def _reason(error: ProviderError) -> str:
    if isinstance(error, ProviderRefused):
        return REASON_REFUSED
    if isinstance(error, ProviderAuthFailed):
        return REASON_MISCONFIGURED
    if isinstance(error, ProviderBadResponse):
        return REASON_BAD_RESPONSE
    if isinstance(error, ProviderUnavailable):
        return REASON_UNAVAILABLE
    return REASON_FAILED
