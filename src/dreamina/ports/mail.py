"""Outgoing mail to subjects (sign-up notices, one-time codes, policy-change notices), through an outbox.

A use case never talks to the mail relay inside its transaction: it writes the message to the outbox in the same
unit of work as the change it reports, commits, and asks for delivery afterwards. A failed delivery leaves the
message queued for the next attempt; it never undoes or half-does the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class MailMessage:
    to: str
    subject: str
    body: str
    kind: str  # a stable label for what the message is, e.g. "welcome", "duplicate_signup"
    # The outbox message this is a delivery of (set by the outbox's delivery, the same on every attempt). A deliverer
    # killed after the relay took the message and before the outbox forgot it sends it again: a mailer makes this
    # the Message-ID and, where it can see what it delivered, delivers an id it already delivered no second time.
    # Not part of the message's content, so not compared.
    delivery_id: UUID | None = field(default=None, compare=False)
    # Marketing mail only: the HTTPS link that unsubscribes the recipient in one click. Mailers send it as the
    # RFC 8058 ``List-Unsubscribe`` header with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``.
    list_unsubscribe: str | None = None


class Mailer(Protocol):
    async def send(self, message: MailMessage) -> None:
        """Deliver (or durably queue) one message; raises on failure. A message whose ``delivery_id`` was delivered
        before is not delivered again where the mailer can tell (the outbox folder); elsewhere it carries the same
        Message-ID (SMTP: the recipient's mail system may fold the copies together)."""
        ...


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """A message waiting in the outbox. Address, subject line and body are sealed together with a key of the
    message's own, wrapped by the master key: a row copied anywhere reads as nothing, and deleting it destroys it."""

    id: UUID
    subject_id: UUID | None  # whose mail it is, when it concerns an account (erasure delivers, then deletes it)
    kind: str
    sealed: bytes
    wrapped_key: bytes
    queued_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None  # None: due now


class MailOutbox(Protocol):
    async def add(self, mail: QueuedMail) -> None: ...

    async def get(self, mail_id: UUID) -> QueuedMail | None: ...

    async def due(self, now: datetime, limit: int, subject_id: UUID | None = None) -> list[QueuedMail]:
        """At most ``limit`` messages due at ``now`` (oldest first), of one subject if given."""
        ...

    async def claim(self, mail_id: UUID, attempts: int, until: datetime) -> bool:
        """Take a due message for one delivery attempt: only if it still has ``attempts`` attempts, it gets one more
        and is not due again before ``until`` (the lease). False when another deliverer took it first."""
        ...

    async def postpone(self, mail_id: UUID, until: datetime) -> None:
        """After a failed attempt: not due again before ``until``."""
        ...

    async def delete(self, mail_id: UUID) -> bool:
        """Remove a delivered (or abandoned) message."""
        ...

    async def count_for_subject(self, subject_id: UUID) -> int: ...

    async def delete_for_subject(self, subject_id: UUID) -> int: ...

    async def count_queued_before(self, cutoff: datetime) -> int:
        """Messages still waiting that were queued before ``cutoff`` (retention dry runs)."""
        ...

    async def delete_queued_before(self, cutoff: datetime, limit: int) -> int:
        """Retention: give up on at most ``limit`` messages queued before ``cutoff``; returns how many."""
        ...


class OutboxStores(Protocol):
    """The outbox's store in a unit of work."""

    mail_outbox: MailOutbox
