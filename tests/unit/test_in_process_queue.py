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


async def test_a_job_is_never_given_up_on_infrastructure_errors() -> None:
    """Issue 13, finding 3: the queue used to give up after 3 errors (StoreBusy under load) and leave the job
    `queued` with its credits reserved until a restart. Errors are retried (back-off capped) until the job runs."""
    calls = 0

    async def handler(generation_id: UUID) -> None:
        nonlocal calls
        calls += 1
        if calls <= 6:
            raise RuntimeError("the database is busy")

    queue = InProcessJobQueue(concurrency=1, error_backoff_seconds=0.001, max_backoff_seconds=0.01)
    await queue.start(handler)
    await queue.enqueue(uuid.uuid4())
    await asyncio.wait_for(queue.join(), 5)
    await queue.stop()
    assert calls == 7


async def test_the_queue_knows_which_jobs_it_holds() -> None:
    release = asyncio.Event()

    async def handler(generation_id: UUID) -> None:
        await release.wait()

    queue = InProcessJobQueue(concurrency=1)
    await queue.start(handler)
    running, waiting, scheduled, unknown = (uuid.uuid4() for _ in range(4))
    await queue.enqueue(running)
    await queue.enqueue(waiting)
    await queue.enqueue(scheduled, delay_seconds=30)
    await asyncio.sleep(0.01)
    assert [queue.holds(g) for g in (running, waiting, scheduled, unknown)] == [True, True, True, False]
    release.set()
    await asyncio.sleep(0.01)
    assert not queue.holds(running) and not queue.holds(waiting)
    await queue.stop()


async def test_the_reaper_runs_unfinished_jobs_the_queue_lost(tmp_path: Path) -> None:
    """A job the queue no longer holds (lost to an error, or never enqueued because the process died between the
    commit and the enqueue) is picked up by the reaper on its next pass, without a restart."""
    database = memory_database()
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path)})
    overrides = test_overrides()
    del overrides["job_queue"]
    overrides["uow"] = database.unit_of_work
    container = build_container(settings, **overrides)
    await container.start()
    try:
        queue = container.generation.queue
        assert isinstance(queue, InProcessJobQueue) and container.generation.generations is not None
        subject = uuid.uuid4()
        async with database.unit_of_work() as uow:
            await container.infra.keyrings(uow.subject_keys).create(subject)
            await uow.commit()

        async def lost(generation_id: UUID, *, attempt: int = 0, delay_seconds: float = 0.0) -> None:
            return None

        queue.enqueue = lost  # type: ignore[method-assign]  # the job is committed but never reaches a worker
        submitted = await container.generation.generations.submit(subject, GenerationRequest(kind="image", prompt="p"))
        del queue.enqueue
        assert await container.generation.runner.reap(queue.holds) == 1
        await asyncio.wait_for(queue.join(), 10)
        assert await container.generation.runner.reap(queue.holds) == 0
        view = await container.generation.generations.get(subject, submitted.id)
        assert view.status is GenerationStatus.SUCCEEDED
    finally:
        await container.aclose()
