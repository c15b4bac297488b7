"""Exports and erasures are jobs on the job queue (issue 13), not a polling loop's finds: a request whose job is due
is queued as its unit of work commits, a job due later (an erasure's grace period) is queued by the reaper when it
is due, and the reaper also queues what the queue lost. Here on every store with a recording queue; in
``test_privacy_queue_processes.py`` with SAQ, Redis and real ``privacy-worker`` processes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.bootstrap import Container, build_container
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.data_rights import RequestStatus
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import load_settings

from .conftest import test_overrides
from .helpers import PASSWORD, verify_by_mail


@pytest.fixture
async def container(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> AsyncIterator[Container]:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path)})
    wired = build_container(settings, uow=uow_factory, **test_overrides(), privacy_job_queue=ManualJobQueue())
    await wired.start()
    yield wired
    await wired.aclose()


def _queue(container: Container) -> ManualJobQueue:
    queue = container.data_rights.job_queue
    assert isinstance(queue, ManualJobQueue)
    return queue


def _clock(container: Container) -> MovableClock:
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    return clock


async def _subject(container: Container, email: str) -> UUID:
    await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 4, 1), "DE", None, 1))
    await verify_by_mail(container, email)
    token = await container.identity.sessions.issue_token(email, PASSWORD)
    return (await container.identity.sessions.authenticate(token.access_token)).account_id


async def _status(container: Container, request_id: UUID) -> RequestStatus:
    async with container.infra.uow() as uow:
        request = await uow.privacy_requests.get(request_id)
    assert request is not None
    return request.status


async def test_a_proven_export_is_queued_as_it_commits_and_the_queue_runs_it(container: Container) -> None:
    subject = await _subject(container, "export@example.com")
    request = await container.data_rights.requests.submit(subject, "export", {}, password=PASSWORD)
    queue = _queue(container)
    assert [job_id for job_id, _, _ in queue.enqueued] == [request.id]  # at once, no timer involved
    assert await container.data_rights.reap_jobs() == 0  # the reaper leaves a job the queue holds alone

    assert await queue.drain(container.data_rights.jobs.run_queued) == 1
    assert await _status(container, request.id) == RequestStatus.COMPLETED


async def test_an_export_proven_by_code_is_queued_once_the_code_is_right(container: Container) -> None:
    subject = await _subject(container, "code@example.com")
    request = await container.data_rights.requests.submit(subject, "export", {})
    assert _queue(container).enqueued == []  # nothing to run until the subject is proven
    await container.data_rights.requests.verify(subject, request.id, password=PASSWORD)
    assert [job_id for job_id, _, _ in _queue(container).enqueued] == [request.id]


async def test_an_erasure_waits_out_its_grace_period_then_the_reaper_queues_it(container: Container) -> None:
    subject = await _subject(container, "erasure@example.com")
    await container.data_rights.requests.submit(subject, "erasure", {}, password=PASSWORD)
    queue = _queue(container)
    assert queue.enqueued == []  # due in 30 days: a queue would hold its key all that time
    assert await container.data_rights.reap_jobs() == 0

    _clock(container).advance(container.data_rights.requests.rules.erasure_grace + timedelta(seconds=1))
    assert await container.data_rights.reap_jobs() == 1
    assert await queue.drain(container.data_rights.jobs.run_queued) == 1
    async with container.infra.uow() as uow:
        assert await uow.accounts.get(subject) is None  # erased
    assert await container.data_rights.reap_jobs() == 0  # finished: never queued again


async def test_an_expedited_erasure_is_queued_at_once(container: Container) -> None:
    subject = await _subject(container, "expedite@example.com")
    request = await container.data_rights.requests.submit(subject, "erasure", {}, password=PASSWORD)
    officer = await _subject(container, "officer@example.com")
    await container.data_rights.queue.expedite_erasure(officer, request.id, "confirmed with the subject")
    assert [job_id for job_id, _, _ in _queue(container).enqueued] == [request.id]


async def test_the_reaper_queues_a_lost_job_but_not_one_running_under_a_live_lease(container: Container) -> None:
    subject = await _subject(container, "lost@example.com")
    request = await container.data_rights.requests.submit(subject, "export", {}, password=PASSWORD)
    queue = _queue(container)
    queue.pending.clear()  # the queue lost it (Redis restarted empty, the process died before it ran)

    clock, lease = _clock(container), container.data_rights.jobs.rules.lease
    async with container.infra.uow() as uow:  # a worker holds it: running somewhere, its lease alive
        assert await uow.privacy_jobs.claim(request.id, "other-worker", clock.now(), clock.now() + lease)
        await uow.commit()
    assert await container.data_rights.reap_jobs() == 0

    clock.advance(lease + timedelta(seconds=1))  # that worker was killed: its lease ran out
    assert await container.data_rights.reap_jobs() == 1
    assert await queue.drain(container.data_rights.jobs.run_queued) == 1
    assert await _status(container, request.id) == RequestStatus.COMPLETED


async def test_a_run_of_a_job_another_worker_holds_changes_nothing(container: Container) -> None:
    subject = await _subject(container, "held@example.com")
    request = await container.data_rights.requests.submit(subject, "export", {}, password=PASSWORD)
    clock, lease = _clock(container), container.data_rights.jobs.rules.lease
    async with container.infra.uow() as uow:
        assert await uow.privacy_jobs.claim(request.id, "other-worker", clock.now(), clock.now() + lease)
        await uow.commit()
    assert await container.data_rights.jobs.run_queued(request.id) == "skipped"
    assert await _status(container, request.id) == RequestStatus.PROCESSING
