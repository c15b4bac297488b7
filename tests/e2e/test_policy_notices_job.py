"""Policy-change notices are a durable job (finding 15): publishing records that the notices of version N are due,
in the same unit of work, and answers at once; the job mails every account once, in batches, and resumes after an
interruption without skipping or repeating anybody. Staff read its progress."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container, build_container
from dreamina.domain.consent.policy_changes import PolicyChanges
from dreamina.domain.identity.registrations import SignUp
from dreamina.entrypoints.workers.data_rights import DataRightsRunner
from dreamina.settings import load_settings
from tests.http_client import AsyncTestClient

from .conftest import test_overrides
from .helpers import PASSWORD, TOKEN_IN_LINK, signed_in
from .test_policy_change_and_staff import NEW_TEXT

READERS = 23


async def _readers(container: Container, count: int = READERS) -> set[str]:
    """``count`` accounts with verified addresses (notices go only to verified addresses)."""
    emails = {f"reader{i}@example.com" for i in range(count)}
    for email in sorted(emails):
        await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 4, 1), "DE", None, 1))
    for mail in _mailer(container).sent:
        if mail.kind == "verify_email" and mail.to in emails:
            found = TOKEN_IN_LINK.search(mail.body)
            assert found is not None
            await container.identity.verification.verify(found.group(1))
    return emails


def _mailer(container: Container) -> InMemoryMailer:
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    return mailer


def _notices(container: Container) -> Counter[str]:
    return Counter(m.to for m in _mailer(container).sent if m.kind == "policy_change")


async def _publish(client: AsyncTestClient, container: Container) -> tuple[dict[str, str], dict[str, Any]]:
    admin = await signed_in(client, "boss@example.com")
    await container.identity.staff.grant("boss@example.com", "admin")
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    effective = clock.now() + timedelta(days=30)
    published = await client.post(
        "/v1/admin/policy/versions", json={"text": NEW_TEXT, "effective_at": effective.isoformat()}, headers=admin
    )
    assert published.status_code == 201, published.text
    return admin, published.json()


async def _status(client: AsyncTestClient, admin: dict[str, str], version: int) -> dict[str, Any]:
    answer = await client.get(f"/v1/admin/policy/versions/{version}/notices", headers=admin)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_publishing_answers_at_once_and_mails_nobody(client: AsyncTestClient, container: Container) -> None:
    await _readers(container)
    admin, body = await _publish(client, container)
    assert body["version"] == 2
    assert (body["notices"]["status"], body["notices"]["sent"]) == ("pending", 0)
    assert _notices(container) == Counter()
    status = await _status(client, admin, 2)
    assert (status["status"], status["sent"], status["finished_at"]) == ("pending", 0, None)
    missing = await client.get("/v1/admin/policy/versions/99/notices", headers=admin)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    for bad in ("0", "99999999999999999999", "two"):
        refused = await client.get(f"/v1/admin/policy/versions/{bad}/notices", headers=admin)
        assert refused.status_code in (400, 404), (bad, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json"), bad


async def test_the_job_mails_every_account_once(client: AsyncTestClient, container: Container) -> None:
    readers = await _readers(container)
    admin, _ = await _publish(client, container)
    assert await container.consent.policy_changes.send_due_notices() == READERS + 1
    assert await container.consent.policy_changes.send_due_notices() == 0  # nothing left: a second pass is a no-op
    assert _notices(container) == Counter({email: 1 for email in readers | {"boss@example.com"}})
    status = await _status(client, admin, 2)
    assert (status["status"], status["sent"]) == ("done", READERS + 1) and status["finished_at"] is not None


async def test_an_interrupted_run_resumes_without_skipping_or_repeating_anybody(
    client: AsyncTestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    readers = await _readers(container)
    admin, _ = await _publish(client, container)
    infra = container.infra
    job = PolicyChanges(
        uow=infra.uow,
        catalogue=container.consent.policies,
        mail=infra.mail,
        keyrings=infra.keyrings,
        clock=infra.clock,
        policy_url="https://dreamina.test/v1/privacy/policy",
        batch_size=5,
    )
    batches = 0
    addresses = job._addresses

    async def killed_on_the_third_batch(*args: Any) -> dict[Any, str]:
        nonlocal batches
        batches += 1
        if batches == 3:
            raise RuntimeError("the worker was killed mid-batch")
        return await addresses(*args)

    monkeypatch.setattr(job, "_addresses", killed_on_the_third_batch)
    with pytest.raises(RuntimeError):
        await job.send_due_notices()
    midway = await _status(client, admin, 2)
    assert (midway["status"], midway["sent"]) == ("sending", 10)
    assert sum(_notices(container).values()) == 10

    assert await job.send_due_notices() == READERS + 1 - 10
    assert _notices(container) == Counter({email: 1 for email in readers | {"boss@example.com"}})
    done = await _status(client, admin, 2)
    assert (done["status"], done["sent"]) == ("done", READERS + 1)


async def test_the_privacy_worker_runs_the_notices(client: AsyncTestClient, container: Container) -> None:
    readers = await _readers(container, 3)
    await _publish(client, container)
    counts = await DataRightsRunner(container).run_once()
    assert counts["policy_notices_sent"] == 4
    assert set(_notices(container)) == readers | {"boss@example.com"}


async def test_the_embedded_process_runs_the_notices_on_a_timer(uow_factory: Any, tmp_path: Any) -> None:
    overrides = {k: v for k, v in test_overrides().items() if k != "job_queue"}  # the in-process queue: embedded
    container = build_container(load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=uow_factory, **overrides)
    try:
        loops = {
            getattr(hook.__self__, "name", None) for hook in container.lifecycle.workers if hasattr(hook, "__self__")
        }
        assert "policy_notices" in loops
    finally:
        await container.aclose()
