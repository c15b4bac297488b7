"""Privacy requests (policy section 7): intake, proof of identity, the legal clock, staff review, the audit trail.

One class, :class:`PrivacyRequests`, holds the subject's use cases and the staff (admin) use cases; staff roles
and their HTTP routes come from the consent/staff module, which calls these with an authenticated staff id.
Every state change writes a :class:`RequestEvent` (the request's history) and an audit event, in the same unit of
work as the change.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from dreamina.domain.data_rights import clock as legal_clock
from dreamina.domain.data_rights.errors import (
    ExportExpired,
    ExtensionNotAllowed,
    IdentityProofFailed,
    RequestNotOpen,
)
from dreamina.domain.privacy.errors import InvalidInput, KeyDestroyed, NotFound
from dreamina.domain.privacy.jurisdictions import JurisdictionRule, JurisdictionTable
from dreamina.domain.privacy.keyring import Keyrings, SubjectKeyring
from dreamina.domain.privacy.pseudonyms import erasure_pseudonym
from dreamina.domain.privacy.validation import clean_text
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.audit import AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.consent import OBJECTABLE_PURPOSES, Objection
from dreamina.ports.data_rights import PrivacyJob, PrivacyRequest, ProfileCorrections, RequestEvent
from dreamina.ports.keys import KeyVault
from dreamina.ports.mail import Mailer, MailMessage
from dreamina.ports.security import PasswordHasher
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

REQUEST_TYPES = ("access", "export", "rectification", "erasure", "objection", "restriction")
SENSITIVE_TYPES = frozenset({"export", "erasure"})
AWAITING_VERIFICATION = "awaiting_verification"
OPEN_STATUSES = (AWAITING_VERIFICATION, "received", "in_review", "processing", "scheduled")
TERMINAL_STATUSES = ("completed", "rejected", "cancelled")
CORRECTABLE_FIELDS = ("email", "display_name", "birth_date")
MAX_FREE_TEXT = 2000
MAX_REASON = 500
CODE_PURPOSE = "privacy-request-code"


@dataclass(frozen=True, slots=True)
class RequestRules:
    """Tunables: one-time codes, the erasure grace period, the export link lifetime."""

    code_ttl: timedelta = timedelta(minutes=15)
    max_code_attempts: int = 5
    max_codes: int = 5
    erasure_grace: timedelta = timedelta(days=30)
    export_ttl: timedelta = timedelta(days=7)
    queue_limit: int = 200


@dataclass(frozen=True, slots=True)
class RequestView:
    """A request with its decrypted details and status history."""

    request: PrivacyRequest
    details: dict[str, Any]
    history: list[RequestEvent] = field(default_factory=list)


def _rule_for(jurisdictions: JurisdictionTable, code: str) -> JurisdictionRule:
    return jurisdictions.rules.get(code) or jurisdictions.fallback


class PrivacyRequests:
    """The data-rights request engine. Each method is one unit of work that commits itself."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        keyrings: Keyrings,
        passwords: PasswordHasher,
        mailer: Mailer,
        clock: Clock,
        jurisdictions: JurisdictionTable,
        corrections: ProfileCorrections,
        rules: RequestRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._keyrings = keyrings
        self._passwords = passwords
        self._mailer = mailer
        self._clock = clock
        self._jurisdictions = jurisdictions
        self._corrections = corrections
        self.rules = rules or RequestRules()

    def keyring(self, uow: UnitOfWork) -> SubjectKeyring:
        return self._keyrings(uow.subject_keys)

    # -- the subject's side -------------------------------------------------------------------------------------

    async def submit(
        self, subject_id: UUID, type: str, details: Mapping[str, Any] | None, *, password: str | None = None
    ) -> PrivacyRequest:
        """Receive a request. Sensitive types wait for proof of identity (the password given here, or a one-time
        code mailed now); an open request of the same type absorbs a duplicate instead of a second one."""
        if type not in REQUEST_TYPES:
            raise InvalidInput(f"type must be one of {', '.join(REQUEST_TYPES)}", field="type")
        cleaned = _clean_details(type, details or {})
        if password is not None and (not isinstance(password, str) or len(password) > 1024):
            raise InvalidInput("password must be a string", field="password")
        now = self._clock.now()

        async with self._uow() as uow:
            account = await uow.accounts.get(subject_id)
            if account is None:
                raise NotFound("account not found")
            password_hash = account.password_hash

        proven = False
        if type in SENSITIVE_TYPES and password is not None:
            proven = await asyncio.to_thread(self._passwords.verify, password_hash, password)
            if not proven:
                raise IdentityProofFailed("the password is wrong")

        outcome: dict[str, Any] = {}
        if type == "rectification" and cleaned.get("corrections"):
            # Structured corrections apply at once, with identity's own validation; nothing is stored on failure.
            changed = await self._corrections.correct(subject_id, cleaned["corrections"])
            outcome["fields_corrected"] = list(changed)

        async with self._uow() as uow:
            for existing in await uow.privacy_requests.list_for_subject(subject_id):
                if existing.type == type and existing.status in OPEN_STATUSES:
                    if outcome.get("fields_corrected"):
                        corrected = {*existing.outcome.get("fields_corrected", []), *outcome["fields_corrected"]}
                        existing.outcome = {**existing.outcome, "fields_corrected": sorted(corrected)}
                    await self._merge(uow, existing, cleaned, now)
                    if proven and existing.status == AWAITING_VERIFICATION:
                        # the duplicate carried the proof the open request was waiting for
                        await self._verified(uow, existing, now)
                    await uow.commit()
                    return existing

        code: str | None = None
        async with self._uow() as uow:
            account = await uow.accounts.get(subject_id)
            if account is None:
                raise NotFound("account not found")
            rule = self._jurisdictions.resolve(account.country, account.region)
            keyring = self.keyring(uow)
            request = PrivacyRequest(
                id=uuid.uuid4(),
                subject_id=subject_id,
                type=type,
                status="received",
                jurisdiction=rule.code,
                received_at=now,
                due_at=legal_clock.initial_due(rule, now),
                updated_at=now,
                details_ciphertext=await keyring.seal(subject_id, "privacy_request", json.dumps(cleaned)),
                outcome=outcome,
            )
            await uow.privacy_requests.add(request)
            await self._record(uow, request, "received", "subject", subject_id, None, now)
            if type in SENSITIVE_TYPES and not proven:
                code = self._issue_code(request, now)
                request.status = AWAITING_VERIFICATION
                if legal_clock.pauses_for_verification(rule):
                    request.paused_since = now
                await uow.privacy_requests.update(request)
                await self._record(uow, request, AWAITING_VERIFICATION, "system", None, "one-time code sent", now)
            else:
                if proven:
                    request.verified_at = now
                await self._proceed(uow, request, cleaned, now)
            email = await keyring.open(subject_id, "email", account.email_ciphertext)
            await uow.commit()
        if code is not None:
            await self._send_code(email, code)
        if request.status == "scheduled":
            await self._notify_erasure_scheduled(email, request)
        return request

    async def send_code(self, subject_id: UUID, request_id: UUID) -> None:
        """Mail a fresh one-time code for a request waiting for proof of identity (limited per request)."""
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._own(uow, subject_id, request_id)
            if request.status != AWAITING_VERIFICATION:
                raise RequestNotOpen("this request is not waiting for proof of identity")
            if request.codes_sent >= self.rules.max_codes:
                raise IdentityProofFailed("no more codes can be sent for this request; make a new request")
            code = self._issue_code(request, now)
            await uow.privacy_requests.update(request)
            email = await self.email_of(uow, subject_id)
            await uow.commit()
        if email is not None:
            await self._send_code(email, code)

    async def verify(
        self, subject_id: UUID, request_id: UUID, *, code: str | None = None, password: str | None = None
    ) -> PrivacyRequest:
        """Prove identity for a waiting request with the mailed code or the password; then it proceeds."""
        if (code is None) == (password is None):
            raise InvalidInput("give either code or password", field="code")
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._own(uow, subject_id, request_id)
            account = await uow.accounts.get(subject_id)
            if request.status != AWAITING_VERIFICATION or account is None:
                raise RequestNotOpen("this request is not waiting for proof of identity")
            if request.code_attempts >= self.rules.max_code_attempts:
                raise IdentityProofFailed("too many wrong attempts; ask for a new code")
        if password is not None:
            ok = await asyncio.to_thread(self._passwords.verify, account.password_hash, password)
        else:
            ok = (
                request.code_hash is not None
                and request.code_expires_at is not None
                and now < request.code_expires_at
                and hmac.compare_digest(request.code_hash, self._code_hash(request.id, str(code)))
            )
        async with self._uow() as uow:
            request = await self._own(uow, subject_id, request_id)
            if request.status != AWAITING_VERIFICATION:
                raise RequestNotOpen("this request is not waiting for proof of identity")
            if not ok:
                request.code_attempts += 1
                request.updated_at = now
                await uow.privacy_requests.update(request)
                await uow.commit()
                raise IdentityProofFailed("the code or password is wrong or has expired")
            await self._verified(uow, request, now)
            email = await self.email_of(uow, subject_id)
            await uow.commit()
        if request.status == "scheduled" and email is not None:
            await self._notify_erasure_scheduled(email, request)
        return request

    async def cancel(self, subject_id: UUID, request_id: UUID) -> PrivacyRequest:
        """The signed-in subject withdraws a request: an erasure in its grace period, or one not yet verified."""
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._own(uow, subject_id, request_id)
            if request.status not in (AWAITING_VERIFICATION, "scheduled", "in_review"):
                raise RequestNotOpen("this request can no longer be cancelled")
            await self._stop_job(uow, request.id, now)
            await self._set_status(uow, request, "cancelled", "subject", subject_id, "withdrawn by the subject", now)
            await uow.commit()
        return request

    async def list_for_subject(self, subject_id: UUID) -> list[PrivacyRequest]:
        async with self._uow() as uow:
            return await uow.privacy_requests.list_for_subject(subject_id)

    async def view(self, subject_id: UUID, request_id: UUID) -> RequestView:
        """One of the subject's own requests, with details and history (someone else's is simply not found)."""
        async with self._uow() as uow:
            request = await self._own(uow, subject_id, request_id)
            return RequestView(
                request=request,
                details=await self._details(uow, request),
                history=await uow.privacy_request_events.list_for_request(request.id),
            )

    async def archive_for(self, subject_id: UUID, request_id: UUID) -> str:
        """The object key of the subject's own export archive, while its link is live (7 days)."""
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._own(uow, subject_id, request_id)
            job = await uow.privacy_jobs.get(request.id)
        if job is None or job.kind != "export" or "archive_built" not in job.steps_done:
            raise NotFound("no export archive for this request")
        if job.archive_key is None or job.expires_at is None or now >= job.expires_at:
            raise ExportExpired("the download link has expired; make a new export request")
        return job.archive_key

    # -- staff (admin) side ------------------------------------------------------------------------------------

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
        if type is not None and type not in REQUEST_TYPES:
            raise InvalidInput(f"type must be one of {', '.join(REQUEST_TYPES)}", field="type")
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.privacy_requests.list_open(
                statuses=(status,) if status else OPEN_STATUSES,
                type=type,
                due_before=None if due_within is None else now + due_within,
                limit=self.rules.queue_limit,
            )
            found = [
                r
                for r in found
                if (flag is None or r.flag == flag) and (jurisdiction is None or r.jurisdiction == jurisdiction)
            ]
            for request in found:
                await self._staff_view_audit(uow, staff_id, request, "listed in the privacy-request queue", now)
            await uow.commit()
        return found

    async def staff_view(self, staff_id: UUID, request_id: UUID, reason: str) -> RequestView:
        """A staff member opens one request (details included); the view and its reason are audited."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._get(uow, request_id)
            await self._staff_view_audit(uow, staff_id, request, reason, now)
            view = RequestView(
                request=request,
                details=await self._details(uow, request),
                history=await uow.privacy_request_events.list_for_request(request.id),
            )
            await uow.commit()
        return view

    async def approve(self, staff_id: UUID, request_id: UUID, note: str) -> PrivacyRequest:
        """Staff carried out a request under review (e.g. a free-text correction): it is completed."""
        note = _reason(note)
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._get(uow, request_id)
            if request.status != "in_review":
                raise RequestNotOpen("only a request under review can be approved")
            request.outcome = {**request.outcome, "resolved_by_staff": True}
            await self._set_status(uow, request, "completed", "staff", staff_id, note, now)
            email = await self.email_of(uow, request.subject_id)
            await uow.commit()
        if email is not None:
            await self._mail(email, "Your privacy request was completed", note, "privacy_request_completed")
        return request

    async def reject(self, staff_id: UUID, request_id: UUID, reason: str) -> PrivacyRequest:
        """Refuse an open request; the reason is required and the subject is told."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._get(uow, request_id)
            if request.status not in OPEN_STATUSES:
                raise RequestNotOpen("the request is already closed")
            await self._stop_job(uow, request.id, now)
            await self._set_status(uow, request, "rejected", "staff", staff_id, reason, now)
            email = await self.email_of(uow, request.subject_id)
            await uow.commit()
        if email is not None:
            await self._mail(
                email,
                "Your privacy request was refused",
                f"We could not carry out your {request.type} request: {reason}\n"
                "You may complain to your data-protection authority.",
                "privacy_request_rejected",
            )
        return request

    async def extend(self, staff_id: UUID, request_id: UUID, reason: str) -> PrivacyRequest:
        """Extend the deadline once, as far as the jurisdiction allows, before it passes; the subject is told."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._get(uow, request_id)
            if request.status not in OPEN_STATUSES:
                raise RequestNotOpen("the request is already closed")
            if request.extended_at is not None:
                raise ExtensionNotAllowed("the deadline was already extended once")
            if request.due_at <= now:
                raise ExtensionNotAllowed("the deadline has passed; it can no longer be extended")
            new_due = legal_clock.extended_due(_rule_for(self._jurisdictions, request.jurisdiction), request.due_at)
            if new_due is None:
                raise ExtensionNotAllowed("the law of the subject's jurisdiction allows no extension")
            request.due_at = new_due
            request.extended_at = now
            request.extension_reason = reason
            request.flag = legal_clock.deadline_flag(new_due, now)
            await self._set_status(uow, request, request.status, "staff", staff_id, f"extended: {reason}", now)
            email = await self.email_of(uow, request.subject_id)
            await uow.commit()
        if email is not None:
            await self._mail(
                email,
                "We need more time for your privacy request",
                f"Your {request.type} request will be answered by {new_due.date().isoformat()}. Reason: {reason}\n",
                "privacy_request_extended",
            )
        return request

    async def expedite_erasure(self, staff_id: UUID, request_id: UUID, reason: str) -> PrivacyRequest:
        """Staff confirmed a child report: the erasure runs now instead of after the grace period."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._get(uow, request_id)
            job = await uow.privacy_jobs.get(request.id)
            if request.type != "erasure" or request.status != "scheduled" or job is None:
                raise RequestNotOpen("only a scheduled erasure can be expedited")
            request.scheduled_for = now
            job.run_after = now
            job.updated_at = now
            await uow.privacy_jobs.update(job)
            await self._set_status(uow, request, "scheduled", "staff", staff_id, f"expedited: {reason}", now)
            await uow.commit()
        return request

    async def create_for_child_report(self, staff_id: UUID, subject_id: UUID, reason: str) -> PrivacyRequest:
        """Open an erasure for a confirmed child report, due at once (no grace, no proof asked of the child)."""
        reason = _reason(reason)
        now = self._clock.now()
        async with self._uow() as uow:
            account = await uow.accounts.get(subject_id)
            if account is None:
                raise NotFound("account not found")
            rule = self._jurisdictions.resolve(account.country, account.region)
            request = PrivacyRequest(
                id=uuid.uuid4(),
                subject_id=subject_id,
                type="erasure",
                status="received",
                jurisdiction=rule.code,
                received_at=now,
                due_at=legal_clock.initial_due(rule, now),
                updated_at=now,
            )
            await uow.privacy_requests.add(request)
            await self._record(uow, request, "received", "staff", staff_id, f"child report: {reason}", now)
            await self._proceed(uow, request, {}, now, grace=timedelta(0))
            await uow.commit()
        return request

    async def flag_deadlines(self) -> dict[str, int]:
        """The hourly deadline monitor: flag open requests near or past due (each change once, audited)."""
        now = self._clock.now()
        counts = {"near_due": 0, "overdue": 0}
        async with self._uow() as uow:
            candidates = await uow.privacy_requests.list_open(
                statuses=OPEN_STATUSES, due_before=now + legal_clock.NEAR_DUE, limit=10_000
            )
            for request in candidates:
                if request.paused_since is not None:
                    continue  # the clock is stopped
                flag = legal_clock.deadline_flag(request.due_at, now)
                if flag is None or flag == request.flag:
                    continue
                request.flag = flag
                await self._set_status(uow, request, request.status, "system", None, f"deadline {flag}", now)
                counts[flag] += 1
            await uow.commit()
        return counts

    # -- shared by the export and erasure jobs -----------------------------------------------------------------

    async def complete(
        self, uow: UnitOfWork, request_id: UUID, outcome: Mapping[str, Any], note: str, *, pseudonymous: bool = False
    ) -> None:
        """Mark a request completed with ``outcome`` (inside the caller's unit of work). ``pseudonymous``: the
        subject was erased, so the audit trail (a legal hold) records the change under their pseudonym."""
        request = await uow.privacy_requests.get(request_id)
        if request is None or request.status in TERMINAL_STATUSES:
            return
        request.outcome = {**request.outcome, **outcome}
        audit_subject = erasure_pseudonym(self._vault, request.subject_id) if pseudonymous else None
        await self._set_status(
            uow, request, "completed", "system", None, note, self._clock.now(), audit_subject=audit_subject
        )

    # -- internals ---------------------------------------------------------------------------------------------

    async def _proceed(
        self,
        uow: UnitOfWork,
        request: PrivacyRequest,
        details: Mapping[str, Any],
        now: datetime,
        *,
        grace: timedelta | None = None,
    ) -> None:
        """Carry out what can be done at once; hand the rest to a job or to staff."""
        subject = request.subject_id
        if request.type == "access":
            request.outcome = {**request.outcome, "report": f"/v1/privacy/requests/{request.id}/report"}
            await self._set_status(uow, request, "completed", "system", None, "access report available", now)
        elif request.type == "export":
            await uow.privacy_jobs.add(_job(request, "export", now))
            await self._set_status(uow, request, "processing", "system", None, "export archive queued", now)
        elif request.type == "erasure":
            request.scheduled_for = now + (self.rules.erasure_grace if grace is None else grace)
            job = _job(request, "erasure", request.scheduled_for)
            await uow.privacy_jobs.add(job)
            await self._set_status(uow, request, "scheduled", "system", None, "erasure scheduled", now)
        elif request.type == "rectification":
            if details.get("free_text"):
                await self._set_status(uow, request, "in_review", "system", None, "free-text correction", now)
            else:
                await self._set_status(uow, request, "completed", "system", None, "corrections applied", now)
        elif request.type == "objection":
            purpose = str(details["purpose"])
            objected = not details.get("withdraw")
            # One register of objections for the whole service: the one every processing path consults.
            await uow.objections.put(Objection(subject, Purpose(purpose), objected, now))
            key = "objection_recorded" if objected else "objection_withdrawn"
            request.outcome = {**request.outcome, key: purpose}
            await self._set_status(uow, request, "completed", "system", None, "objection register updated", now)
        elif request.type == "restriction":
            if details.get("action") == "lift":
                await uow.restrictions.lift(subject, now)
                request.outcome = {**request.outcome, "restriction": "lifted"}
            else:
                await uow.restrictions.restrict(subject, details.get("reason"), now)
                request.outcome = {**request.outcome, "restriction": "in_force"}
            await self._set_status(uow, request, "completed", "system", None, "restriction register updated", now)

    async def _verified(self, uow: UnitOfWork, request: PrivacyRequest, now: datetime) -> None:
        """Identity proven: restart a stopped clock (the pause does not count) and carry the request out."""
        request.verified_at = now
        request.code_hash = None
        request.code_expires_at = None
        rule = _rule_for(self._jurisdictions, request.jurisdiction)
        if request.paused_since is not None:
            request.paused_seconds += int((now - request.paused_since).total_seconds())
            request.paused_since = None
            request.due_at = legal_clock.due_after_pause(rule, request.received_at, request.paused_seconds)
        await self._proceed(uow, request, await self._details(uow, request), now)

    async def _merge(self, uow: UnitOfWork, existing: PrivacyRequest, details: dict[str, Any], now: datetime) -> None:
        if existing.type == "rectification" and details.get("free_text"):
            current = await self._details(uow, existing)
            texts = [t for t in (current.get("free_text"), details["free_text"]) if t]
            current["free_text"] = "\n\n".join(texts)[: MAX_FREE_TEXT * 4]
            existing.details_ciphertext = await self.keyring(uow).seal(
                existing.subject_id, "privacy_request", json.dumps(current)
            )
        await self._set_status(
            uow, existing, existing.status, "subject", existing.subject_id, "duplicate request merged", now
        )

    async def _set_status(
        self,
        uow: UnitOfWork,
        request: PrivacyRequest,
        status: str,
        actor_kind: str,
        actor_id: UUID | None,
        note: str | None,
        now: datetime,
        *,
        audit_subject: UUID | None = None,
    ) -> None:
        request.status = status
        request.updated_at = now
        if status in TERMINAL_STATUSES:
            request.flag = None
        await uow.privacy_requests.update(request)
        await self._record(uow, request, status, actor_kind, actor_id, note, now, audit_subject=audit_subject)

    async def _record(
        self,
        uow: UnitOfWork,
        request: PrivacyRequest,
        status: str,
        actor_kind: str,
        actor_id: UUID | None,
        note: str | None,
        now: datetime,
        *,
        audit_subject: UUID | None = None,
    ) -> None:
        await uow.privacy_request_events.append(
            RequestEvent(
                id=ordered_id(),
                request_id=request.id,
                subject_id=request.subject_id,
                status=status,
                actor_kind=actor_kind,
                actor_id=actor_id,
                note=note,
                occurred_at=now,
            )
        )
        await uow.audit.append(
            AuditEvent(
                id=uuid.uuid4(),
                subject_id=audit_subject or request.subject_id,
                actor_kind=actor_kind,
                actor_id=actor_id,
                action=f"privacy_request.{status}",
                fields=(request.type,),
                reason=note,
                occurred_at=now,
            )
        )

    async def _staff_view_audit(
        self, uow: UnitOfWork, staff_id: UUID, request: PrivacyRequest, reason: str, now: datetime
    ) -> None:
        await uow.audit.append(
            AuditEvent(
                id=uuid.uuid4(),
                subject_id=request.subject_id,
                actor_kind="staff",
                actor_id=staff_id,
                action="staff_viewed_privacy_request",
                fields=(request.type,),
                reason=reason,
                occurred_at=now,
            )
        )

    async def _stop_job(self, uow: UnitOfWork, request_id: UUID, now: datetime) -> None:
        job = await uow.privacy_jobs.get(request_id)
        if job is not None and job.state == "pending":
            job.state = "cancelled"
            job.updated_at = now
            await uow.privacy_jobs.update(job)

    async def _own(self, uow: UnitOfWork, subject_id: UUID, request_id: UUID) -> PrivacyRequest:
        request = await uow.privacy_requests.get(request_id)
        if request is None or request.subject_id != subject_id:
            raise NotFound("no such request")
        return request

    async def _get(self, uow: UnitOfWork, request_id: UUID) -> PrivacyRequest:
        request = await uow.privacy_requests.get(request_id)
        if request is None:
            raise NotFound("no such request")
        return request

    async def _details(self, uow: UnitOfWork, request: PrivacyRequest) -> dict[str, Any]:
        if request.details_ciphertext is None:
            return {}
        try:
            opened = await self.keyring(uow).open(request.subject_id, "privacy_request", request.details_ciphertext)
        except KeyDestroyed:
            return {}
        details: dict[str, Any] = json.loads(opened)
        return details

    async def email_of(self, uow: UnitOfWork, subject_id: UUID) -> str | None:
        """The subject's email for a notice, or None once they are erased."""
        account = await uow.accounts.get(subject_id)
        if account is None:
            return None
        try:
            return await self.keyring(uow).open(subject_id, "email", account.email_ciphertext)
        except KeyDestroyed:
            return None

    def _code_hash(self, request_id: UUID, code: str) -> str:
        return self._vault.blind_index(CODE_PURPOSE, f"{request_id}:{code}")

    def _issue_code(self, request: PrivacyRequest, now: datetime) -> str:
        code = f"{secrets.randbelow(1_000_000):06d}"
        request.code_hash = self._code_hash(request.id, code)
        request.code_expires_at = now + self.rules.code_ttl
        request.code_attempts = 0
        request.codes_sent += 1
        request.updated_at = now
        return code

    async def _send_code(self, email: str, code: str) -> None:
        minutes = int(self.rules.code_ttl.total_seconds() // 60)
        await self._mail(
            email,
            "Your Dreamina verification code",
            f"Your code to confirm your privacy request is {code}. It expires in {minutes} minutes.\n"
            "If you did not ask for this, change your password.\n",
            "privacy_request_code",
        )

    async def _notify_erasure_scheduled(self, email: str, request: PrivacyRequest) -> None:
        when = request.scheduled_for.date().isoformat() if request.scheduled_for else "soon"
        await self._mail(
            email,
            "Your account will be erased",
            f"Your account and data will be erased on {when}. To stop it, sign in and cancel the request.\n",
            "erasure_scheduled",
        )

    async def _mail(self, to: str, subject: str, body: str, kind: str) -> None:
        await self._mailer.send(MailMessage(to=to, subject=subject, body=body, kind=kind))


_sequence = itertools.count()


def ordered_id() -> UUID:
    """A random-looking id that sorts by creation (time in the high bits), so a request's history keeps its order
    when several changes share one timestamp."""
    high = (time.time_ns() << 20 | next(_sequence) & 0xFFFFF) & ((1 << 64) - 1)
    return UUID(int=high << 64 | secrets.randbits(64))


def _job(request: PrivacyRequest, kind: str, run_after: datetime) -> PrivacyJob:
    return PrivacyJob(
        request_id=request.id,
        subject_id=request.subject_id,
        kind=kind,
        state="pending",
        run_after=run_after,
        updated_at=request.updated_at,
        completion_id=uuid.uuid4(),
    )


def _reason(value: str) -> str:
    reason = clean_text(value, field="reason", min_length=3, max_length=MAX_REASON)
    return reason


def _clean_details(type: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the ``details`` of a request of ``type``; returns the cleaned copy that is stored (encrypted)."""
    if not isinstance(details, Mapping):
        raise InvalidInput("details must be an object", field="details")
    allowed = {
        "access": {"note"},
        "export": {"note"},
        "erasure": {"reason"},
        "rectification": {"corrections", "free_text"},
        "objection": {"purpose", "withdraw"},
        "restriction": {"action", "reason"},
    }[type]
    unknown = set(details) - allowed
    if unknown:
        raise InvalidInput(f"details of a {type} request cannot hold {', '.join(sorted(unknown))}", field="details")
    cleaned: dict[str, Any] = {}
    for key in ("note", "reason"):
        if details.get(key) is not None:
            cleaned[key] = clean_text(details[key], field=f"details.{key}", max_length=MAX_REASON, multiline=True)
    if type == "rectification":
        corrections = details.get("corrections") or {}
        if not isinstance(corrections, Mapping):
            raise InvalidInput("details.corrections must be an object", field="details.corrections")
        unknown = set(corrections) - set(CORRECTABLE_FIELDS)
        if unknown:
            raise InvalidInput(
                f"only {', '.join(CORRECTABLE_FIELDS)} can be corrected here; describe others in free_text",
                field="details.corrections",
            )
        for name, value in corrections.items():
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"details.corrections.{name} must be a string", field="details.corrections")
        free_text = details.get("free_text")
        if free_text is not None:
            free_text = clean_text(free_text, field="details.free_text", max_length=MAX_FREE_TEXT, multiline=True)
        if not corrections and not free_text:
            raise InvalidInput("a rectification needs corrections or free_text", field="details")
        if corrections:
            cleaned["corrections"] = dict(corrections)
        if free_text:
            cleaned["free_text"] = free_text
    elif type == "objection":
        purpose = details.get("purpose")
        if purpose not in {p.value for p in Purpose}:
            raise InvalidInput("details.purpose must name a purpose of the policy", field="details.purpose")
        if purpose not in {p.value for p in OBJECTABLE_PURPOSES}:
            raise InvalidInput(
                "only analytics, product_improvement and marketing can be objected to; processing needed to "
                "provide the service, take payments or meet legal obligations cannot: ask for erasure or restriction",
                field="details.purpose",
            )
        cleaned["purpose"] = purpose
        if details.get("withdraw") is not None:
            if not isinstance(details["withdraw"], bool):
                raise InvalidInput("details.withdraw must be true or false", field="details.withdraw")
            cleaned["withdraw"] = details["withdraw"]
    elif type == "restriction":
        action = details.get("action", "restrict")
        if action not in ("restrict", "lift"):
            raise InvalidInput("details.action must be restrict or lift", field="details.action")
        cleaned["action"] = action
    return cleaned
