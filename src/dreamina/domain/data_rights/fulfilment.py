"""Carrying out an accepted request: at once where the law's answer is a register or a report, through a job
(export, erasure) or by staff (a free-text correction) otherwise; and closing it when its job is done."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from dreamina.domain.data_rights.records import SYSTEM, RequestRecords
from dreamina.domain.privacy.improvement import objection_forces_improvement_off
from dreamina.domain.privacy.pseudonyms import erasure_pseudonym
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.clock import Clock
from dreamina.ports.consent import Objection
from dreamina.ports.data_rights import JobKind, JobState, PrivacyJob, PrivacyRequest, RequestStatus, RequestType
from dreamina.ports.generation import JobQueue
from dreamina.ports.keys import KeyVault
from dreamina.ports.unit_of_work import UnitOfWork


class Fulfilment:
    """What happens to a request once it is accepted (its identity proven where that is asked)."""

    def __init__(
        self,
        *,
        records: RequestRecords,
        vault: KeyVault,
        clock: Clock,
        erasure_grace: timedelta,
        queue: JobQueue | None = None,
    ) -> None:
        self._records = records
        self._vault = vault
        self._clock = clock
        self._erasure_grace = erasure_grace
        self._queue = queue  # where a new export or erasure job is queued once its unit of work commits

    async def started(self, job: PrivacyJob | None) -> None:
        """Queue the job :meth:`carry_out` made, after its unit of work committed (a queued id whose row was never
        committed would be a job for nothing), if it is due now. A job due later (an erasure's grace period) is
        queued by the reaper once it is due, as is one whose queueing was lost (a crash, Redis down): a job held
        in a queue for weeks would hold its key, and an expedited erasure could not be queued at once."""
        if job is not None and self._queue is not None and job.run_after <= self._clock.now():
            await self._queue.enqueue(job.request_id)

    async def carry_out(
        self,
        uow: UnitOfWork,
        request: PrivacyRequest,
        details: Mapping[str, Any],
        now: datetime,
        *,
        grace: timedelta | None = None,
    ) -> PrivacyJob | None:
        """Carry out what can be done at once; hand the rest to a job or to staff. ``grace``: how long an erasure
        waits (default: the rules' grace period). Returns the job it made, for :meth:`started` after commit."""
        subject = request.subject_id
        job: PrivacyJob | None = None
        if request.type == RequestType.ACCESS:
            request.complete(now, {"report": f"/v1/privacy/requests/{request.id}/report"})
            note = "access report available"
        elif request.type == RequestType.EXPORT:
            job = new_job(request, JobKind.EXPORT, now, now)
            await uow.privacy_jobs.add(job)
            request.move_to(RequestStatus.PROCESSING, now)
            note = "export archive queued"
        elif request.type == RequestType.ERASURE:
            run_at = now + (self._erasure_grace if grace is None else grace)
            job = new_job(request, JobKind.ERASURE, run_at, now)
            await uow.privacy_jobs.add(job)
            request.schedule(run_at, now)
            note = "erasure scheduled"
        elif request.type == RequestType.RECTIFICATION:
            if details.get("free_text"):
                request.move_to(RequestStatus.IN_REVIEW, now)
                note = "free-text correction"
            else:
                request.complete(now)
                note = "corrections applied"
        elif request.type == RequestType.OBJECTION:
            purpose = str(details["purpose"])
            objected = not details.get("withdraw")
            # One register of objections for the whole service: the one every processing path consults.
            await uow.objections.put(Objection(subject, Purpose(purpose), objected, now))
            if objected:
                await objection_forces_improvement_off(uow, subject, Purpose(purpose), now)
            request.complete(now, {"objection_recorded" if objected else "objection_withdrawn": purpose})
            note = "objection register updated"
        else:  # restriction
            if details.get("action") == "lift":
                await uow.restrictions.lift(subject, now)
                request.complete(now, {"restriction": "lifted"})
            else:
                await uow.restrictions.restrict(subject, details.get("reason"), now)
                request.complete(now, {"restriction": "in_force"})
            note = "restriction register updated"
        await self._records.changed(uow, request, SYSTEM, note, now)
        return job

    async def complete(
        self, uow: UnitOfWork, request_id: UUID, outcome: Mapping[str, Any], note: str, *, pseudonymous: bool = False
    ) -> None:
        """Mark a request completed with ``outcome`` (inside the caller's unit of work); a request already closed
        (a resumed job) stays as it is. ``pseudonymous``: the subject was erased, so the audit trail (a legal hold)
        records the change under their pseudonym."""
        request = await uow.privacy_requests.get(request_id)
        if request is None or request.status.terminal:
            return
        now = self._clock.now()
        request.complete(now, outcome)
        audit_subject = erasure_pseudonym(self._vault, request.subject_id) if pseudonymous else None
        await self._records.changed(uow, request, SYSTEM, note, now, audit_subject=audit_subject)

    async def stop_job(self, uow: UnitOfWork, request_id: UUID, now: datetime) -> None:
        """A withdrawn or refused request's job, if it has not run to its end, never runs."""
        job = await uow.privacy_jobs.get(request_id)
        if job is not None and job.stop(now):
            await uow.privacy_jobs.update(job)


def new_job(request: PrivacyRequest, kind: JobKind, run_after: datetime, now: datetime) -> PrivacyJob:
    return PrivacyJob(
        request_id=request.id,
        subject_id=request.subject_id,
        kind=kind,
        state=JobState.PENDING,
        run_after=run_after,
        updated_at=now,
        completion_id=uuid.uuid4(),
    )
