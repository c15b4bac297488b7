"""What a subject is told about their privacy requests, word for word: queued in the unit of work of the change it
reports (the mail outbox), delivered once that commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from dreamina.domain.privacy.mail import MailDelivery
from dreamina.ports.data_rights import PrivacyJob, PrivacyRequest
from dreamina.ports.mail import MailMessage
from dreamina.ports.unit_of_work import UnitOfWork


class RequestNotices:
    """The mail of the data-rights module: one method per notice, each queued in the caller's unit of work for the
    subject ``to`` names; :meth:`flush` after the commit delivers them."""

    def __init__(self, mail: MailDelivery, code_ttl: timedelta) -> None:
        self._mail = mail
        self._code_ttl = code_ttl

    async def flush(self) -> None:
        await self._mail.flush()

    async def code(self, uow: UnitOfWork, subject_id: UUID, email: str, code: str) -> None:
        minutes = int(self._code_ttl.total_seconds() // 60)
        await self._send(
            uow,
            subject_id,
            email,
            "Your Dreamina verification code",
            f"Your code to confirm your privacy request is {code}. It expires in {minutes} minutes.\n"
            "If you did not ask for this, change your password.\n",
            "privacy_request_code",
        )

    async def erasure_scheduled(self, uow: UnitOfWork, subject_id: UUID, email: str, request: PrivacyRequest) -> None:
        when = request.scheduled_for.date().isoformat() if request.scheduled_for else "soon"
        await self._send(
            uow,
            subject_id,
            email,
            "Your account will be erased",
            f"Your account and data will be erased on {when}. To stop it, sign in and cancel the request.\n",
            "erasure_scheduled",
        )

    async def erasure_expedited(self, uow: UnitOfWork, subject_id: UUID, email: str, reason: str) -> None:
        await self._send(
            uow,
            subject_id,
            email,
            "Your account is about to be erased",
            f"Your account and data will be erased now instead of at the end of the grace period. Reason: {reason}\n",
            "erasure_expedited",
        )

    async def completed(self, uow: UnitOfWork, subject_id: UUID, email: str, note: str) -> None:
        await self._send(
            uow, subject_id, email, "Your privacy request was completed", note, "privacy_request_completed"
        )

    async def rejected(
        self, uow: UnitOfWork, subject_id: UUID, email: str, request: PrivacyRequest, reason: str
    ) -> None:
        await self._send(
            uow,
            subject_id,
            email,
            "Your privacy request was refused",
            f"We could not carry out your {request.type} request: {reason}\n"
            "You may complain to your data-protection authority.",
            "privacy_request_rejected",
        )

    async def extended(
        self, uow: UnitOfWork, subject_id: UUID, email: str, request: PrivacyRequest, due_at: datetime, reason: str
    ) -> None:
        await self._send(
            uow,
            subject_id,
            email,
            "We need more time for your privacy request",
            f"Your {request.type} request will be answered by {due_at.date().isoformat()}. Reason: {reason}\n",
            "privacy_request_extended",
        )

    async def export_ready(self, uow: UnitOfWork, subject_id: UUID, email: str, job: PrivacyJob) -> None:
        expires = job.expires_at.date().isoformat() if job.expires_at else ""
        await self._send(
            uow,
            subject_id,
            email,
            "Your Dreamina data export is ready",
            f"Sign in and download it from your privacy requests before {expires}. Only you can download it.\n",
            "export_ready",
        )

    async def erasure_started(self, uow: UnitOfWork, subject_id: UUID, email: str, job: PrivacyJob) -> None:
        await self._send(
            uow,
            subject_id,
            email,
            "Your Dreamina account is being erased",
            "Your account and data are being erased now. This is the last message we send you. "
            f"Completion reference: {job.completion_id}\n",
            "erasure_started",
        )

    async def _send(self, uow: UnitOfWork, subject_id: UUID, to: str, subject: str, body: str, kind: str) -> None:
        await self._mail.queue(uow, MailMessage(to=to, subject=subject, body=body, kind=kind), subject_id=subject_id)
