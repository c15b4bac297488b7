"""The record-keeping every data-rights use case shares: a request's change is stored with its history entry
(:class:`RequestEvent`) and an audit event, in the unit of work that makes the change; staff views are audited; a
request's sealed details and the subject's email are opened here.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from dreamina.domain.privacy.errors import KeyDestroyed, NotFound
from dreamina.domain.privacy.keyring import Keyrings, SubjectKeyring
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.data_rights import PrivacyRequest, RequestEvent
from dreamina.ports.processor_notices import ProcessorNotification
from dreamina.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class RequestRules:
    """Tunables: one-time codes, the erasure grace period, the export link lifetime, the staff queue's length."""

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
    processor_notifications: list[ProcessorNotification] = field(default_factory=list)  # an erasure's notices


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: the subject, a staff member, or the system (a job, the deadline monitor)."""

    kind: ActorKind
    id: UUID | None = None

    @classmethod
    def subject(cls, subject_id: UUID) -> Actor:
        return cls(ActorKind.SUBJECT, subject_id)

    @classmethod
    def staff(cls, staff_id: UUID) -> Actor:
        return cls(ActorKind.STAFF, staff_id)


SYSTEM = Actor(ActorKind.SYSTEM)


class RequestRecords:
    """Reads and writes requests for the use cases, inside the unit of work each of them opens."""

    def __init__(self, keyrings: Keyrings) -> None:
        self._keyrings = keyrings

    def keyring(self, uow: UnitOfWork) -> SubjectKeyring:
        return self._keyrings(uow.subject_keys)

    async def get(self, uow: UnitOfWork, request_id: UUID) -> PrivacyRequest:
        request = await uow.privacy_requests.get(request_id)
        if request is None:
            raise NotFound("no such request")
        return request

    async def own(self, uow: UnitOfWork, subject_id: UUID, request_id: UUID) -> PrivacyRequest:
        """One of the subject's own requests; someone else's is simply not found."""
        request = await uow.privacy_requests.get(request_id)
        if request is None or request.subject_id != subject_id:
            raise NotFound("no such request")
        return request

    async def opened(self, uow: UnitOfWork, request: PrivacyRequest, actor: Actor, note: str | None) -> None:
        """Store a new request and the first entry of its history."""
        await uow.privacy_requests.add(request)
        await self._record(uow, request, actor, note, request.updated_at)

    async def changed(
        self,
        uow: UnitOfWork,
        request: PrivacyRequest,
        actor: Actor,
        note: str | None,
        now: datetime,
        *,
        audit_subject: UUID | None = None,
    ) -> None:
        """Store the request as it now stands, with a history entry and an audit event under its current status.
        ``audit_subject``: whom the audit event names (an erased subject's pseudonym)."""
        await uow.privacy_requests.update(request)
        await self._record(uow, request, actor, note, now, audit_subject=audit_subject)

    async def _record(
        self,
        uow: UnitOfWork,
        request: PrivacyRequest,
        actor: Actor,
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
                status=request.status,
                actor_kind=actor.kind,
                actor_id=actor.id,
                note=note,
                occurred_at=now,
            )
        )
        await uow.audit.append(
            AuditEvent(
                id=uuid.uuid4(),
                subject_id=audit_subject or request.subject_id,
                actor_kind=actor.kind,
                actor_id=actor.id,
                action=f"privacy_request.{request.status}",
                fields=(request.type.value,),
                reason=note,
                occurred_at=now,
            )
        )

    async def staff_viewed(
        self, uow: UnitOfWork, staff_id: UUID, request: PrivacyRequest, reason: str, now: datetime
    ) -> None:
        await uow.audit.append(
            AuditEvent(
                id=uuid.uuid4(),
                subject_id=request.subject_id,
                actor_kind=ActorKind.STAFF,
                actor_id=staff_id,
                action="staff_viewed_privacy_request",
                fields=(request.type.value,),
                reason=reason,
                occurred_at=now,
            )
        )

    async def view(self, uow: UnitOfWork, request: PrivacyRequest) -> RequestView:
        return RequestView(
            request=request,
            details=await self.details(uow, request),
            history=await uow.privacy_request_events.list_for_request(request.id),
            processor_notifications=await uow.processor_notifications.list_for_request(request.id),
        )

    async def details(self, uow: UnitOfWork, request: PrivacyRequest) -> dict[str, Any]:
        """The request's details, or nothing once the subject's key is destroyed."""
        if request.details_ciphertext is None:
            return {}
        try:
            opened = await self.keyring(uow).open(request.subject_id, "privacy_request", request.details_ciphertext)
        except KeyDestroyed:
            return {}
        details: dict[str, Any] = json.loads(opened)
        return details

    async def seal_details(self, uow: UnitOfWork, subject_id: UUID, details: dict[str, Any]) -> bytes:
        return await self.keyring(uow).seal(subject_id, "privacy_request", json.dumps(details))

    async def email_of(self, uow: UnitOfWork, subject_id: UUID) -> str | None:
        """The subject's email for a notice, or None once they are erased."""
        account = await uow.accounts.get(subject_id)
        if account is None:
            return None
        try:
            return await self.keyring(uow).open(subject_id, "email", account.email_ciphertext)
        except KeyDestroyed:
            return None


_sequence = itertools.count()


def ordered_id() -> UUID:
    """A random-looking id that sorts by creation (time in the high bits), so a request's history keeps its order
    when several changes share one timestamp."""
    high = (time.time_ns() << 20 | next(_sequence) & 0xFFFFF) & ((1 << 64) - 1)
    return UUID(int=high << 64 | secrets.randbits(64))
