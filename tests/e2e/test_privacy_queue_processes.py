"""Exports and erasures on SAQ (issue 13): the API queues a proven request's job as it commits and a real
``dreamina privacy-worker`` runs it from the ``dreamina-privacy`` queue at once, not at its timer's next pass; two
workers run each job once; and when Redis loses what was queued, the worker's reaper queues it again. PostgreSQL,
a private Redis, real processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import pytest
import redis

from dreamina.adapters.mail.outbox import read_outbox
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import Container, build_container
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.data_rights import RequestStatus
from dreamina.settings import load_settings
from tests import processes

from ..conftest import _fresh_database_url
from .fault_rig import PrivateRedis, assert_json_lines_without_tracebacks, logged, process_env, stop
from .helpers import PASSWORD, verify_by_mail

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LEASE = 40  # seconds: the reaper runs every quarter lease (10 s), so a job run sooner came from the API's enqueue


@pytest.fixture
async def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await _fresh_database_url(request, "postgres", tmp_path)


@pytest.fixture
def private_redis(tmp_path: Path) -> Any:
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


def _settings(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "DREAMINA_DATA_DIR": str(tmp_path / "data"),
        "DREAMINA_DATABASE_URL": database_url,
        "DREAMINA_QUEUE": "saq",
        "DREAMINA_REDIS_URL": redis_url,
        "DREAMINA_JOB_LEASE_SECONDS": str(LEASE),
        "DREAMINA_ARGON2_MEMORY_KIB": "8192",
    }


class PrivacyWorkers:
    def __init__(self, tmp_path: Path, settings: dict[str, str]) -> None:
        self.tmp_path, self.settings = tmp_path, settings
        self.running: list[tuple[subprocess.Popen[bytes], IO[bytes], Path]] = []

    async def start(self, name: str) -> Path:
        """A privacy worker whose own timer runs once at start and then not for 10 minutes."""
        log = self.tmp_path / f"{name}.log"
        out = log.open("ab")
        process = processes.start(["privacy-worker", "--interval", "600"], process_env(self.settings), out)
        self.running.append((process, out, log))
        await logged(log, "privacy_queue_started", process, seconds=60)
        await logged(log, "data_rights_pass_finished", process, seconds=60)
        return log

    def stop_all(self) -> None:
        for process, out, log in self.running:
            if process.poll() is None:
                process.terminate()  # SIGTERM: SAQ's worker stops, then the timer; exit 0
                assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
            stop(process)
            out.close()
            assert_json_lines_without_tracebacks(log)
        self.running = []


def _reaped(log: Path) -> int:
    """How many jobs the worker sent to the queue itself, never a job the API queued: its SAQ reaper (every quarter
    lease) and its timer's pass (at start, then every interval) both send every due job the queue does not hold."""
    queued = 0
    for line in log.read_text(errors="replace").splitlines():
        if '"privacy_reaper"' in line:
            queued += json.loads(line).get("queued", 0)
        elif '"data_rights_pass_finished"' in line:
            queued += json.loads(line).get("jobs_queued", 0)
    return queued


async def _logged_reaping(log: Path, seconds: float) -> None:
    started = time.monotonic()
    while True:
        if _reaped(log) or time.monotonic() - started >= seconds:
            return
        await asyncio.sleep(0.1)


async def _api(settings: dict[str, str]) -> Container:
    """The API's wiring (the test's own process): it queues on SAQ, as ``dreamina serve`` does."""
    container = build_container(load_settings(settings), passwords=Argon2PasswordHasher.fast(), mailer=InMemoryMailer())
    await container.start()
    return container


async def _subject(api: Container, email: str) -> UUID:
    await api.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 1, 1), "DE", None, 1))
    await verify_by_mail(api, email)
    token = await api.identity.sessions.issue_token(email, PASSWORD)
    return (await api.identity.sessions.authenticate(token.access_token)).account_id


def _outcomes(logs: list[Path]) -> Counter[str]:
    ran = [line for log in logs for line in log.read_text(errors="replace").splitlines() if '"privacy_job"' in line]
    return Counter(json.loads(line)["outcome"] for line in ran)


async def _logged_outcomes(logs: list[Path], at_least: int, seconds: float) -> Counter[str]:
    """The job outcomes the workers logged, once there are ``at_least`` of them (or ``seconds`` have passed), read
    again a second later so that a job run twice shows."""
    started = time.monotonic()
    while True:
        if sum(_outcomes(logs).values()) >= at_least or time.monotonic() - started >= seconds:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)
    return _outcomes(logs)


async def _completed(api: Container, ids: list[UUID], seconds: float) -> None:
    started = time.monotonic()
    while True:
        async with api.infra.uow() as uow:
            found = [await uow.privacy_requests.get(i) for i in ids]
        if all(r is not None and r.status == RequestStatus.COMPLETED for r in found):
            return
        assert time.monotonic() - started < seconds, [r.status if r else None for r in found]
        await asyncio.sleep(0.2)


async def test_the_api_queues_exports_and_two_workers_run_each_once(
    tmp_path: Path, postgres_url: str, private_redis: PrivateRedis
) -> None:
    settings = _settings(tmp_path, postgres_url, private_redis.url)
    api = await _api(settings)
    workers = PrivacyWorkers(tmp_path, settings)
    try:
        subjects = [await _subject(api, f"export{n}@example.com") for n in range(4)]
        logs = [await workers.start("privacy-worker-1"), await workers.start("privacy-worker-2")]
        requests = [await api.data_rights.requests.submit(s, "export", {}, password=PASSWORD) for s in subjects]
        await _completed(api, [r.id for r in requests], seconds=60)  # the timers wait 10 minutes
        assert [_reaped(log) for log in logs] == [0, 0]  # every job came from the API's enqueue, none from a reaper
        # a worker logs a job's outcome once the job has returned, after its request was completed
        outcomes = await _logged_outcomes(logs, at_least=4, seconds=30)
        assert outcomes == {"done": 4}  # each once, by one worker
    finally:
        workers.stop_all()
        await api.aclose()
    mailed = Counter((m.to, m.kind) for m in read_outbox(tmp_path / "data" / "outbox"))
    assert all(mailed[(f"export{n}@example.com", "export_ready")] == 1 for n in range(4)), mailed


async def test_a_job_redis_lost_is_queued_again_by_the_reaper(
    tmp_path: Path, postgres_url: str, private_redis: PrivateRedis
) -> None:
    settings = _settings(tmp_path, postgres_url, private_redis.url)
    api = await _api(settings)
    workers = PrivacyWorkers(tmp_path, settings)
    try:
        subject = await _subject(api, "lost@example.com")
        request = await api.data_rights.requests.submit(subject, "export", {}, password=PASSWORD)  # queued, no worker
        client = redis.Redis(port=private_redis.port)
        assert client.zcard("saq:dreamina-privacy:incomplete") == 1
        client.flushall()  # Redis restarted empty: the queued job is gone
        client.close()
        log = await workers.start("privacy-worker")
        await _completed(api, [request.id], seconds=60)
        # the reaper (or the timer's first pass) found the due job in the database and queued it; it logs that once
        # its pass is over, which may be after the job it queued has already run. The two may both send it when they
        # run at once (each counts what it sent); the queue keeps one job per request, so it runs once.
        await _logged_reaping(log, seconds=10)
        assert _reaped(log) in (1, 2)
        assert await _logged_outcomes([log], at_least=1, seconds=10) == {"done": 1}
    finally:
        workers.stop_all()
        await api.aclose()
