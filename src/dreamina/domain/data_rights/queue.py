"""Privacy requests, the staff side: the queue (soonest due first), audited views, and the decisions a privacy
officer or admin makes (approve, reject, extend, expedite an erasure, open one for a confirmed child report).

Staff roles are checked where staff come in (the HTTP guards, the CLI); these use cases take the authenticated staff
member's id. Every list and view is audited as a staff access; every decision carries a reason the subject is told.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from uuid import UUID

from dreamina.domain.data_rights import clock as legal_clock
from dreamina.domain.data_rights.details import clean_reason, request_type
from dreamina.domain.data_rights.errors import ExtensionNotAllowed, RequestNotOpen
from dreamina.domain.data_rights.fulfilment import Fulfilment
from dreamina.domain.data_rights.notices import RequestNotices
from dreamina.domain.data_rights.records import Actor, RequestRecords, RequestRules, RequestView
from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.domain.privacy.jurisdictions import JurisdictionTable
from dreamina.ports.clock import Clock
from dreamina.ports.data_rights import OPEN_STATUSES, PrivacyRequest, RequestStatus, RequestType
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class PrivacyRequestQueue:
    """The staff's use cases over privacy requests. Each method is one unit of work that commits itself."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        records: RequestRecords,
        fulfilment: Fulfilment,
        notices: RequestNotices,
        clock: Clock,
        jurisdictions: JurisdictionTable,
        rules: RequestRules,
    ) -> None:
        self._uow = uow
        self._records = records
        self._fulfilment = fulfilment
        self._notices = notices
        self._clock = clock
        self._jurisdictions = jurisdictions
        self.rules = rules

    async def queue(
        self,
        staff_id: UUID,
        *,
        status: str | None = None,
        type: str | None = None,
        due_within: timedelta | None = None,
        flag: str | None = None,
        jurisdiction: str | None = None,
    ) -> list[PrivacyRequest]:
        """Open requests, soonest due first, filtered; every request shown is recorded as a staff view."""
        if status is not None and status not in OPEN_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(OPEN_STATUSES)}", field="status")
        kind = None if type is None else request_type(type)
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.privacy_requests.list_open(
                statuses=(RequestStatus(status),) if status else OPEN_STATUSES,
                type=kind,
                due_before=None if due_within is None else now + due_within,
                limit=self.rules.queue_limit,
            )
            found = [
                r
                for r in found
                if (flag is None or r.flag == flag) and (jurisdiction is None or r.jurisdiction == jurisdiction)
            ]
            for request in found:
                await self._records.staff_viewed(uow, staff_id, request, "listed in the privacy-request queue", now)
            await uow.commit()
        return found

    async def staff_view(self, staff_id: UUID, request_id: UUID, reason: str) -> RequestView:
        """A staff member opens one request (details included); the view and its reason are audited."""
        reason = clean_reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._records.get(uow, request_id)
            await self._records.staff_viewed(uow, staff_id, request, reason, now)
            view = await self._records.view(uow, request)
            await uow.commit()
        return view

    async def approve(self, staff_id: UUID, request_id: UUID, note: str) -> PrivacyRequest:
        """Staff carried out a request under review (e.g. a free-text correction): it is completed."""
        note = clean_reason(note)
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._records.get(uow, request_id)
            request.approve(now)
            await self._records.changed(uow, request, Actor.staff(staff_id), note, now)
            email = await self._records.email_of(uow, request.subject_id)
            if email is not None:
                await self._notices.completed(uow, request.subject_id, email, note)
            await uow.commit()
        await self._notices.flush()
        return request

    async def reject(self, staff_id: UUID, request_id: UUID, reason: str) -> PrivacyRequest:
        """Refuse an open request; the reason is required and the subject is told."""
        reason = clean_reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._records.get(uow, request_id)
            request.move_to(RequestStatus.REJECTED, now)
            await self._fulfilment.stop_job(uow, request.id, now)
            await self._records.changed(uow, request, Actor.staff(staff_id), reason, now)
            email = await self._records.email_of(uow, request.subject_id)
            if email is not None:
                await self._notices.rejected(uow, request.subject_id, email, request, reason)
            await uow.commit()
        await self._notices.flush()
        return request

    async def extend(self, staff_id: UUID, request_id: UUID, reason: str) -> PrivacyRequest:
        """Extend the deadline once, as far as the jurisdiction allows, before it passes; the subject is told."""
        reason = clean_reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._records.get(uow, request_id)
            request.ensure_open()
            if request.extended_at is not None:
                raise ExtensionNotAllowed("the deadline was already extended once")
            if request.due_at <= now:
                raise ExtensionNotAllowed("the deadline has passed; it can no longer be extended")
            rule = legal_clock.rule_for(self._jurisdictions, request.jurisdiction)
            new_due = legal_clock.extended_due(rule, request.due_at)
            if new_due is None:
                raise ExtensionNotAllowed("the law of the subject's jurisdiction allows no extension")
            request.extend(new_due, reason, legal_clock.deadline_flag(new_due, now), now)
            await self._records.changed(uow, request, Actor.staff(staff_id), f"extended: {reason}", now)
            email = await self._records.email_of(uow, request.subject_id)
            if email is not None:
                await self._notices.extended(uow, request.subject_id, email, request, new_due, reason)
            await uow.commit()
        await self._notices.flush()
        return request

    async def expedite_erasure(self, staff_id: UUID, request_id: UUID, reason: str) -> PrivacyRequest:
        """Run a scheduled erasure now instead of after its grace period (e.g. the subject asked us to): the request
        and its job become due at once and is queued, and the subject is told why."""
        reason = clean_reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._records.get(uow, request_id)
            job = await uow.privacy_jobs.get(request.id)
            if job is None:
                raise RequestNotOpen("only a scheduled erasure can be expedited")
            request.expedite(now)
            job.run_at(now, now)
            await uow.privacy_jobs.update(job)
            await self._records.changed(uow, request, Actor.staff(staff_id), f"expedited: {reason}", now)
            email = await self._records.email_of(uow, request.subject_id)
            if email is not None:
                await self._notices.erasure_expedited(uow, request.subject_id, email, reason)
            await uow.commit()
        await self._fulfilment.started(job)
        await self._notices.flush()
        return request

    async def create_for_child_report(self, staff_id: UUID, subject_id: UUID, reason: str) -> PrivacyRequest:
        """Open an erasure for a confirmed child report, due at once (no grace, no proof asked of the child)."""
        reason = clean_reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            account = await uow.accounts.get(subject_id)
            if account is None:
                raise NotFound("account not found")
            rule = self._jurisdictions.resolve(account.country, account.region)
            request = PrivacyRequest(
                id=uuid.uuid4(),
                subject_id=subject_id,
                type=RequestType.ERASURE,
                status=RequestStatus.RECEIVED,
                jurisdiction=rule.code,
                received_at=now,
                due_at=legal_clock.initial_due(rule, now),
                updated_at=now,
            )
            await self._records.opened(uow, request, Actor.staff(staff_id), f"child report: {reason}")
            job = await self._fulfilment.carry_out(uow, request, {}, now, grace=timedelta(0))
            await uow.commit()
        await self._fulfilment.started(job)
        return request
