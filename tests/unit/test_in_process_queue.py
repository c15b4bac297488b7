"""The embedded profile's asyncio queue: runs jobs by id, honours delays, never runs one id twice at once,
retries unexpected errors, and the container re-enqueues unfinished jobs when it starts (restart recovery)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from uuid import UUID

from dreamina.adapters.queue.in_process import InProcessJobQueue
from dreamina.bootstrap import build_container, memory_database
from dreamina.domain.generation.validation import GenerationRequest
from dreamina.ports.generation import GenerationStatus
from dreamina.settings import load_settings
from tests.e2e.conftest import test_overrides


async def test_jobs_run_by_id_and_delays_are_honoured() -> None:
    ran: list[tuple[UUID, float]] = []
    loop = asyncio.get_running_loop()

    async def handler(generation_id: UUID) -> None:
        ran.append((generation_id, loop.time()))

    queue = InProcessJobQueue(concurrency=2)
    await queue.start(handler)
    first, later = uuid.uuid4(), uuid.uuid4()
    started = loop.time()
    await queue.enqueue(later, delay_seconds=0.2)
    await queue.enqueue(first)
    await asyncio.wait_for(queue.join(), 5)
    await queue.stop()
    assert [g for g, _ in ran] == [first, later]
    assert ran[1][1] - started >= 0.19


async def test_one_id_never_runs_twice_at_once_and_errors_are_retried() -> None:
    running: set[UUID] = set()
    overlaps = 0
    calls = 0

    async def handler(generation_id: UUID) -> None:
        nonlocal overlaps, calls
        calls += 1
        overlaps += generation_id in running
        running.add(generation_id)
        await asyncio.sleep(0.01)
        running.discard(generation_id)
        if calls == 1:
            raise RuntimeError("database hiccup")

    queue = InProcessJobQueue(concurrency=4, error_backoff_seconds=0.01)
    await queue.start(handler)
    job = uuid.uuid4()
    for _ in range(3):
        await queue.enqueue(job)
    await asyncio.wait_for(queue.join(), 5)
    await queue.stop()
    assert overlaps == 0
    assert calls >= 2  # the failed run was retried


async def test_a_restarted_process_finishes_the_jobs_the_last_one_left(tmp_path: Path) -> None:
    database = memory_database()
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path)})
    overrides = test_overrides()
    del overrides["job_queue"]
    overrides["uow"] = database.unit_of_work

    first = build_container(settings, **overrides)  # the process that dies before its workers start
    subject = uuid.uuid4()
    async with database.unit_of_work() as uow:
        await first.infra.keyrings(uow.subject_keys).create(subject)
        await uow.commit()
    assert first.generation.generations is not None
    submitted = await first.generation.generations.submit(subject, GenerationRequest(kind="image", prompt="p"))
    await first.aclose()

    second = build_container(settings, **{**overrides, "vault": first.infra.vault})
    await second.start()  # starts the workers and re-enqueues what was unfinished
    assert isinstance(second.generation.queue, InProcessJobQueue) and second.generation.generations is not None
    await asyncio.wait_for(second.generation.queue.join(), 10)
    view = await second.generation.generations.get(subject, submitted.id)
    await second.aclose()
    assert view.status is GenerationStatus.SUCCEEDED and len(view.outputs) == 1
