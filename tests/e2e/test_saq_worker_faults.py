"""The production queue never leaves a job stuck (issue 13, finding 9), with real processes and real faults: a live
``dreamina worker`` on SAQ over a private Redis and PostgreSQL.

Before: after a Redis kill -9 and restart one job stayed ``queued`` 6 min 18 s with a live worker; after a 100 s
database outage 10 of 12 jobs stayed queued/running (SAQ spent its 5 attempts in 21 s) until the worker restarted;
a killed worker's jobs waited up to 115 s for the sweep. Credits stayed reserved all along.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy.engine import make_url

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import Container, build_container
from dreamina.domain.generation.validation import GenerationRequest
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.generation import Generation, GenerationStatus
from dreamina.settings import load_settings

from ..conftest import _fresh_database_url
from .fault_rig import (
    CuttableProxy,
    PrivateRedis,
    assert_json_lines_without_tracebacks,
    logged,
    start_worker,
    stop,
)
from .helpers import PASSWORD

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LEASE = 6  # seconds: DREAMINA_JOB_LEASE_SECONDS for these tests (the default is 20)
WELCOME_CREDITS, IMAGE_COST = 40, 4


@pytest.fixture
async def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await _fresh_database_url(request, "postgres", tmp_path)


class Rig:
    """The test's own view of the system: signs up, submits through the same queue the API uses, reads the
    database directly (never through the proxy the worker may be cut from)."""

    def __init__(self, tmp_path: Path, database_url: str, redis_url: str, render_seconds: float) -> None:
        self.settings = {
            "DREAMINA_DATA_DIR": str(tmp_path / "data"),
            "DREAMINA_DATABASE_URL": database_url,
            "DREAMINA_QUEUE": "saq",
            "DREAMINA_REDIS_URL": redis_url,
            "DREAMINA_OFFLINE_RENDER_SECONDS": str(render_seconds),
            "DREAMINA_JOB_LEASE_SECONDS": str(LEASE),
            "DREAMINA_WORKER_CONCURRENCY": "2",
            "DREAMINA_BILLING_WELCOME_CREDITS": str(WELCOME_CREDITS),
            "DREAMINA_BILLING_IMAGE_COST": str(IMAGE_COST),
        }
        self.container: Container | None = None

    def worker_settings(self, database_url: str | None = None) -> dict[str, str]:
        return {**self.settings, "DREAMINA_DATABASE_URL": database_url or self.settings["DREAMINA_DATABASE_URL"]}

    async def open(self) -> Container:
        self.container = build_container(
            load_settings(self.settings), passwords=Argon2PasswordHasher.fast(), mailer=InMemoryMailer()
        )
        await self.container.start()
        return self.container

    async def close(self) -> None:
        if self.container is not None:
            await self.container.aclose()

    async def submit(self, email: str, count: int) -> tuple[UUID, list[UUID]]:
        assert self.container is not None
        identity = self.container.identity
        await identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 1, 1), "DE", None, 1))
        token = await identity.sessions.issue_token(email, PASSWORD)
        subject = (await identity.sessions.authenticate(token.access_token)).account_id
        generations = self.container.generation.generations
        ids = [
            (await generations.submit(subject, GenerationRequest(kind="image", prompt=f"a lighthouse, take {n}"))).id
            for n in range(count)
        ]
        return subject, ids

    async def jobs(self, ids: list[UUID]) -> list[Generation]:
        assert self.container is not None
        async with self.container.infra.uow() as uow:
            found = [await uow.generations.get(i) for i in ids]
        return [g for g in found if g is not None]

    async def wait(self, ids: list[UUID], done: Callable[[Counter[GenerationStatus]], bool], seconds: float) -> float:
        """Seconds until ``done(status counts)`` holds; fails after ``seconds``."""
        started = time.monotonic()
        while True:
            counts = Counter(g.status for g in await self.jobs(ids))
            if done(counts):
                return time.monotonic() - started
            assert time.monotonic() - started < seconds, f"after {seconds} s: {dict(counts)}"
            await asyncio.sleep(0.25)

    async def assert_settled(self, subject: UUID, ids: list[UUID]) -> Counter[GenerationStatus]:
        """Every job ended, and the credits match: captured for each success, refunded for each failure."""
        assert self.container is not None
        jobs = await self.jobs(ids)
        counts = Counter(g.status for g in jobs)
        assert all(g.status.terminal for g in jobs), dict(counts)
        balance = await self.container.billing.credits.balance(subject)
        assert balance == WELCOME_CREDITS - IMAGE_COST * counts[GenerationStatus.SUCCEEDED], (balance, dict(counts))
        return counts


def ended(counts: Counter[GenerationStatus]) -> int:
    return sum(n for status, n in counts.items() if status.terminal)


async def test_redis_data_loss_with_a_live_worker_loses_no_job(postgres_url: str, tmp_path: Path) -> None:
    redis = PrivateRedis(tmp_path / "redis")
    rig = Rig(tmp_path, postgres_url, redis.url, render_seconds=1.0)
    worker, log_file = start_worker(rig.worker_settings(), tmp_path / "worker.log")
    try:
        await logged(tmp_path / "worker.log", "redis_unavailable", worker)  # it started without Redis, and waits
        redis.start()
        await rig.open()
        subject, ids = await rig.submit("redis.loss@example.com", 8)
        await rig.wait(ids, lambda c: ended(c) >= 2, 40)
        redis.kill()  # SIGKILL: every queued job is gone with it; those in flight end while it is down
        await asyncio.sleep(4)
        redis.start()  # back, and empty
        recovery = await rig.wait(ids, lambda c: ended(c) == len(ids), 40)
        print(f"all jobs ended {recovery:.1f} s after Redis came back empty")
        assert worker.poll() is None, "the worker died"
        await rig.assert_settled(subject, ids)
    finally:
        stop(worker)
        log_file.close()
        redis.kill()
        await rig.close()
    assert_json_lines_without_tracebacks(tmp_path / "worker.log")


async def test_a_database_outage_with_a_live_worker_loses_no_job(postgres_url: str, tmp_path: Path) -> None:
    redis = PrivateRedis(tmp_path / "redis")
    redis.start()
    target = make_url(postgres_url)
    with CuttableProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        through_proxy = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        rig = Rig(tmp_path, postgres_url, redis.url, render_seconds=0.5)
        await rig.open()
        worker, log_file = start_worker(rig.worker_settings(through_proxy), tmp_path / "worker.log")
        try:
            subject, ids = await rig.submit("db.outage@example.com", 8)
            await rig.wait(ids, lambda c: ended(c) >= 1, 40)
            proxy.cut()  # refused and dropped: every pooled connection dies, no new one opens
            await asyncio.sleep(15)
            proxy.restore()
            recovery = await rig.wait(ids, lambda c: ended(c) == len(ids), 40)
            print(f"all jobs ended {recovery:.1f} s after the database came back")
            assert worker.poll() is None, "the worker died"
            await rig.assert_settled(subject, ids)
        finally:
            stop(worker)
            log_file.close()
            redis.kill()
            await rig.close()
    assert_json_lines_without_tracebacks(tmp_path / "worker.log")


async def test_a_killed_workers_jobs_end_within_one_lease(postgres_url: str, tmp_path: Path) -> None:
    render = 4.0
    redis = PrivateRedis(tmp_path / "redis")
    redis.start()
    rig = Rig(tmp_path, postgres_url, redis.url, render_seconds=render)
    await rig.open()
    doomed, doomed_log = start_worker(rig.worker_settings(), tmp_path / "doomed.log")
    survivor, survivor_log = start_worker(rig.worker_settings(), tmp_path / "survivor.log")
    replacement, replacement_log = None, None
    try:
        await logged(tmp_path / "doomed.log", "worker_started", doomed)
        await logged(tmp_path / "survivor.log", "worker_started", survivor)
        subject, ids = await rig.submit("killed.worker@example.com", 4)
        await rig.wait(ids, lambda c: c[GenerationStatus.RUNNING] == 4, 30)  # two in each worker
        stop(doomed)  # SIGKILL with two jobs in flight
        killed_at = time.monotonic()
        replacement, replacement_log = start_worker(rig.worker_settings(), tmp_path / "replacement.log")
        recovery = await rig.wait(ids, lambda c: ended(c) == len(ids), 40)
        print(f"a killed worker's jobs ended {recovery:.1f} s after the kill (lease {LEASE} s, render {render} s)")
        # one lease for the heartbeat to lapse, a reaper tick, one render, and start-up slack
        assert time.monotonic() - killed_at < LEASE + LEASE / 2 + render + 4
        counts = await rig.assert_settled(subject, ids)
        assert counts[GenerationStatus.SUCCEEDED] == len(ids)
        attempts = [g.attempts for g in await rig.jobs(ids)]
        assert sum(attempts) <= len(ids) + 2, attempts  # only the killed worker's two jobs ran twice
    finally:
        for process in (doomed, survivor, replacement):
            if process is not None:
                stop(process)
        for log in (doomed_log, survivor_log, replacement_log):
            if log is not None:
                log.close()
        redis.kill()
        await rig.close()
