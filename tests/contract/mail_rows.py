"""Outbox rows for contract tests: what MailDelivery writes, without the delivery service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from dreamina.ports.mail import QueuedMail

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make_mail(subject_id: UUID | None = None, at: datetime = AT, **changes: Any) -> QueuedMail:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "subject_id": subject_id,
        "kind": "welcome",
        "sealed": b"\x01sealed",
        "wrapped_key": b"\x02wrapped",
        "queued_at": at,
        "attempts": 0,
        "next_attempt_at": at,
    }
    fields.update(changes)
    return QueuedMail(**fields)
