"""Kill-the-worker tests: the erasure saga and the export job, killed after every step, finish exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.memory.processors import RecordingProcessorEraser
from dreamina.bootstrap import Container, build_container
from dreamina.domain.data_rights.jobs import JobPending
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import Objection
from dreamina.ports.disclosures import Disclosure
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import load_settings

from .conftest import test_overrides
from .helpers import PASSWORD, verify_by_mail


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, not even ``except Exception`` handlers."""


@pytest.fixture
async def wired(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> AsyncIterator[Callable[..., Container]]:
    built: list[Container] = []

    def make(**extra: Any) -> Container:
        settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path)})
        container = build_container(settings, uow=uow_factory, **{**test_overrides(), **extra})
        built.append(container)
        return container

    yield make
    for container in built:
        await container.aclose()


async def _rich_subject(container: Container, email: str) -> UUID:
    await container.start()
    await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 4, 1), "DE", None, 1, "Ada"))
    await verify_by_mail(container, email)
    token = await container.identity.sessions.issue_token(email, PASSWORD)
    subject = (await container.identity.sessions.authenticate(token.access_token)).account_id
    await container.infra.object_store.put(f"uploads/{subject}/a.png", b"\x89PNG" + subject.bytes, "image/png")
    await container.infra.object_store.put(f"outputs/{subject}/b.webp", b"RIFF" + subject.bytes, "image/webp")
    async with container.infra.uow() as uow:
        await uow.disclosures.record(
            Disclosure(
                uuid.uuid4(),
                subject,
                "stripe",
                ("account",),
                "process_payments",
                f"cus_{subject.hex[:8]}",
                container.infra.clock.now(),
            )
        )
        await uow.objections.put(Objection(subject, Purpose.ANALYTICS, True, container.infra.clock.now()))
        await uow.commit()
    return subject


def _kill_after(step: str) -> Callable[[str], None]:
    def hook(done: str) -> None:
        if done == step:
            raise WorkerKilled(step)

    return hook


async def test_erasure_killed_after_every_step_finishes_exactly_once(wired: Callable[..., Container]) -> None:
    stripe = RecordingProcessorEraser("stripe")
    container = wired(processor_erasers={"stripe": stripe})
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    steps = container.data_rights.jobs.erasure_steps()
    assert steps[0] == "sessions_revoked" and steps[-1] == "erased:data_rights"
    assert {"erased:identity", "erased:objects", "erased:subject_key", "processors_called"} <= set(steps)
    for index, step in enumerate(steps):
        email = f"kill{index}@example.com"
        subject = await _rich_subject(container, email)
        request = await container.data_rights.requests.submit(subject, "erasure", {}, password=PASSWORD)
        clock.advance(timedelta(days=30, seconds=1))
        jobs = container.data_rights.jobs
        jobs.after_step = _kill_after(step)
        with pytest.raises(WorkerKilled):
            await jobs.run(request.id)
        jobs.after_step = None  # the restarted worker
        await jobs.run_due()
        await jobs.run_due()  # a second pass finds nothing left to do

        async with container.infra.uow() as uow:
            assert await uow.accounts.get(subject) is None, step
            assert await uow.subject_keys.get(subject) is None, step
            assert await uow.privacy_requests.list_for_subject(subject) == [], step
            assert await uow.privacy_jobs.get(request.id) is None, step
            assert await uow.objections.for_subject(subject) == [], step
            assert await uow.audit.list_for_subject(subject) == [], step
            assert await uow.disclosures.list_for_subject(subject) == [], step
        assert await container.infra.object_store.list(f"uploads/{subject}") == [], step
        assert await container.infra.object_store.list(f"outputs/{subject}") == [], step
        # the processor was asked once and said deleted once
        assert stripe.deleted.count(f"cus_{subject.hex[:8]}") == 1, step
        mailer = container.infra.mailer
        assert isinstance(mailer, InMemoryMailer)
        started = [m for m in mailer.sent_to(email) if m.kind == "erasure_started"]
        assert len(started) == 1, step
        completion_id = UUID(started[0].body.rsplit("Completion reference: ", 1)[1].strip())
        async with container.infra.uow() as uow:
            completion = await uow.erasure_completions.get(completion_id)
        assert completion is not None, step
        [told] = completion.outcome["processors"]
        assert {k: told[k] for k in ("processor", "method", "status", "outcome", "attempts")} == {
            "processor": "stripe",
            "method": "api",
            "status": "done",
            "outcome": "deleted",
            "attempts": 1,
        }, step
        assert completion.outcome["subject_key_destroyed"] is True
        assert str(subject) not in str(completion.outcome) and email not in str(completion.outcome)


async def test_failed_processor_deletions_are_retried_and_recorded(wired: Callable[..., Container]) -> None:
    stripe = RecordingProcessorEraser("stripe", failures=2)
    container = wired(processor_erasers={"stripe": stripe})
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    subject = await _rich_subject(container, "retry@example.com")
    request = await container.data_rights.requests.submit(subject, "erasure", {}, password=PASSWORD)
    clock.advance(timedelta(days=30, seconds=1))
    assert await container.data_rights.jobs.run_due() == {"done": 0, "pending": 1, "failed": 0}
    assert await container.data_rights.jobs.run_due() == {"done": 0, "pending": 0, "failed": 0}  # backing off
    async with container.infra.uow() as uow:
        job = await uow.privacy_jobs.get(request.id)
    assert job is not None and job.processor_calls[0]["status"] == "pending"  # its reference is kept for the retry
    [notice] = await container.data_rights.processor_notices.for_request(request.id)
    assert (notice.status, notice.attempts, notice.last_error) == ("open", 1, "ProcessorUnavailable")
    for _ in range(2):  # each retry waits at most the capped back-off (the first one: 1 minute, jittered)
        clock.advance(timedelta(minutes=2))
        await container.data_rights.jobs.run_due()
    assert len(stripe.calls) == 3 and stripe.deleted == [f"cus_{subject.hex[:8]}"]
    async with container.infra.uow() as uow:
        assert await uow.privacy_jobs.get(request.id) is None  # the saga ended


async def test_a_processor_with_no_route_is_given_up_at_once_for_staff(wired: Callable[..., Container]) -> None:
    container = wired()  # the sandbox processor shares nothing, so "stripe" (from the ledger) has neither API nor route
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    subject = await _rich_subject(container, "noapi@example.com")
    request = await container.data_rights.requests.submit(subject, "erasure", {}, password=PASSWORD)
    clock.advance(timedelta(days=30, seconds=1))
    jobs = container.data_rights.jobs

    def spy(step: str) -> None:
        if step == "processors_called":
            raise WorkerKilled(step)

    jobs.after_step = spy
    with pytest.raises(WorkerKilled):
        await jobs.run(request.id)
    async with container.infra.uow() as uow:
        job = await uow.privacy_jobs.get(request.id)
    assert job is not None
    assert job.processor_calls == ({"processor": "stripe", "reference": None, "status": "pending", "attempts": 0},)
    [notice] = await container.data_rights.processor_notices.staff_list("given_up")
    assert (notice.processor, notice.method, notice.outcome, notice.attempts) == ("stripe", "none", "no_route", 0)
    jobs.after_step = None
    await jobs.run(request.id)


@pytest.mark.parametrize("step", ["archive_built", "subject_notified", "request_completed"])
async def test_export_killed_after_every_step_finishes_exactly_once(wired: Callable[..., Container], step: str) -> None:
    container = wired()
    subject = await _rich_subject(container, "exp@example.com")
    request = await container.data_rights.requests.submit(subject, "export", {}, password=PASSWORD)
    jobs = container.data_rights.jobs
    jobs.after_step = _kill_after(step)
    with pytest.raises(WorkerKilled):
        await jobs.run(request.id)
    jobs.after_step = None
    await jobs.run_due()
    await jobs.run_due()
    view = await container.data_rights.requests.view(subject, request.id)
    assert view.request.status == "completed"
    assert [e.status for e in view.history].count("completed") == 1
    assert await container.infra.object_store.list(f"exports/{subject}") == [f"exports/{subject}/{request.id}.zip"]
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    assert len([m for m in mailer.sent_to("exp@example.com") if m.kind == "export_ready"]) == 1


async def test_an_export_that_fails_midway_leaves_no_archive_and_is_retried(wired: Callable[..., Container]) -> None:
    container = wired()
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    subject = await _rich_subject(container, "flaky@example.com")
    request = await container.data_rights.requests.submit(subject, "export", {}, password=PASSWORD)
    objects = next(h for h in container.data_rights.holders if h.name == "objects")
    original = objects.export

    async def broken(subject_id: UUID, sink: Any) -> None:
        raise OSError("object store went away")

    objects.export = broken  # type: ignore[method-assign]
    assert (await container.data_rights.jobs.run_due())["failed"] == 1
    assert await container.infra.object_store.list(f"exports/{subject}") == []
    objects.export = original  # type: ignore[method-assign]
    assert (await container.data_rights.jobs.run_due())["done"] == 0  # backing off
    clock.advance(timedelta(minutes=16))
    assert (await container.data_rights.jobs.run_due())["done"] == 1
    assert (await container.data_rights.requests.view(subject, request.id)).request.status == "completed"


def test_job_pending_is_an_exception() -> None:
    assert issubclass(JobPending, Exception)


async def test_two_workers_at_once_run_each_job_once_and_mail_once(wired: Callable[..., Container]) -> None:
    """Issue 13, finding 10: two privacy workers (two containers over one database, as two processes would be) run
    their passes at the same time; every erasure and export runs once, and each subject gets one notice."""
    first = wired()
    clock = first.infra.clock
    assert isinstance(clock, MovableClock)
    shared = {
        "clock": clock,
        "vault": first.infra.vault,
        "mailer": first.infra.mailer,
        "object_store": first.infra.object_store,
    }
    second = wired(**shared)
    await second.start()
    erasures, exports = [], []
    for n in range(3):
        subject = await _rich_subject(first, f"twice{n}@example.com")
        erasures.append(await first.data_rights.requests.submit(subject, "erasure", {}, password=PASSWORD))
        subject = await _rich_subject(first, f"export{n}@example.com")
        exports.append(await first.data_rights.requests.submit(subject, "export", {}, password=PASSWORD))
    clock.advance(timedelta(days=30, seconds=1))
    passes = await asyncio.gather(*(c.data_rights.jobs.run_due() for c in (first, second, first, second)))
    assert sum(p["done"] for p in passes) == 6, passes
    assert sum(p["failed"] for p in passes) == 0, passes
    mailer = first.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    for n in range(3):
        assert [m.kind for m in mailer.sent_to(f"twice{n}@example.com")].count("erasure_started") == 1
        assert [m.kind for m in mailer.sent_to(f"export{n}@example.com")].count("export_ready") == 1
    for request in exports:
        view = await first.data_rights.requests.view(request.subject_id, request.id)
        assert [e.status for e in view.history].count("completed") == 1
