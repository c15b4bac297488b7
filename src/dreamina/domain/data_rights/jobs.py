"""The export job and the erasure saga: resumable, every step idempotent and recorded in ``privacy_jobs``.

A worker killed at any point re-runs the job from its first unfinished step; finished steps are never repeated, and
a step whose effect happened but whose record did not (the failpoint ``privacy.step.after_effect``) repeats an
idempotent effect. A mail sent just before a crash is sent again with the same delivery id: once in the outbox
folder, at least once (under one Message-ID) over SMTP; everything else is exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from dreamina import failpoints
from dreamina.domain.data_rights.fulfilment import Fulfilment
from dreamina.domain.data_rights.holders import DATA_RIGHTS_HOLDER
from dreamina.domain.data_rights.notices import RequestNotices
from dreamina.domain.data_rights.processor_notices import ProcessorNotices, outcome_of
from dreamina.domain.data_rights.records import RequestRecords
from dreamina.domain.privacy.backlog import BacklogCursor, Position
from dreamina.domain.privacy.errors import Conflict
from dreamina.ports.clock import Clock
from dreamina.ports.data_rights import (
    ErasureCompletion,
    ExportArchive,
    ExportSink,
    JobKind,
    JobState,
    PersonalDataHolder,
    PrivacyJob,
)
from dreamina.ports.generation import JobQueue
from dreamina.ports.processor_notices import NoticeStatus
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

README = """Your Dreamina data export
=========================

This archive holds everything Dreamina stores about you, as of the time it was built.
Each JSON file holds one category of data as a list of records; the files/ folder holds your original
uploads and generated images and videos, byte for byte.

Files:
"""


class JobPending(Exception):
    """The job stopped at a step that must be retried later (e.g. a processor did not answer)."""


class LeaseLost(JobPending):
    """Another worker holds the job now (this one stalled past its lease): the step is not recorded."""


@dataclass(frozen=True, slots=True)
class JobRules:
    retry_backoff: timedelta = timedelta(minutes=15)
    export_ttl: timedelta = timedelta(days=7)
    # A worker holds a job's lease while it runs and renews it every third of it; a killed worker's job is taken
    # over by another worker once the lease runs out.
    lease: timedelta = timedelta(seconds=60)


def export_key(subject_id: UUID, request_id: UUID) -> str:
    return f"exports/{subject_id}/{request_id}.zip"


class DataRightsJobs:
    """Runs export and erasure jobs. ``after_step`` is called after each step is persisted (tests kill here)."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        records: RequestRecords,
        fulfilment: Fulfilment,
        notices: RequestNotices,
        holders: Sequence[PersonalDataHolder],
        archive: ExportArchive,
        processor_notices: ProcessorNotices,
        clock: Clock,
        rules: JobRules | None = None,
        after_step: Callable[[str], None] | None = None,
        queue: JobQueue | None = None,
    ) -> None:
        self._uow = uow
        self._queue = queue  # None: nothing runs the jobs by itself (tests and ``--once`` call ``run_due``)
        self._backlog = BacklogCursor[PrivacyJob](lambda job: (job.run_after, job.request_id))
        self._records = records
        self._fulfilment = fulfilment
        self._notices = notices
        self._holders = erasure_order(holders)
        self._archive = archive
        self.processor_notices = processor_notices
        self._clock = clock
        self.rules = rules or JobRules()
        self.after_step = after_step
        self._leases: dict[UUID, str] = {}  # the jobs this worker runs now, and the owner name of each run's lease

    @property
    def holders(self) -> tuple[PersonalDataHolder, ...]:
        """Every holder of personal data, in the order an erasure runs them."""
        return self._holders

    # -- scheduling --------------------------------------------------------------------------------------------

    async def run_due(self, limit: int = 10) -> dict[str, int]:
        """Run every job whose time has come, here and now (``privacy-worker --once``, tests); a job that fails waits
        for its back-off. Returns counts."""
        counts = {"done": 0, "pending": 0, "failed": 0}
        async with self._uow() as uow:
            jobs = await uow.privacy_jobs.list_runnable(self._clock.now(), limit)
        for job in jobs:
            outcome = await self.run_queued(job.request_id)
            if outcome in counts:  # not "skipped": another worker holds it, or it is no longer pending
                counts[outcome] += 1
        return counts

    async def run_queued(self, request_id: UUID) -> str:
        """The job queue's task: run the job as :meth:`run` does; a step that must wait (``pending``) or a failure
        (``failed``, the job then waits for its back-off) is the job's own business, kept in its record, and the
        reaper (:meth:`enqueue_due`) queues it again when it is due. An error recording the back-off (the database
        down) reaches the queue, which tries again without spending anything."""
        try:
            return "done" if await self.run(request_id) else "skipped"
        except JobPending:
            return "pending"
        except Exception:
            await self._back_off(request_id)
            return "failed"

    async def enqueue_due(self, held: Callable[[UUID], bool] = lambda _: False, limit: int = 100) -> int:
        """The reaper: queue every job whose time has come and that the queue does not hold (it was never queued,
        the queue lost it, its worker was killed and its lease ran out, or its back-off is over). Returns how many."""
        if self._queue is None:
            return 0
        now = self._clock.now()

        async def runnable(after: Position | None) -> list[PrivacyJob]:
            async with self._uow() as uow:
                return await uow.privacy_jobs.list_runnable(now, limit, after=after)

        def lost(job: PrivacyJob) -> bool:  # not queued or scheduled already, nor running under a live lease
            return not held(job.request_id) and (job.lease_until is None or job.lease_until < now)

        # Pages from where the last pass stopped (BacklogCursor): a job Redis lost behind any backlog is reached.
        due = await self._backlog.next_pass(runnable, lost, limit)
        for job in due:
            await self._queue.enqueue(job.request_id)
        return len(due)

    async def run(self, request_id: UUID) -> bool:
        """Run (or resume) one job to its end, holding its lease: False if it is not pending or another worker
        holds it (two workers never run one job; each step is recorded only while the lease is held)."""
        await self._notices.flush()  # what a killed run queued but could not deliver
        async with self._uow() as uow:
            job = await uow.privacy_jobs.get(request_id)
            if job is None or job.state != JobState.PENDING:
                return False
            now = self._clock.now()
            owner = uuid4().hex  # each run its own: two passes of one worker never share a job either
            if not await uow.privacy_jobs.claim(request_id, owner, now, now + self.rules.lease):
                return False
            await uow.commit()
        self._leases[request_id] = owner
        heartbeat = asyncio.create_task(self._keep_lease(request_id, owner), name="privacy-job-lease")
        try:
            if job.kind == JobKind.EXPORT:
                await self._export(job)
            else:
                await self._erase(job)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            del self._leases[request_id]
            with contextlib.suppress(Exception):  # an unreleased lease runs out by itself
                async with self._uow() as uow:
                    await uow.privacy_jobs.release(request_id, owner)
                    await uow.commit()
        return True

    async def _keep_lease(self, request_id: UUID, owner: str) -> None:
        """Renew the lease every third of its length while the job runs (a long export outlives one lease)."""
        while True:
            await asyncio.sleep(self.rules.lease.total_seconds() / 3)
            with contextlib.suppress(Exception):  # a missed renewal is retried; the steps check the lease too
                async with self._uow() as uow:
                    now = self._clock.now()
                    await uow.privacy_jobs.claim(request_id, owner, now, now + self.rules.lease)
                    await uow.commit()

    async def _hold(self, uow: UnitOfWork, request_id: UUID) -> None:
        """Renew the lease in the unit of work that records a step, or refuse the step if another worker took it."""
        now = self._clock.now()
        owner = self._leases.get(request_id)
        if owner is None or not await uow.privacy_jobs.claim(request_id, owner, now, now + self.rules.lease):
            raise LeaseLost("another worker holds this job")

    async def _back_off(self, request_id: UUID) -> None:
        async with self._uow() as uow:
            job = await uow.privacy_jobs.get(request_id)
            if job is None:
                return
            job.attempts += 1
            now = self._clock.now()
            job.run_at(now + self.rules.retry_backoff * min(job.attempts, 8), now)
            await uow.privacy_jobs.update(job)
            await uow.commit()

    async def _mark(
        self, job: PrivacyJob, step: str, also: Callable[[UnitOfWork], Awaitable[None]] | None = None, **changes: Any
    ) -> PrivacyJob:
        """Persist one finished step (with what it produced) in a unit of work of its own; ``also`` runs in the same
        unit of work (a notice queued there exists exactly if the step is recorded)."""
        async with self._uow() as uow:
            await self._hold(uow, job.request_id)
            job = replace(job, **changes)
            job.record_step(step, self._clock.now())
            if also is not None:
                await also(uow)
            await uow.privacy_jobs.update(job)
            await uow.commit()
        self._stepped(step)
        return job

    def _notify(
        self, job: PrivacyJob, notice: Callable[..., Awaitable[None]]
    ) -> Callable[[UnitOfWork], Awaitable[None]]:
        """Queue ``notice`` to the job's subject, if they still have an address."""

        async def queue(uow: UnitOfWork) -> None:
            email = await self._records.email_of(uow, job.subject_id)
            if email is not None:
                await notice(uow, job.subject_id, email, job)

        return queue

    def _stepped(self, step: str) -> None:
        if self.after_step is not None:
            self.after_step(step)

    # -- export ------------------------------------------------------------------------------------------------

    async def _export(self, job: PrivacyJob) -> None:
        if "archive_built" not in job.steps_done:
            key = export_key(job.subject_id, job.request_id)
            holders = [h for h in self._holders if h.name != "subject_key"]

            async def fill(sink: ExportSink) -> None:
                for holder in holders:
                    await holder.export(job.subject_id, sink)

            size = await self._archive.build(key, README, fill)
            failpoints.hit("privacy.step.after_effect", "archive_built")
            job = await self._mark(
                job,
                "archive_built",
                archive_key=key,
                archive_bytes=size,
                expires_at=self._clock.now() + self.rules.export_ttl,
            )
        if "subject_notified" not in job.steps_done:
            job = await self._mark(job, "subject_notified", self._notify(job, self._notices.export_ready))
            await self._notices.flush()
        if "request_completed" not in job.steps_done:
            async with self._uow() as uow:
                await self._hold(uow, job.request_id)
                await self._fulfilment.complete(
                    uow,
                    job.request_id,
                    {
                        "download": f"/v1/privacy/requests/{job.request_id}/download",
                        "archive_bytes": job.archive_bytes,
                        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
                    },
                    "export archive ready",
                )
                job.record_step("request_completed", self._clock.now())
                job.finish(self._clock.now())
                await uow.privacy_jobs.update(job)
                await uow.commit()
            self._stepped("request_completed")

    # -- erasure -----------------------------------------------------------------------------------------------

    def erasure_steps(self) -> list[str]:
        """Every step of the saga, in order (tests kill the worker after each)."""
        holders = [f"erased:{h.name}" for h in self._holders if h.name != DATA_RIGHTS_HOLDER]
        return [
            "sessions_revoked",
            "subject_notified",
            "processors_collected",
            *holders,
            "processors_called",
            "completion_recorded",
            f"erased:{DATA_RIGHTS_HOLDER}",
        ]

    async def _erase(self, job: PrivacyJob) -> None:
        subject = job.subject_id
        if "sessions_revoked" not in job.steps_done:
            async with self._uow() as uow:
                account = await uow.accounts.get(subject)
                if account is not None and account.suspend(self._clock.now()):  # no new sign-ins while it runs
                    await uow.accounts.update(account)
                await uow.sessions.delete_for_account(subject)
                await uow.commit()
            failpoints.hit("privacy.step.after_effect", "sessions_revoked")
            job = await self._mark(job, "sessions_revoked")
        if "subject_notified" not in job.steps_done:
            job = await self._mark(job, "subject_notified", self._notify(job, self._notices.erasure_started))
            await self._notices.flush()
        if "processors_collected" not in job.steps_done:
            calls: list[dict[str, Any]] = []
            for holder in self._holders:
                for ref in await holder.processor_references(subject):
                    call = {"processor": ref.processor, "reference": ref.reference, "status": "pending", "attempts": 0}
                    if call not in calls:
                        calls.append(call)
            processors = [c["processor"] for c in calls]

            async def plan(uow: UnitOfWork) -> None:  # planned exactly if the step is recorded
                await self.processor_notices.plan(uow, job, processors)

            job = await self._mark(job, "processors_collected", plan, processor_calls=tuple(calls))
        for holder in self._holders:
            step = f"erased:{holder.name}"
            if holder.name == DATA_RIGHTS_HOLDER or step in job.steps_done:
                continue
            await holder.erase(subject)
            failpoints.hit("privacy.step.after_effect", step)
            job = await self._mark(job, step)
        if "processors_called" not in job.steps_done:
            job = await self._call_processors(job)
            failpoints.hit("privacy.step.after_effect", "processors_called")
            job = await self._mark(job, "processors_called")
        if "completion_recorded" not in job.steps_done:
            holders_done = [h.name for h in self._holders]
            record = ErasureCompletion(
                id=job.completion_id,
                completed_at=self._clock.now(),
                outcome={
                    "holders": holders_done,
                    "processors": [outcome_of(n) for n in await self.processor_notices.for_request(job.request_id)],
                    "subject_key_destroyed": f"erased:{'subject_key'}" in job.steps_done
                    or not any(h.name == "subject_key" for h in self._holders),
                },
            )
            async with self._uow() as uow:
                await self._hold(uow, job.request_id)
                try:
                    await uow.erasure_completions.add(record)
                except Conflict:
                    pass  # recorded by a run that died before marking the step
                await self._fulfilment.complete(
                    uow, job.request_id, {"completion_id": str(job.completion_id)}, "erased", pseudonymous=True
                )
                job.record_step("completion_recorded", self._clock.now())
                await uow.privacy_jobs.update(job)
                await uow.commit()
            self._stepped("completion_recorded")
        own = next((h for h in self._holders if h.name == DATA_RIGHTS_HOLDER), None)
        if own is not None:
            await own.erase(subject)  # removes this job's row too: the saga is over
        self._stepped(f"erased:{DATA_RIGHTS_HOLDER}")

    async def _call_processors(self, job: PrivacyJob) -> PrivacyJob:
        """Tell every processor (:mod:`.processor_notices`); while any notification is open the job waits for the
        earliest retry. Once all are done or given up the processors' references are forgotten."""
        if job.processor_calls and not await self.processor_notices.for_request(job.request_id):
            async with self._uow() as uow:  # collected by a release before the notifications existed
                await self._hold(uow, job.request_id)
                await self.processor_notices.plan(uow, job, [c["processor"] for c in job.processor_calls])
                await uow.commit()
        notifications = await self.processor_notices.attempt_due(job, lambda uow: self._hold(uow, job.request_id))
        waiting = [n.next_attempt_at for n in notifications if n.status is NoticeStatus.OPEN]
        async with self._uow() as uow:
            await self._hold(uow, job.request_id)
            current = await uow.privacy_jobs.get(job.request_id)
            assert current is not None
            now = self._clock.now()
            if waiting:
                current.run_at(max(min(waiting), now), now)
            else:  # they point at the subject; the outcome is what we keep
                current.processor_calls = tuple({**c, "reference": None} for c in current.processor_calls)
            await uow.privacy_jobs.update(current)
            await uow.commit()
        if waiting:
            raise JobPending("a processor has not confirmed yet; retrying after its back-off")
        return current


def erasure_order(holders: Sequence[PersonalDataHolder]) -> tuple[PersonalDataHolder, ...]:
    """The holders in the order an erasure runs them: by the stage each declares, modules in the order given."""
    names = [h.name for h in holders]
    if len(names) != len(set(names)):
        raise ValueError("holder names must be unique")
    return tuple(sorted(holders, key=lambda h: h.stage))
