"""``dreamina privacy-worker`` killed with SIGKILL inside a step, between its effect and the record of it (issue 18),
then restarted without the failpoint; on SQLite and PostgreSQL.

- An export killed after its archive is written but before ``archive_built`` is recorded, then after its
  ``export_ready`` mail is sent but before the outbox forgets it: it ends with one archive and one mail.
- An erasure killed after its ``erasure_started`` mail is sent but before the outbox forgets it, then after the
  subject's objects are deleted but before ``erased:objects`` is recorded: it ends with one notice and no residue.

Each restart comes after the dead worker's leases ran out: the job's (``DREAMINA_JOB_LEASE_SECONDS``, 2 s here) and
the message's delivery lease (two minutes, stood in for by moving the message's next attempt to now). Before the
fix the redelivery wrote a second copy of each mail.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from PIL import Image

from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import Container, build_container, sql_database
from dreamina.domain.data_rights.jobs import export_key
from dreamina.domain.generation.validation import GenerationRequest
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.data_rights import JobState, RequestStatus
from dreamina.settings import load_settings

from ..integration.test_erasure_residue import scan_objects, scan_tables
from .helpers import PASSWORD, verify_by_mail
from .kill_rig import killed_at, logged, mailed, start, stop, until

PROMPT = "a paper crane over a frozen lake"


@pytest.fixture
def more_settings() -> dict[str, str]:
    """Settings a module that borrows :func:`rig` adds for both its container and its workers."""
    return {}


@pytest.fixture
async def rig(
    database_url: str, tmp_path: Path, more_settings: dict[str, str]
) -> AsyncIterator[tuple[Container, dict[str, str]]]:
    """The test's own container over the workers' database and folders (it runs no job itself), and the workers'
    settings."""
    settings = {
        "DREAMINA_DATA_DIR": str(tmp_path / "data"),
        "DREAMINA_DATABASE_URL": database_url,
        "DREAMINA_JOB_LEASE_SECONDS": "2",
        **more_settings,
    }
    container = build_container(
        load_settings(settings),
        passwords=Argon2PasswordHasher.fast(),
        mailer=InMemoryMailer(),  # the set-up's own mail (verification); the workers mail to the outbox folder
        job_queue=ManualJobQueue(),  # no in-process runner: only the worker processes run privacy jobs
    )
    await container.start()
    try:
        yield container, settings
    finally:
        await container.aclose()


async def subject_with_content(container: Container, email: str) -> UUID:
    """A verified account with an upload and a generation whose output is in the object store."""
    identity = container.identity
    await identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 1, 1), "DE", None, 1))
    await verify_by_mail(container, email)  # notices go to verified addresses only
    token = await identity.sessions.issue_token(email, PASSWORD)
    subject = (await identity.sessions.authenticate(token.access_token)).account_id
    image = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 90, 20)).save(image, "PNG")
    assert container.generation.uploads is not None and container.generation.generations is not None
    upload = await container.generation.uploads.upload(subject, image.getvalue())
    request = GenerationRequest(kind="image", prompt=PROMPT, reference_upload_ids=[upload.id])
    await container.generation.generations.submit(subject, request)
    queue = container.generation.queue
    assert isinstance(queue, ManualJobQueue)
    await queue.drain(container.generation.runner.run)
    assert len(await container.infra.object_store.list(f"outputs/{subject}")) == 1
    return subject


async def request_due_now(container: Container, subject: UUID, type_: str) -> UUID:
    request = await container.data_rights.requests.submit(subject, type_, {}, password=PASSWORD)
    now = container.infra.clock.now()
    async with container.infra.uow() as uow:  # an erasure's grace period is over
        job = await uow.privacy_jobs.get(request.id)
        assert job is not None
        job.run_at(now - timedelta(seconds=1), now)
        await uow.privacy_jobs.update(job)
        await uow.commit()
    return request.id


async def delivery_lease_runs_out(container: Container, subject: UUID) -> int:
    """The killed worker's claim on the subject's mail lapses (two minutes after it took it): due again now."""
    now = container.infra.clock.now()
    async with container.infra.uow() as uow:
        claimed = await uow.mail_outbox.due(now + timedelta(minutes=3), 100, subject)
        for mail in claimed:
            await uow.mail_outbox.postpone(mail.id, now - timedelta(seconds=1))
        await uow.commit()
    return len(claimed)


async def steps_done(container: Container, request_id: UUID) -> tuple[str, ...]:
    async with container.infra.uow() as uow:
        job = await uow.privacy_jobs.get(request_id)
    assert job is not None
    return tuple(job.steps_done)


async def test_an_export_killed_after_each_effect_ends_with_one_archive_and_one_mail(
    rig: tuple[Container, dict[str, str]], tmp_path: Path
) -> None:
    container, settings = rig
    email = "kill.export@example.com"
    subject = await subject_with_content(container, email)
    request_id = await request_due_now(container, subject, "export")
    store, outbox, log = container.infra.object_store, tmp_path / "data" / "outbox", tmp_path / "privacy-worker.log"
    archive = export_key(subject, request_id)

    # 1. Killed with the archive written and not recorded.
    point = "privacy.step.after_effect=archive_built"
    await killed_at(
        start("privacy-worker", {**settings, "DREAMINA_FAILPOINTS": point}, log, "--interval", "0.5"), point, log
    )
    assert await store.list(f"exports/{subject}") == [archive]
    assert "archive_built" not in await steps_done(container, request_id)

    # 2. Restarted, it builds the archive again (same key), records it, mails, and is killed before the outbox
    # forgets the mail it sent.
    point = "mail.after_send=export_ready"
    await killed_at(
        start("privacy-worker", {**settings, "DREAMINA_FAILPOINTS": point}, log, "--interval", "0.5"), point, log
    )
    assert mailed(outbox, "export_ready") == 1
    assert await delivery_lease_runs_out(container, subject) == 1  # sent, yet still queued

    # 3. Restarted without a failpoint: the job ends, and the mail is not sent twice.
    worker = start("privacy-worker", settings, log, "--interval", "0.5")
    try:

        async def finished() -> bool:
            async with container.infra.uow() as uow:
                job = await uow.privacy_jobs.get(request_id)
                queued = await uow.mail_outbox.count_for_subject(subject)
            return job is not None and job.state == JobState.DONE and queued == 0

        await until(finished, "the export's end", log)
    finally:
        stop(worker)
    assert mailed(outbox, "export_ready") == 1
    assert logged(log, "mail_redelivery_skipped", kind="export_ready") == 1  # the window was really crossed
    assert await store.list(f"exports/{subject}") == [archive]
    assert await store.list_incomplete(f"exports/{subject}") == []
    async with container.infra.uow() as uow:
        events = await uow.privacy_request_events.list_for_request(request_id)
    assert [e.status for e in events].count(RequestStatus.COMPLETED) == 1


async def test_an_erasure_killed_after_each_effect_sends_one_notice_and_leaves_no_residue(
    rig: tuple[Container, dict[str, str]], database_url: str, tmp_path: Path
) -> None:
    container, settings = rig
    email = "kill.erasure@example.com"
    subject = await subject_with_content(container, email)
    request_id = await request_due_now(container, subject, "erasure")
    outbox, log = tmp_path / "data" / "outbox", tmp_path / "privacy-worker.log"
    async with container.infra.uow() as uow:
        job = await uow.privacy_jobs.get(request_id)
    assert job is not None
    completion_id = job.completion_id
    needles = {
        "subject id (text)": str(subject).encode(),
        "subject id (hex)": subject.hex.encode(),
        "subject id (bytes)": subject.bytes,
        "email": email.encode(),
        "prompt": PROMPT.encode(),
    }

    # 1. Killed with the "being erased" notice sent and still in the outbox.
    point = "mail.after_send=erasure_started"
    await killed_at(
        start("privacy-worker", {**settings, "DREAMINA_FAILPOINTS": point}, log, "--interval", "0.5"), point, log
    )
    assert mailed(outbox, "erasure_started") == 1
    assert await delivery_lease_runs_out(container, subject) == 1

    # 2. Restarted, it goes on (the notice is due again meanwhile) and is killed with the subject's objects deleted
    # and the step not recorded.
    point = "privacy.step.after_effect=erased:objects"
    await killed_at(
        start("privacy-worker", {**settings, "DREAMINA_FAILPOINTS": point}, log, "--interval", "0.5"), point, log
    )
    assert await container.infra.object_store.list(f"outputs/{subject}") == []
    assert "erased:objects" not in await steps_done(container, request_id)

    # 3. Restarted without a failpoint: the saga ends (its very last step removes the request rows).
    worker = start("privacy-worker", settings, log, "--interval", "0.5")
    try:

        async def erased() -> bool:
            async with container.infra.uow() as uow:
                return not await uow.privacy_requests.list_for_subject(subject)

        await until(erased, "the erasure's end", log)
    finally:
        stop(worker)
    assert mailed(outbox, "erasure_started") == 1
    assert logged(log, "mail_redelivery_skipped", kind="erasure_started") == 1
    database = sql_database(database_url, pooled=False)
    try:
        assert await scan_tables(database, needles) == []
    finally:
        await database.dispose()
    assert await scan_objects(container, needles) == []
    async with container.infra.uow() as uow:
        assert await uow.accounts.get(subject) is None
        completion = await uow.erasure_completions.get(completion_id)  # recorded once (a second add is a Conflict)
    assert completion is not None and "objects" in completion.outcome["holders"]
