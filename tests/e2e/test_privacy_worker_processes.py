"""Two privacy workers at once, as real processes (issue 13, finding 10): each job runs once, each notice is mailed
once. Before job leases, 5 of 6 subjects got two "being erased" mails. Neither worker sends a message the other
already sent (the outbox folder would keep one copy, ``mail_redelivery_skipped``, where SMTP would deliver two)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from dreamina.adapters.mail.outbox import read_outbox
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.adapters.queue.in_process import InProcessJobQueue
from dreamina.bootstrap import build_container
from dreamina.domain.identity.registrations import SignUp
from dreamina.settings import load_settings

from .helpers import PASSWORD, verify_by_mail
from .kill_rig import logged

SUBJECTS = 3


async def test_two_privacy_worker_processes_run_each_job_once(database_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    environment = {"DREAMINA_DATA_DIR": str(data), "DREAMINA_DATABASE_URL": database_url}
    setup_mail = InMemoryMailer()  # the set-up's own mail (verification links); the workers mail to the outbox
    # a queue of its own, never started: the set-up runs no job, so every one is left to the two workers
    container = build_container(
        load_settings(environment),
        passwords=Argon2PasswordHasher.fast(),
        mailer=setup_mail,
        job_queue=InProcessJobQueue(),
    )
    await container.start()
    try:
        requests = []
        for n in range(SUBJECTS):
            for kind in ("erasure", "export"):
                email = f"{kind}{n}@example.com"
                await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 1, 1), "DE", None, 1))
                await verify_by_mail(container, email)  # notices go to verified addresses only
                token = await container.identity.sessions.issue_token(email, PASSWORD)
                subject = (await container.identity.sessions.authenticate(token.access_token)).account_id
                requests.append(await container.data_rights.requests.submit(subject, kind, {}, password=PASSWORD))
        async with container.infra.uow() as uow:  # the erasures' grace period is over
            for request in requests:
                job = await uow.privacy_jobs.get(request.id)
                assert job is not None
                job.run_at(container.infra.clock.now() - timedelta(seconds=1), container.infra.clock.now())
                await uow.privacy_jobs.update(job)
            await uow.commit()
    finally:
        await container.aclose()
    already = Counter((m.to, m.kind) for m in read_outbox(data / "outbox"))

    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_")}
    env.update(environment)
    logs = [tmp_path / f"privacy-worker-{n}.log" for n in range(2)]  # scanned by the log audit too
    workers = []
    for log in logs:
        with log.open("ab") as out:
            workers.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "dreamina.entrypoints.cli",
                    "privacy-worker",
                    "--once",
                    env=env,
                    stdout=out,
                    stderr=out,
                )
            )
    assert [await asyncio.wait_for(w.wait(), timeout=300) for w in workers] == [0, 0]
    assert not any(logged(log, "mail_redelivery_skipped") for log in logs)

    mailed = Counter((m.to, m.kind) for m in read_outbox(data / "outbox")) - already
    for n in range(SUBJECTS):
        assert mailed[(f"erasure{n}@example.com", "erasure_started")] == 1, mailed
        assert mailed[(f"export{n}@example.com", "export_ready")] == 1, mailed
    container = build_container(load_settings(environment))
    try:
        async with container.infra.uow() as uow:
            for request in requests:
                if request.type == "erasure":
                    assert await uow.accounts.get(request.subject_id) is None  # erased
                    continue
                events = await uow.privacy_request_events.list_for_request(request.id)
                assert [e.status for e in events].count("completed") == 1
    finally:
        await container.aclose()


async def test_sigterm_ends_the_privacy_worker_cleanly(tmp_path: Path) -> None:
    """A deploy stops the worker with SIGTERM: it finishes the pass under way and exits 0 (it died of the signal,
    -15, before), with its container closed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_")}
    env["DREAMINA_DATA_DIR"] = str(tmp_path / "data")
    log = tmp_path / "privacy-worker.log"
    with log.open("ab") as out:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "dreamina.entrypoints.cli", "privacy-worker", env=env, stdout=out, stderr=out
        )
    deadline = asyncio.get_running_loop().time() + 60
    while not logged(log, "data_rights_pass_finished"):  # running: the first pass is over
        assert asyncio.get_running_loop().time() < deadline, log.read_text()
        assert worker.returncode is None, log.read_text()
        await asyncio.sleep(0.1)
    worker.terminate()
    assert await asyncio.wait_for(worker.wait(), timeout=30) == 0, log.read_text()
    assert logged(log, "privacy_worker_stopped")
