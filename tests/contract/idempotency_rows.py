"""Kept answers (``IdempotencyRecord``) for the contract and retention tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from dreamina.ports.idempotency import IdempotencyRecord

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ROUTE = "POST /v1/generations"


def make_record(
    subject: uuid.UUID | None = None, key: str = "k-1", route: str = ROUTE, at: datetime = AT, body: str = "{}"
) -> IdempotencyRecord:
    return IdempotencyRecord(
        subject_id=subject or uuid.uuid4(),
        route=route,
        key=key,
        fingerprint="f" * 64,
        status=202,
        body=body,
        created_at=at,
    )
