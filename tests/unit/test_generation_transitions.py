"""The generation record's transitions: what each one stores, and that a finished generation never changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dreamina.ports.generation import (
    Generation,
    GenerationFinished,
    GenerationKind,
    GenerationOutput,
    GenerationStatus,
)

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = AT + timedelta(minutes=5)


def queued() -> Generation:
    return Generation(
        id=uuid.uuid4(),
        subject_id=uuid.uuid4(),
        kind=GenerationKind.IMAGE,
        status=GenerationStatus.QUEUED,
        prompt_ciphertext=b"sealed",
        params={"aspect_ratio": "1:1", "count": 1},
        reference_upload_ids=(),
        provider="offline",
        provider_job_id=None,
        attempts=0,
        failure_reason=None,
        outputs=(),
        created_at=AT,
        updated_at=AT,
    )


def test_a_job_runs_is_retried_and_resumes_at_its_provider_job() -> None:
    generation = queued()
    generation.start(LATER)
    assert (generation.status, generation.attempts, generation.updated_at) == (GenerationStatus.RUNNING, 1, LATER)
    generation.attach("job-1", LATER)
    generation.retry(LATER)
    assert (generation.status, generation.provider_job_id) == (GenerationStatus.QUEUED, "job-1")
    generation.start(LATER)  # also from running: a worker died mid-job
    generation.start(LATER)
    assert (generation.status, generation.attempts) == (GenerationStatus.RUNNING, 3)
    generation.resubmit(LATER)
    assert (generation.status, generation.provider_job_id) == (GenerationStatus.QUEUED, None)


def test_the_terminal_transitions_store_the_outcome() -> None:
    output = GenerationOutput("outputs/s/g/0.png", "image/png", 10)
    succeeded, failed, canceled = queued(), queued(), queued()
    succeeded.start(AT)
    succeeded.succeed(LATER, (output,))
    assert (succeeded.status, succeeded.outputs, succeeded.failure_reason) == (
        GenerationStatus.SUCCEEDED,
        (output,),
        None,
    )
    failed.fail(LATER, "The model provider returned an invalid result.")
    assert (failed.status, failed.failure_reason, failed.outputs) == (
        GenerationStatus.FAILED,
        "The model provider returned an invalid result.",
        (),
    )
    canceled.cancel(LATER)
    assert (canceled.status, canceled.failure_reason, canceled.updated_at) == (GenerationStatus.CANCELED, None, LATER)


def test_a_finished_generation_never_changes() -> None:
    generation = queued()
    generation.cancel(AT)
    for transition in (
        lambda: generation.start(LATER),
        lambda: generation.attach("job-1", LATER),
        lambda: generation.retry(LATER),
        lambda: generation.resubmit(LATER),
        lambda: generation.succeed(LATER, ()),
        lambda: generation.fail(LATER, "x"),
        lambda: generation.cancel(LATER),
    ):
        with pytest.raises(GenerationFinished):
            transition()
    assert (generation.status, generation.updated_at, generation.attempts) == (GenerationStatus.CANCELED, AT, 0)
