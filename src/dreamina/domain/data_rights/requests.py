"""Privacy requests, the subject's side (policy section 7): intake, proof of identity, the legal clock's pause,
withdrawal, and the subject's own view of their requests.

Staff work the same requests through :class:`~dreamina.domain.data_rights.queue.PrivacyRequestQueue`; jobs carry out
exports and erasures (:mod:`~dreamina.domain.data_rights.jobs`). Every state change is recorded with its history
entry and audit event in the unit of work that makes it (:class:`~dreamina.domain.data_rights.records.RequestRecords`).
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from dreamina.domain.data_rights import clock as legal_clock
from dreamina.domain.data_rights.details import MAX_FREE_TEXT, clean_details, request_type
from dreamina.domain.data_rights.errors import ExportExpired, IdentityProofFailed, RequestNotOpen
from dreamina.domain.data_rights.fulfilment import Fulfilment
from dreamina.domain.data_rights.notices import RequestNotices
from dreamina.domain.data_rights.records import SYSTEM, Actor, RequestRecords, RequestRules, RequestView
from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.domain.privacy.jurisdictions import JurisdictionTable
from dreamina.domain.privacy.secrets import SecretChecks, SecretKind
from dreamina.ports.clock import Clock
from dreamina.ports.data_rights import (
    OPEN_STATUSES,
    JobKind,
    PrivacyJob,
    PrivacyRequest,
    ProfileCorrections,
    RequestStatus,
    RequestType,
)
from dreamina.ports.keys import KeyVault
from dreamina.ports.security import PasswordHasher
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

# Export and erasure hand over or destroy everything: they wait for proof that the subject is who they say.
SENSITIVE_TYPES = frozenset({RequestType.EXPORT, RequestType.ERASURE})
CODE_PURPOSE = "privacy-request-code"


class PrivacyRequests:
    """The subject's use cases. Each method is one unit of work that commits itself."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        records: RequestRecords,
        fulfilment: Fulfilment,
        notices: RequestNotices,
        vault: KeyVault,
        passwords: PasswordHasher,
        clock: Clock,
        jurisdictions: JurisdictionTable,
        corrections: ProfileCorrections,
        rules: RequestRules,
        checks: SecretChecks,
    ) -> None:
        self._uow = uow
        self._records = records
        self._fulfilment = fulfilment
        self._notices = notices
        self._vault = vault
        self._passwords = passwords
        self._clock = clock
        self._jurisdictions = jurisdictions
        self._corrections = corrections
        self.rules = rules
        self._checks = checks

    async def submit(
        self, subject_id: UUID, type: str, details: Mapping[str, Any] | None, *, password: str | None = None
    ) -> PrivacyRequest:
        """Receive a request. Sensitive types wait for proof of identity (the password given here, or a one-time
        code mailed now); an open request of the same type absorbs a duplicate instead of a second one."""
        kind = request_type(type)
        cleaned = clean_details(kind, details or {})
        if password is not None and (not isinstance(password, str) or len(password) > 1024):
            raise InvalidInput("password must be a string", field="password")
        now = self._clock.now()

        async with self._uow() as uow:
            account = await uow.accounts.get(subject_id)
            if account is None:
                raise NotFound("account not found")
            password_hash = account.password_hash

        proven = False
        if kind in SENSITIVE_TYPES and password is not None:
            proven = await self._password_matches(subject_id, password_hash, password)
            if not proven:
                raise IdentityProofFailed("the password is wrong")

        outcome: dict[str, Any] = {}
        if kind == RequestType.RECTIFICATION and cleaned.get("corrections"):
            # Structured corrections apply at once, with identity's own validation; nothing is stored on failure.
            changed = await self._corrections.correct(subject_id, cleaned["corrections"], password=password)
            outcome["fields_corrected"] = list(changed)

        async with self._uow() as uow:
            for existing in await uow.privacy_requests.list_for_subject(subject_id):
                if existing.type == kind and existing.status in OPEN_STATUSES:
                    if outcome.get("fields_corrected"):
                        corrected = {*existing.outcome.get("fields_corrected", []), *outcome["fields_corrected"]}
                        existing.outcome = {**existing.outcome, "fields_corrected": sorted(corrected)}
                    await self._merge(uow, existing, cleaned, now)
                    proof_job = None
                    if proven and existing.status == RequestStatus.AWAITING_VERIFICATION:
                        # the duplicate carried the proof the open request was waiting for
                        proof_job = await self._verified(uow, existing, now)
                    await uow.commit()
                    await self._fulfilment.started(proof_job)
                    return existing

        code: str | None = None
        job: PrivacyJob | None = None
        async with self._uow() as uow:
            account = await uow.accounts.get(subject_id)
            if account is None:
                raise NotFound("account not found")
            rule = self._jurisdictions.resolve(account.country, account.region)
            request = PrivacyRequest(
                id=uuid.uuid4(),
                subject_id=subject_id,
                type=kind,
                status=RequestStatus.RECEIVED,
                jurisdiction=rule.code,
                received_at=now,
                due_at=legal_clock.initial_due(rule, now),
                updated_at=now,
                details_ciphertext=await self._records.seal_details(uow, subject_id, cleaned),
                outcome=outcome,
            )
            await self._records.opened(uow, request, Actor.subject(subject_id), None)
            if kind in SENSITIVE_TYPES and not proven:
                code = self._issue_code(request, now)
                request.move_to(RequestStatus.AWAITING_VERIFICATION, now)
                if legal_clock.pauses_for_verification(rule):
                    request.paused_since = now
                await self._records.changed(uow, request, SYSTEM, "one-time code sent", now)
            else:
                if proven:
                    request.verified_at = now
                job = await self._fulfilment.carry_out(uow, request, cleaned, now)
            email = await self._records.keyring(uow).open(subject_id, "email", account.email_ciphertext)
            if code is not None:
                await self._notices.code(uow, subject_id, email, code)
            if request.status == RequestStatus.SCHEDULED:
                await self._notices.erasure_scheduled(uow, subject_id, email, request)
            await uow.commit()
        await self._fulfilment.started(job)
        await self._notices.flush()
        return request

    async def send_code(self, subject_id: UUID, request_id: UUID) -> None:
        """Mail a fresh one-time code for a request waiting for proof of identity (limited per request)."""
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._records.own(uow, subject_id, request_id)
            _ensure_awaiting_proof(request)
            if request.codes_sent >= self.rules.max_codes:
                raise IdentityProofFailed("no more codes can be sent for this request; make a new request")
            code = self._issue_code(request, now)
            await uow.privacy_requests.update(request)
            email = await self._records.email_of(uow, subject_id)
            if email is not None:
                await self._notices.code(uow, subject_id, email, code)
            await uow.commit()
        await self._notices.flush()

    async def verify(
        self, subject_id: UUID, request_id: UUID, *, code: str | None = None, password: str | None = None
    ) -> PrivacyRequest:
        """Prove identity for a waiting request with the mailed code or the password; then it proceeds."""
        if (code is None) == (password is None):
            raise InvalidInput("give either code or password", field="code")
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._records.own(uow, subject_id, request_id)
            account = await uow.accounts.get(subject_id)
            if account is None:
                raise RequestNotOpen("this request is not waiting for proof of identity")
            _ensure_awaiting_proof(request)
            if request.code_attempts >= self.rules.max_code_attempts:
                raise IdentityProofFailed("too many wrong attempts; ask for a new code")
        if password is not None:
            ok = await self._password_matches(subject_id, account.password_hash, password)
        else:
            # counted before it is looked at: a burst of guesses checks at most the throttle's limit
            await self._checks.admit(SecretKind.PRIVACY_CODE, str(subject_id))
            ok = (
                request.code_hash is not None
                and request.code_expires_at is not None
                and now < request.code_expires_at
                and hmac.compare_digest(request.code_hash, self._code_hash(request.id, str(code)))
            )
        async with self._uow() as uow:
            request = await self._records.own(uow, subject_id, request_id)
            _ensure_awaiting_proof(request)
            if not ok:
                request.proof_failed(now)
                await uow.privacy_requests.update(request)
                await uow.commit()
                raise IdentityProofFailed("the code or password is wrong or has expired")
            job = await self._verified(uow, request, now)
            if code is not None:
                await self._checks.passed(SecretKind.PRIVACY_CODE, str(subject_id))
            email = await self._records.email_of(uow, subject_id)
            if request.status == RequestStatus.SCHEDULED and email is not None:
                await self._notices.erasure_scheduled(uow, subject_id, email, request)
            await uow.commit()
        await self._fulfilment.started(job)
        await self._notices.flush()
        return request

    async def cancel(self, subject_id: UUID, request_id: UUID) -> PrivacyRequest:
        """The signed-in subject withdraws a request: an erasure in its grace period, or one not yet verified."""
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._records.own(uow, subject_id, request_id)
            request.cancel(now)
            await self._fulfilment.stop_job(uow, request.id, now)
            await self._records.changed(uow, request, Actor.subject(subject_id), "withdrawn by the subject", now)
            await uow.commit()
        return request

    async def list_for_subject(self, subject_id: UUID) -> list[PrivacyRequest]:
        async with self._uow() as uow:
            return await uow.privacy_requests.list_for_subject(subject_id)

    async def view(self, subject_id: UUID, request_id: UUID) -> RequestView:
        """One of the subject's own requests, with details and history (someone else's is simply not found)."""
        async with self._uow() as uow:
            return await self._records.view(uow, await self._records.own(uow, subject_id, request_id))

    async def archive_for(self, subject_id: UUID, request_id: UUID) -> str:
        """The object key of the subject's own export archive, while its link is live (7 days)."""
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._records.own(uow, subject_id, request_id)
            job = await uow.privacy_jobs.get(request.id)
        if job is None or job.kind != JobKind.EXPORT or "archive_built" not in job.steps_done:
            raise NotFound("no export archive for this request")
        if job.archive_key is None or job.expires_at is None or now >= job.expires_at:
            raise ExportExpired("the download link has expired; make a new export request")
        return job.archive_key

    # -- internals ---------------------------------------------------------------------------------------------

    async def _password_matches(self, subject_id: UUID, password_hash: str, password: str) -> bool:
        """Check the subject's password, counted first by the one throttle for secrets (the budget re-authentication
        shares): past the limit nothing is verified and ``TooManyAttempts`` (429) answers."""
        await self._checks.admit(SecretKind.PASSWORD, str(subject_id))
        if not await asyncio.to_thread(self._passwords.verify, password_hash, password):
            return False
        await self._checks.passed(SecretKind.PASSWORD, str(subject_id))
        return True

    async def _verified(self, uow: UnitOfWork, request: PrivacyRequest, now: datetime) -> PrivacyJob | None:
        """Identity proven: restart a stopped clock (the pause does not count) and carry the request out."""
        request.verified_at = now
        request.code_hash = None
        request.code_expires_at = None
        rule = legal_clock.rule_for(self._jurisdictions, request.jurisdiction)
        if request.paused_since is not None:
            request.paused_seconds += int((now - request.paused_since).total_seconds())
            request.paused_since = None
            request.due_at = legal_clock.due_after_pause(rule, request.received_at, request.paused_seconds)
        return await self._fulfilment.carry_out(uow, request, await self._records.details(uow, request), now)

    async def _merge(self, uow: UnitOfWork, existing: PrivacyRequest, details: dict[str, Any], now: datetime) -> None:
        if existing.type == RequestType.RECTIFICATION and details.get("free_text"):
            current = await self._records.details(uow, existing)
            texts = [t for t in (current.get("free_text"), details["free_text"]) if t]
            current["free_text"] = "\n\n".join(texts)[: MAX_FREE_TEXT * 4]
            existing.details_ciphertext = await self._records.seal_details(uow, existing.subject_id, current)
        existing.move_to(existing.status, now)
        await self._records.changed(uow, existing, Actor.subject(existing.subject_id), "duplicate request merged", now)

    def _code_hash(self, request_id: UUID, code: str) -> str:
        return self._vault.blind_index(CODE_PURPOSE, f"{request_id}:{code}")

    def _issue_code(self, request: PrivacyRequest, now: datetime) -> str:
        code = f"{secrets.randbelow(1_000_000):06d}"
        request.issue_code(self._code_hash(request.id, code), now + self.rules.code_ttl, now)
        return code


def _ensure_awaiting_proof(request: PrivacyRequest) -> None:
    if request.status != RequestStatus.AWAITING_VERIFICATION:
        raise RequestNotOpen("this request is not waiting for proof of identity")
