"""``dreamina privacy-worker`` killed with SIGKILL in the middle of a processor notification (issue 16 finding 12):
the webhook was delivered and the worker died before recording it. Restarted, it neither loses nor duplicates a
notification: the processor's endpoint sees the same Idempotency-Key again (one request as the processor counts
them), the privacy contact's mail is queued once, and the erasure record says each was done; on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from dreamina.adapters.clock import SystemClock
from dreamina.bootstrap import Container
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.disclosures import Disclosure

from . import test_kill_inside_a_privacy_step as privacy_step
from .dsr_receiver import SECRET, Receiver
from .helpers import PASSWORD, verify_by_mail
from .kill_rig import killed_at, mailed, start, stop, until

CONTACT = "privacy@openai-processor.example.com"
rig = privacy_step.rig  # its fixture, with this module's more_settings
request_due_now = privacy_step.request_due_now


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    served = Receiver(SystemClock())
    yield served
    served.close()


@pytest.fixture
def more_settings(receiver: Receiver) -> dict[str, str]:
    routes = {"replicate": {"webhook": receiver.url, "secret": SECRET}, "openai": {"email": CONTACT}}
    return {"DREAMINA_PROCESSOR_ROUTES": json.dumps(routes)}


async def _subject(container: Container, email: str) -> UUID:
    identity = container.identity
    await identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 1, 1), "DE", None, 1))
    await verify_by_mail(container, email)
    token = await identity.sessions.issue_token(email, PASSWORD)
    subject = (await identity.sessions.authenticate(token.access_token)).account_id
    async with container.infra.uow() as uow:
        for processor, reference in (("openai", None), ("replicate", "pred-9")):
            now = container.infra.clock.now()
            await uow.disclosures.record(
                Disclosure(uuid.uuid4(), subject, processor, ("content",), "generation", reference, now)
            )
        await uow.commit()
    return subject


async def test_a_worker_killed_after_a_webhook_went_out_neither_loses_nor_duplicates_it(
    rig: tuple[Container, dict[str, str]], receiver: Receiver, tmp_path: Path
) -> None:
    container, settings = rig
    subject = await _subject(container, "kill.notice@example.com")
    request_id = await request_due_now(container, subject, "erasure")
    outbox, log = tmp_path / "data" / "outbox", tmp_path / "privacy-worker.log"

    # 1. Killed with Replicate's webhook delivered and its outcome not recorded (OpenAI's mail was recorded first).
    point = "privacy.notice.after_send=replicate"
    await killed_at(
        start("privacy-worker", {**settings, "DREAMINA_FAILPOINTS": point}, log, "--interval", "0.5"), point, log
    )
    assert len(receiver.received) == 1 and all(ok for _, _, ok in receiver.received)
    notices = {n.processor: n for n in await container.data_rights.processor_notices.for_request(request_id)}
    assert notices["replicate"].status == "open" and notices["replicate"].attempts == 0  # not recorded
    assert notices["openai"].status == "done"

    # 2. Restarted without the failpoint: the saga ends.
    worker = start("privacy-worker", settings, log, "--interval", "0.5")
    try:

        async def erased() -> bool:
            async with container.infra.uow() as uow:
                return not await uow.privacy_requests.list_for_subject(subject)

        await until(erased, "the erasure's end", log)
    finally:
        stop(worker)
    # the webhook went out again under the same key: one notification as the processor counts them
    assert len(receiver.received) == 2 and len(receiver.keys) == 1
    assert mailed(outbox, "processor_erasure_request") == 1
    notices = {n.processor: n for n in await container.data_rights.processor_notices.for_request(request_id)}
    assert {p: (n.status, n.outcome) for p, n in notices.items()} == {
        "openai": ("done", "queued"),
        "replicate": ("done", "acknowledged"),
    }
    async with container.infra.uow() as uow:
        completion = await uow.erasure_completions.get(notices["openai"].completion_id)
    assert completion is not None
    assert sorted(p["processor"] for p in completion.outcome["processors"]) == ["openai", "replicate"]
