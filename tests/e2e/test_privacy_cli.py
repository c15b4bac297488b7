"""``dreamina privacy expedite REQUEST_ID --reason TEXT --staff EMAIL``: a privacy officer or admin runs a scheduled
erasure before its grace period ends, from the server; the data-rights worker's next pass erases the subject.

Runs the real command against SQLite and PostgreSQL (each call builds its own container from the settings).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from dreamina.bootstrap import build_container
from dreamina.domain.identity.registrations import SignUp
from dreamina.entrypoints.cli import main
from dreamina.settings import load_settings

PASSWORD = "a long enough password"


def _sign_up_and_ask_for_erasure() -> tuple[UUID, UUID]:
    async def run() -> tuple[UUID, UUID]:
        container = build_container(load_settings())
        try:
            await container.start()
            identity = container.identity
            for email in ("officer@example.com", "helper@example.com", "leaving@example.com"):
                await identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 1, 1), "DE", None, 1))
            token = await identity.sessions.issue_token("leaving@example.com", PASSWORD)
            subject = (await identity.sessions.authenticate(token.access_token)).account_id
            request = await container.data_rights.requests.submit(subject, "erasure", {}, password=PASSWORD)
            assert request.status == "scheduled"
            return subject, request.id
        finally:
            await container.aclose()

    return asyncio.run(run())


def _stored(subject: UUID, request_id: UUID) -> tuple[bool, str | None, bool]:
    """Whether the account exists, the request's status, and whether its job is due now."""

    async def run() -> tuple[bool, str | None, bool]:
        container = build_container(load_settings())
        try:
            async with container.infra.uow() as uow:
                account = await uow.accounts.get(subject)
                request = await uow.privacy_requests.get(request_id)
                job = await uow.privacy_jobs.get(request_id)
            due = job is not None and job.run_after <= container.infra.clock.now()
            return account is not None, None if request is None else request.status.value, due
        finally:
            await container.aclose()

    return asyncio.run(run())


def test_privacy_expedite_runs_a_scheduled_erasure_on_the_next_worker_pass(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DREAMINA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DREAMINA_DATABASE_URL", database_url)
    monkeypatch.setenv("DREAMINA_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("DREAMINA_ARGON2_TIME_COST", "1")
    subject, request_id = _sign_up_and_ask_for_erasure()
    assert main(["staff", "create", "officer@example.com", "privacy_officer"]) == 0
    assert main(["staff", "create", "helper@example.com", "support"]) == 0
    capsys.readouterr()

    def expedite(request: UUID, staff: str, reason: str = "the subject asked by letter") -> int:
        return main(["privacy", "expedite", str(request), "--reason", reason, "--staff", staff])

    assert expedite(request_id, "helper@example.com") == 1  # support may read the queue, not decide
    assert "privacy_officer or admin" in capsys.readouterr().err
    assert expedite(request_id, "leaving@example.com") == 1  # an account without a staff role
    assert "privacy_officer or admin" in capsys.readouterr().err
    assert expedite(request_id, "nobody@example.com") == 1
    assert "no account with that email" in capsys.readouterr().err
    assert expedite(uuid.uuid4(), "officer@example.com") == 1
    assert "no such request" in capsys.readouterr().err
    assert expedite(request_id, "officer@example.com", reason="no") == 1  # a reason of 3 characters at least
    assert _stored(subject, request_id) == (True, "scheduled", False)  # nothing was refused halfway

    assert expedite(request_id, "officer@example.com") == 0
    out = capsys.readouterr().out
    assert str(request_id) in out and "leaving@example.com" not in out
    assert _stored(subject, request_id) == (True, "scheduled", True)
    assert expedite(request_id, "officer@example.com") == 0  # still scheduled: expediting again changes nothing

    assert main(["privacy-worker", "--once"]) == 0
    assert _stored(subject, request_id) == (False, None, False)
    assert expedite(request_id, "officer@example.com") == 1  # the request went with the subject


def test_a_one_shot_command_starts_no_background_work(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``dreamina staff ...``, ``dreamina privacy expedite ...``: the embedded profile's job workers, reapers and
    periodic passes are the server's (and ``privacy-worker``'s). Started in a command that exits at once, they took
    a job they could not finish, and its lease kept ``privacy-worker --once`` off it (a CI run's failure of the test
    above, on a busy machine). The server's own start still runs them."""
    from dreamina.entrypoints.cli import _with_container

    monkeypatch.setenv("DREAMINA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DREAMINA_DATABASE_URL", database_url)

    async def started_tasks(container: object) -> set[str]:
        await asyncio.sleep(0)
        return {t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    one_shot = asyncio.run(_with_container(started_tasks))

    async def server_start() -> set[str]:
        container = build_container(load_settings())
        await container.start()
        try:
            return await started_tasks(container)
        finally:
            await container.aclose()

    running = asyncio.run(server_start())
    background = {name for name in running if not name.startswith("Task-")}  # the named workers and passes
    assert {"privacy-worker-0", "generation-worker-0", "privacy_jobs_reaper"} <= background, running
    assert one_shot.isdisjoint(background), one_shot & background  # (PostgreSQL: the session-cache listener runs)
