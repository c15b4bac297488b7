"""Record builders for the generation repositories (shared by the contract suites)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from dreamina.ports.generation import (
    Generation,
    GenerationKind,
    GenerationStatus,
    Upload,
)
from dreamina.ports.unit_of_work import UnitOfWork

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make_upload(subject: UUID, at: datetime = AT) -> Upload:
    upload_id = uuid.uuid4()
    return Upload(upload_id, subject, f"uploads/{subject}/{upload_id}.png", "image/png", 4, 3, 120, at)


def make_generation(subject: UUID, references: tuple[UUID, ...] = (), at: datetime = AT, **changes: Any) -> Generation:
    generation = Generation(
        id=uuid.uuid4(),
        subject_id=subject,
        kind=GenerationKind.IMAGE,
        status=GenerationStatus.QUEUED,
        prompt_ciphertext=b"sealed",
        params={"aspect_ratio": "1:1", "count": 1},
        reference_upload_ids=references,
        provider="offline",
        provider_job_id=None,
        attempts=0,
        failure_reason=None,
        outputs=(),
        created_at=at,
        updated_at=at,
    )
    for name, value in changes.items():
        setattr(generation, name, value)
    return generation


async def write_generation_rows(uow: UnitOfWork, subject: UUID) -> None:
    """One row in each generation table."""
    upload = make_upload(subject)
    await uow.uploads.add(upload)
    await uow.generations.add(make_generation(subject, (upload.id,)))
    await uow.restrictions.restrict(subject, "test", AT)
