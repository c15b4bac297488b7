"""Generations, the worker's side: run a job against its model provider, poll it, store its outputs, retry with
backoff, settle its charge; recover the jobs a restart lost. The subject's side is
:mod:`dreamina.domain.generation.generations`.

Privacy at the outbound port: a restricted subject's job fails before anything leaves; every hand-off of a prompt
or reference image to a third-party provider is written to the disclosure ledger in the same unit of work as the
job's state transition, before the request is sent.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from dreamina import failpoints
from dreamina.domain.generation.failures import (
    REASON_ERASED,
    REASON_FAILED,
    REASON_MODERATED,
    REASON_PROVIDER_GONE,
    REASON_RESTRICTED,
    REASON_UNAVAILABLE,
    reason_for,
)
from dreamina.domain.generation.handoff import ProviderHandoff
from dreamina.domain.generation.moderation import ContentRefused, ContentScreening, ModerationBusy
from dreamina.domain.generation.output_screening import screen_outputs
from dreamina.domain.generation.outputs import store_outputs
from dreamina.domain.generation.provider_jobs import ProviderJobs
from dreamina.domain.generation.rules import GenerationRules, outputs_prefix
from dreamina.domain.generation.settlement import settle
from dreamina.domain.privacy.backlog import BacklogCursor, Position
from dreamina.domain.privacy.errors import KeyDestroyed
from dreamina.domain.privacy.improvement import improvement_allowed
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.ports.clock import Clock
from dreamina.ports.generation import (
    Generation,
    GenerationCharges,
    GenerationKind,
    GenerationStatus,
    JobQueue,
    ModelProvider,
    ProviderError,
    ProviderJob,
    ProviderJobNotFound,
    ProviderJobState,
    ProviderRequest,
    ProviderUnavailable,
)
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.provenance import ContentCredentials
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


class RunOutcome(enum.StrEnum):
    """How a run ended when the job did not reach a final state (else the report carries that state)."""

    SKIPPED = "skipped"  # nothing to do: finished, cancelled or gone before the run began
    ABANDONED = "abandoned"  # the job changed under the run (cancelled, deleted, restricted); the run stops
    RETRY = "retry"  # the provider failed in a way worth retrying: enqueued again after the delay
    RESUBMIT = "resubmit"  # the provider lost the job: submitted again on the next run


@dataclass
class RunReport:
    """What one run of a job did (for logs and tests)."""

    outcome: RunOutcome | GenerationStatus
    attempt: int = 0
    delay_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class GenerationRunner:
    """Runs queued generation jobs. ``providers`` maps each kind to the provider configured for it; a job runs at
    the provider it was submitted to."""

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
        credentials: ContentCredentials,
        rules: GenerationRules | None = None,
        screening: ContentScreening | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._screening = screening
        self._store = store
        self._credentials = credentials  # every output is stored signed (content credentials)
        self._queue = queue
        self._charges = charges
        self.rules = rules or GenerationRules()
        self._handoff = ProviderHandoff(keyrings, store)
        self._provider_jobs = ProviderJobs(uow, clock, dict(providers))
        self._backlog = BacklogCursor[Generation](lambda generation: (generation.created_at, generation.id))

    async def recover(self, limit: int = 1000) -> int:
        """Re-enqueue every unfinished job (after a restart, in-process jobs were lost with the process)."""
        return await self.reap(lambda _: False, limit)

    async def reap(self, held: Callable[[UUID], bool], limit: int = 1000) -> int:
        """Re-enqueue every unfinished job the queue does not ``held`` (lost to an error, or committed by a process
        that died before it enqueued). Runs on a timer, so nothing stays queued or running until a restart.
        Pages of ``limit``, from where the last pass stopped (:class:`~dreamina.domain.privacy.backlog.
        BacklogCursor`): a lost job behind any backlog of queued ones is reached within a bounded number of passes."""

        async def unfinished(after: Position | None) -> list[Generation]:
            async with self._uow() as uow:
                return await uow.generations.unfinished(limit, after=after)

        lost = await self._backlog.next_pass(unfinished, lambda generation: not held(generation.id), limit)
        for generation in lost:
            await self._queue.enqueue(generation.id, attempt=generation.attempts)
        return len(lost)

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
                return RunReport(RunOutcome.SKIPPED)
            provider = self._provider_jobs.provider(generation.provider)
            if provider is None:
                return await self._fail(uow, generation, REASON_PROVIDER_GONE)
            if await uow.restrictions.get(generation.subject_id) is not None:
                return await self._fail(uow, generation, REASON_RESTRICTED)
            if generation.attempts >= self.rules.max_attempts:  # runs cut short (killed workers) count too
                return await self._fail(uow, generation, REASON_UNAVAILABLE)
            generation.start(self._clock.now())
            request: ProviderRequest | None = None
            if generation.provider_job_id is None:
                try:
                    request = await self._handoff.prepare(uow, generation, provider)
                except KeyDestroyed:
                    return await self._fail(uow, generation, REASON_ERASED)
            await uow.generations.update(generation)
            await uow.commit()
        try:
            if request is not None:
                job = await provider.submit(request)
                failpoints.hit("generation.after_effect", "provider_submitted")  # it has the job; we lack its id
                if not await self._remember_job(generation.id, job):
                    await self._provider_jobs.forget_job(provider, job.provider_job_id)
                    return RunReport(RunOutcome.ABANDONED)
            else:
                assert generation.provider_job_id is not None
                job = await provider.status(generation.provider_job_id)
            finished = await self._poll(provider, generation.id, job)
            if finished is None:
                return RunReport(RunOutcome.ABANDONED)
            if finished.state is ProviderJobState.SUCCEEDED:
                return await self._store_outputs(provider, generation, finished)
            reason = finished.failure or REASON_FAILED
            async with self._uow() as uow:
                current = await uow.generations.get(generation.id)
                if current is None or current.status.terminal:
                    return RunReport(RunOutcome.ABANDONED)
                if finished.state is ProviderJobState.CANCELED:
                    return await self._cancel(uow, current)
                return await self._fail(uow, current, reason)
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
        if self._screening is not None:  # every output image is checked before any is stored or served
            try:
                provider = await screen_outputs(self._screening, provider, generation, job)
            except ContentRefused:
                return await self._fail_refused_output(generation.id)
            except ModerationBusy as busy:
                raise ProviderUnavailable("content checks are unavailable", busy.retry_after_seconds) from None
        outputs = await store_outputs(self._store, provider, generation, job, self._credentials)
        failpoints.hit("generation.after_effect", "outputs_stored")
        prefix = outputs_prefix(generation.subject_id, generation.id)
        async with self._uow() as uow:
            current = await uow.generations.get(generation.id)
            if current is None:
                await self._store.delete_prefix(prefix)  # deleted while we rendered: keep nothing
                return RunReport(RunOutcome.ABANDONED)
            if current.status.terminal:
                if current.status is not GenerationStatus.SUCCEEDED:
                    await self._store.delete_prefix(prefix)
                return RunReport(RunOutcome.SKIPPED)
            await settle(uow, self._charges, current.id, GenerationStatus.SUCCEEDED)
            current.succeed(self._clock.now(), outputs)
            allowed = await improvement_allowed(uow, current.subject_id)
            report = await self._save(uow, current)
        capabilities = provider.capabilities
        if not allowed and capabilities.processor is not None and capabilities.supports_deletion:
            # the vendor's own zero-retention means: its copy goes as soon as ours is stored (outcome audited)
            await self._provider_jobs.forget(current)
        return report

    async def _fail_refused_output(self, generation_id: UUID) -> RunReport:
        """An output was refused: the job fails with its charge released, and nothing of it is kept."""
        async with self._uow() as uow:
            current = await uow.generations.get(generation_id)
            if current is None or current.status.terminal:
                return RunReport(RunOutcome.ABANDONED)
            await self._store.delete_prefix(outputs_prefix(current.subject_id, current.id))  # an earlier attempt's
            return await self._fail(uow, current, REASON_MODERATED)

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
                return RunReport(RunOutcome.ABANDONED)
            current.resubmit(self._clock.now())
            await uow.generations.update(current)
            await uow.commit()
        await self._queue.enqueue(generation_id, attempt=current.attempts)
        return RunReport(RunOutcome.RESUBMIT, attempt=current.attempts)

    async def _retry_or_fail(self, generation_id: UUID, error: ProviderError) -> RunReport:
        async with self._uow() as uow:
            current = await uow.generations.get(generation_id)
            if current is None or current.status.terminal:
                return RunReport(RunOutcome.ABANDONED)
            if not error.retryable or current.attempts >= self.rules.max_attempts:
                return await self._fail(uow, current, reason_for(error))
            current.retry(self._clock.now())
            await uow.generations.update(current)
            await uow.commit()
        retry_after = error.retry_after if isinstance(error, ProviderUnavailable) else None
        delay = self.rules.backoff(current.attempts, retry_after)
        await self._queue.enqueue(generation_id, attempt=current.attempts, delay_seconds=delay)
        return RunReport(RunOutcome.RETRY, attempt=current.attempts, delay_seconds=delay)

    async def _fail(self, uow: UnitOfWork, generation: Generation, reason: str) -> RunReport:
        await settle(uow, self._charges, generation.id, GenerationStatus.FAILED)
        generation.fail(self._clock.now(), reason)
        return await self._save(uow, generation)

    async def _cancel(self, uow: UnitOfWork, generation: Generation) -> RunReport:
        await settle(uow, self._charges, generation.id, GenerationStatus.CANCELED)
        generation.cancel(self._clock.now())
        return await self._save(uow, generation)

    async def _save(self, uow: UnitOfWork, generation: Generation) -> RunReport:
        """Commit a terminal transition (the charge was settled before it)."""
        await uow.generations.update(generation)
        await uow.commit()
        return RunReport(generation.status, attempt=generation.attempts)
