"""A job the queue lost is queued again by the reaper even behind a backlog of jobs the queue still holds.

Each reaper pass reads the unfinished (generations) or due (privacy) jobs a page at a time, oldest first, from where
the last pass stopped. Before, it read only the first page: with at least a page of older jobs waiting in the queue
(a slow worker, a burst), a lost job behind them was not queued again until the backlog drained, however long that
took. The pages here are two jobs long (``limit=2``) where the service's are 1000 and 100."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.bootstrap import Container, build_container
from dreamina.domain.privacy import backlog
from dreamina.ports.generation import Generation
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import load_settings
from tests.contract.data_rights_records import make_job, make_request
from tests.contract.generation_records import AT, make_generation
from tests.e2e.conftest import START, test_overrides


def _container(uow_factory: UnitOfWorkFactory, tmp_path: Path, privacy_queue: ManualJobQueue) -> Container:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path)})
    return build_container(settings, uow=uow_factory, privacy_job_queue=privacy_queue, **test_overrides())


async def _unfinished(uow_factory: UnitOfWorkFactory, count: int) -> list[Generation]:
    """``count`` queued generations of one subject, a second apart, oldest first."""
    subject = uuid.uuid4()
    generations = [make_generation(subject, at=AT + timedelta(seconds=n)) for n in range(count)]
    async with uow_factory() as uow:
        for generation in generations:
            await uow.generations.add(generation)
        await uow.commit()
    return generations


async def test_a_lost_generation_behind_a_page_of_queued_ones_is_queued_again(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    container = _container(uow_factory, tmp_path, ManualJobQueue())
    generations = await _unfinished(uow_factory, 5)
    queue = container.generation.queue
    assert isinstance(queue, ManualJobQueue)
    held = {g.id for g in generations[:3]}  # the three oldest still wait in the queue; Redis lost the other two
    try:
        assert await container.generation.runner.reap(held.__contains__, limit=2) == 2
        assert [queued for queued, _, _ in queue.enqueued] == [g.id for g in generations[3:]]
        # the next pass starts where this one stopped, and from the start again once it reached the end
        assert await container.generation.runner.reap(lambda _: True, limit=2) == 0
        assert await container.generation.runner.reap(lambda _: False, limit=2) == 2
    finally:
        await container.aclose()


async def test_a_pass_reads_a_bounded_number_of_pages_and_the_next_goes_on_from_there(
    uow_factory: UnitOfWorkFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backlog, "REAP_PAGES", 2)
    container = _container(uow_factory, tmp_path, ManualJobQueue())
    generations = await _unfinished(uow_factory, 7)
    lost = generations[6].id
    try:
        runner = container.generation.runner
        assert await runner.reap(lambda g: g != lost, limit=2) == 0  # two pages read: jobs 0-3, all held
        assert await runner.reap(lambda g: g != lost, limit=2) == 1  # jobs 4-6: the lost one is found
        queue = container.generation.queue
        assert isinstance(queue, ManualJobQueue) and [q for q, _, _ in queue.enqueued] == [lost]
    finally:
        await container.aclose()


async def test_a_privacy_job_lost_behind_a_page_of_queued_ones_is_queued_again(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    privacy_queue = ManualJobQueue()
    container = _container(uow_factory, tmp_path, privacy_queue)
    requests = [make_request(uuid.uuid4()) for _ in range(5)]
    due = START - timedelta(hours=1)  # the container's clock starts at START
    async with uow_factory() as uow:
        for n, request in enumerate(requests):
            await uow.privacy_requests.add(request)
            await uow.privacy_jobs.add(make_job(request, run_after=due + timedelta(seconds=n)))
        await uow.commit()
    held: set[UUID] = {r.id for r in requests[:3]}
    try:
        assert await container.data_rights.jobs.enqueue_due(held.__contains__, limit=2) == 2
        assert [queued for queued, _, _ in privacy_queue.enqueued] == [r.id for r in requests[3:]]
    finally:
        await container.aclose()
