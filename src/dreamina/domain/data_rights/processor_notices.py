"""Outbound data-subject-request notifications (policy section 7): every processor that received an erased subject's
data is told, by its deletion API where it has one, else by a signed webhook or a message to its privacy contact.

Each notification is one row per (request, processor), planned in the same unit of work that records the saga's
``processors_collected`` step, so a kill never loses one. A failed attempt is retried with exponential back-off
and jitter, capped, until it succeeds or gives up (too many attempts, or too old): given-up notifications stay
listed for staff. What goes out is only what the processor needs to find the subject: its own references (customer
or task ids from the disclosure ledger), the request's idempotency key and the date; never the subject's address.
Every attempt carries the notification's idempotency key (the same on each attempt), so a worker killed between a
vendor's answer and our record repeats a request the vendor folds together; a message to a privacy contact is
queued in the unit of work that marks the notification done, so it is queued exactly once.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from dreamina import failpoints
from dreamina.domain.privacy.errors import Conflict, InvalidInput
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.ports.clock import Clock
from dreamina.ports.data_rights import PrivacyJob, ProcessorEraser
from dreamina.ports.mail import MailMessage
from dreamina.ports.processor_notices import (
    NoticeMethod,
    NoticeStatus,
    ProcessorNotification,
    ProcessorRoute,
    WebhookSender,
)
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

Hold = Callable[[UnitOfWork], Awaitable[None]]
OPEN_OR_GIVEN_UP = (NoticeStatus.OPEN, NoticeStatus.GIVEN_UP)


@dataclass(frozen=True, slots=True)
class NoticeRules:
    max_attempts: int = 8
    max_age: timedelta = timedelta(hours=72)
    first_retry: timedelta = timedelta(minutes=1)
    longest_retry: timedelta = timedelta(hours=6)
    staff_list_limit: int = 500

    def retry_after(self, attempts: int, rng: random.Random) -> timedelta:
        """Back-off after the ``attempts``-th failure: ``first_retry * 2**(attempts-1)``, capped at
        ``longest_retry``, then jittered to between half and all of it (workers retrying together spread out)."""
        ceiling = min(self.first_retry * (1 << min(max(0, attempts - 1), 20)), self.longest_retry)
        return ceiling * (0.5 + rng.random() / 2)


class ProcessorNotices:
    """Plans, sends and lists the notifications; the erasure saga drives them (:mod:`.jobs`)."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        erasers: Mapping[str, ProcessorEraser],
        routes: Mapping[str, ProcessorRoute],
        webhooks: WebhookSender,
        mail: MailDelivery,
        clock: Clock,
        rules: NoticeRules | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._uow = uow
        self._erasers = dict(erasers)
        self._routes = dict(routes)
        self._webhooks = webhooks
        self._mail = mail
        self._clock = clock
        self.rules = rules or NoticeRules()
        self._rng = rng or random.Random()

    def method_for(self, processor: str) -> NoticeMethod:
        """The deletion API where the processor has one, else its configured route, else none."""
        eraser = self._erasers.get(processor)
        if eraser is not None and getattr(eraser, "supports_deletion", True):
            return NoticeMethod.API
        route = self._routes.get(processor)
        return NoticeMethod.NONE if route is None else route.method

    async def plan(self, uow: UnitOfWork, job: PrivacyJob, processors: Iterable[str]) -> None:
        """One notification per processor, in the caller's unit of work (the saga's step record)."""
        now = self._clock.now()
        for processor in dict.fromkeys(processors):
            method = self.method_for(processor)
            notification = ProcessorNotification(
                id=uuid.uuid4(),
                request_id=job.request_id,
                completion_id=job.completion_id,
                processor=processor,
                method=method,
                status=NoticeStatus.OPEN,
                idempotency_key=f"dsr-{job.completion_id}-{processor}",
                created_at=now,
                next_attempt_at=now,
            )
            if method is NoticeMethod.NONE:  # nothing can tell them: staff see it at once
                notification.status, notification.outcome, notification.finished_at = (
                    NoticeStatus.GIVEN_UP,
                    "no_route",
                    now,
                )
            try:
                await uow.processor_notifications.add(notification)
            except Conflict:
                pass  # planned by a run that died before recording its step

    async def attempt_due(self, job: PrivacyJob, hold: Hold) -> list[ProcessorNotification]:
        """One pass: try every open notification of the job that is due; each outcome is recorded (with the job's
        per-reference progress) in a unit of work that ``hold`` checks the job's lease in. Returns them all."""
        async with self._uow() as uow:
            notifications = await uow.processor_notifications.list_for_request(job.request_id)
        calls = [dict(c) for c in job.processor_calls]
        for notification in notifications:
            if notification.status is not NoticeStatus.OPEN or notification.next_attempt_at > self._clock.now():
                continue
            mine = [c for c in calls if c["processor"] == notification.processor]
            done = await self._attempt(notification, mine)
            async with self._uow() as uow:
                await hold(uow)
                current = await uow.privacy_jobs.get(job.request_id)
                if current is not None:
                    current.processor_calls = tuple(calls)
                    await uow.privacy_jobs.update(current)
                if notification.method is NoticeMethod.EMAIL and done:
                    await self._queue_mail(uow, notification, mine)
                await uow.processor_notifications.update(notification)
                await uow.commit()
        job.processor_calls = tuple(calls)
        await self._mail.flush()
        return notifications

    async def _attempt(self, notification: ProcessorNotification, calls: list[dict[str, Any]]) -> bool:
        """One attempt; the notification is changed (not stored). True if it succeeded."""
        now = self._clock.now()
        notification.attempts += 1
        notification.last_attempt_at = now
        try:
            if notification.method is NoticeMethod.API:
                outcome = await self._delete(notification.processor, calls)
            elif notification.method is NoticeMethod.WEBHOOK:
                outcome = await self._post(notification, calls)
            else:
                outcome = "queued"  # the message is queued when the outcome is recorded
            failpoints.hit("privacy.notice.after_send", notification.processor)
        except Exception as exc:
            self._failed(notification, exc, now)
            return False
        notification.status, notification.outcome, notification.finished_at = NoticeStatus.DONE, outcome, now
        notification.last_error = None
        for call in calls:
            call["status"] = call["status"] if call["status"] != "pending" else outcome
        return True

    async def _delete(self, processor: str, calls: list[dict[str, Any]]) -> str:
        eraser = self._erasers[processor]
        outcomes: list[str] = []
        for call in calls:
            if call["status"] == "pending":
                call["status"] = await eraser.delete(call["reference"])
                call["attempts"] = call.get("attempts", 0) + 1
            outcomes.append(call["status"])
        return "deleted" if "deleted" in outcomes else (outcomes[0] if outcomes else "nothing_to_delete")

    async def _post(self, notification: ProcessorNotification, calls: list[dict[str, Any]]) -> str:
        route = self._routes[notification.processor]
        body = json.dumps(self.body(notification, calls), separators=(",", ":"), sort_keys=True).encode()
        status = await self._webhooks.post(route, body, notification.idempotency_key)
        if not 200 <= status < 300:
            raise ProcessorRefused(f"http_{status}")
        return "acknowledged"

    @staticmethod
    def body(notification: ProcessorNotification, calls: list[dict[str, Any]]) -> dict[str, Any]:
        """What the processor is told: its own references, the key, when; nothing else about the subject."""
        return {
            "id": notification.idempotency_key,
            "type": "erasure_request",
            "processor": notification.processor,
            "references": sorted({str(c["reference"]) for c in calls if c.get("reference")}),
            "requested_at": notification.created_at.isoformat(),
        }

    async def _queue_mail(
        self, uow: UnitOfWork, notification: ProcessorNotification, calls: list[dict[str, Any]]
    ) -> None:
        route = self._routes[notification.processor]
        body = self.body(notification, calls)
        refs = "\n".join(f"  - {r}" for r in body["references"]) or "  (none: please search by the request id)"
        await self._mail.queue(
            uow,
            MailMessage(
                to=route.email,
                subject=f"Data subject erasure request {notification.idempotency_key}",
                body=(
                    "Under Art. 17(2) and 28(3)(e) GDPR we ask you, as our processor, to erase the personal data you\n"
                    "hold about one of our users, identified by your own references below, and to confirm by reply.\n\n"
                    f"Request: {notification.idempotency_key}\nReceived: {body['requested_at']}\n"
                    f"Your references:\n{refs}\n"
                ),
                kind="processor_erasure_request",
            ),
        )

    def _failed(self, notification: ProcessorNotification, exc: Exception, now: datetime) -> None:
        notification.last_error = str(exc) if isinstance(exc, ProcessorRefused) else type(exc).__name__
        too_old = now - notification.created_at >= self.rules.max_age
        if notification.attempts >= self.rules.max_attempts or too_old:
            notification.status, notification.outcome, notification.finished_at = NoticeStatus.GIVEN_UP, "gave_up", now
        else:
            notification.next_attempt_at = now + self.rules.retry_after(notification.attempts, self._rng)

    async def for_request(self, request_id: UUID) -> list[ProcessorNotification]:
        async with self._uow() as uow:
            return await uow.processor_notifications.list_for_request(request_id)

    async def staff_list(self, status: str | None = None) -> list[ProcessorNotification]:
        """Open and given-up notifications (or one of the two), oldest first. They name nobody."""
        if status is not None and status not in OPEN_OR_GIVEN_UP:
            raise InvalidInput("status must be open or given_up", field="status")
        statuses = OPEN_OR_GIVEN_UP if status is None else (NoticeStatus(status),)
        async with self._uow() as uow:
            return await uow.processor_notifications.list_by_status(statuses, self.rules.staff_list_limit)


class ProcessorRefused(Exception):
    """The processor answered, but not with success (the message is the HTTP status, nothing from the body)."""


def outcome_of(notification: ProcessorNotification) -> dict[str, Any]:
    """What the erasure record keeps per processor."""
    return {
        "processor": notification.processor,
        "method": notification.method.value,
        "status": notification.status.value,
        "outcome": notification.outcome,
        "attempts": notification.attempts,
        "at": None if notification.last_attempt_at is None else notification.last_attempt_at.isoformat(),
    }
