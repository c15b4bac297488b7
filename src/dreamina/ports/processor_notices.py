"""Outbound data-subject-request notifications: what we asked each processor that received an erased subject's data.

One notification per (request, processor). The row names nobody: the processor's own references to the subject
stay in the erasure job (:attr:`~dreamina.ports.data_rights.PrivacyJob.processor_calls`) and are forgotten when
the job ends; this row keeps how the processor was told, when, with what outcome, after how many attempts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


class NoticeMethod(enum.StrEnum):
    API = "api"  # the processor's own deletion call (Stripe, Runway)
    WEBHOOK = "webhook"  # a signed POST to the processor's DSR endpoint
    EMAIL = "email"  # a message to the processor's privacy contact
    NONE = "none"  # no route configured: staff must act (given up at once, so it shows)


class NoticeStatus(enum.StrEnum):
    OPEN = "open"  # not yet confirmed; retried with back-off
    DONE = "done"  # the processor confirmed (or the message was handed to the outbox)
    GIVEN_UP = "given_up"  # attempts or age ran out: staff see it


@dataclass(frozen=True, slots=True)
class ProcessorRoute:
    """How one processor is told (from ``DREAMINA_PROCESSOR_ROUTES``)."""

    processor: str
    method: NoticeMethod
    url: str = ""  # webhook
    secret: str = ""  # webhook: the HMAC-SHA256 key
    email: str = ""  # email: the privacy contact


@dataclass(slots=True)
class ProcessorNotification:
    id: UUID
    request_id: UUID
    completion_id: UUID  # the erasure's proof (kept after the request's records are gone)
    processor: str
    method: NoticeMethod
    status: NoticeStatus
    idempotency_key: str  # the same on every attempt: vendors that accept one fold repeats together
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    last_attempt_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: str | None = None  # deleted, not_found, acknowledged, queued, no_route, gave_up
    last_error: str | None = None  # an error class name or HTTP status, never a message body


class ProcessorNotificationRepository(Protocol):
    async def add(self, notification: ProcessorNotification) -> None:
        """Raises ``Conflict`` if the request already has a notification for this processor."""

    async def update(self, notification: ProcessorNotification) -> None: ...

    async def list_for_request(self, request_id: UUID) -> list[ProcessorNotification]:
        """Oldest first, then by processor."""

    async def list_by_status(self, statuses: tuple[NoticeStatus, ...], limit: int) -> list[ProcessorNotification]:
        """Notifications in ``statuses``, oldest first."""


class ProcessorNotificationStores(Protocol):
    processor_notifications: ProcessorNotificationRepository


class WebhookSender(Protocol):
    async def post(self, route: ProcessorRoute, body: bytes, idempotency_key: str) -> int:
        """POST ``body`` signed for ``route``; returns the HTTP status; raises on a network failure."""
        ...
