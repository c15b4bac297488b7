"""Children (section 9, G8) over HTTP: anyone reports an account, it is under age review once matched, staff confirm
(erasure) or dismiss (the review lifted); a birth date corrected below the minimum age is treated the same."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container, build_container, memory_database
from dreamina.ports.generation import GenerationStatus
from dreamina.settings import load_settings
from tests.http_client import AsyncTestClient

from .conftest import app_for, test_overrides
from .data_rights_helpers import submit
from .helpers import PASSWORD, signed_in

REPORTER = "concerned.parent@example.org"
DETAILS = "My son Timmy is ten and made this account"
REPORTS = "/v1/privacy/child-reports"
QUEUE = "/v1/admin/child-reports"


async def _officer(client: AsyncTestClient, container: Container, role: str = "privacy_officer") -> dict[str, str]:
    headers = await signed_in(client, f"{role}@example.com")
    await container.identity.staff.grant(f"{role}@example.com", role)
    return headers


async def _matched(container: Container) -> dict[str, int]:
    """What the embedded profile does seconds after a report (the privacy worker in production)."""
    return await container.children.matching.run_due()


async def _me(client: AsyncTestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/v1/me", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_report_opens_an_age_review_and_never_reveals_whether_the_account_exists(
    client: AsyncTestClient, container: Container, logs: io.StringIO
) -> None:
    kid = await signed_in(client, "kid@example.com")
    kid_id = (await _me(client, kid))["id"]
    generation = await client.post("/v1/generations", headers=kid, json={"kind": "image", "prompt": "a unicorn"})
    assert generation.status_code == 202, generation.text

    known = await client.post(
        REPORTS,
        json={"email": "kid@example.com", "contact": REPORTER, "details": DETAILS, "relationship": "parent"},
    )
    unknown_email = await client.post(REPORTS, json={"email": "nobody@example.com", "contact": REPORTER})
    unknown_id = await client.post(REPORTS, json={"account_id": str(uuid.uuid4()), "contact": REPORTER})
    by_id = await client.post(REPORTS, json={"account_id": kid_id, "contact": "teacher@example.org"})
    for response in (known, unknown_email, unknown_id, by_id):
        assert response.status_code == 202, response.text
    assert known.json() == unknown_email.json() == unknown_id.json() == by_id.json()
    assert known.headers.get("content-length") == unknown_id.headers.get("content-length")
    assert await _matched(container) == {"child_reports_filed": 2, "child_reports_dropped": 2}

    # under age review: the holder still signs in and reads; the queued generation is cancelled
    assert (await _me(client, kid))["status"] == "age_review"
    again = await client.post("/v1/auth/token", json={"email": "kid@example.com", "password": PASSWORD})
    assert again.status_code == 200
    assert container.generation.generations is not None
    stopped = await container.generation.generations.get(uuid.UUID(kid_id), uuid.UUID(generation.json()["id"]))
    assert stopped.status is GenerationStatus.CANCELED

    officer = await _officer(client, container)
    queue = await client.get(QUEUE, headers=officer)
    assert queue.status_code == 200
    (report,) = queue.json()["reports"]
    assert report["subject_id"] == kid_id and report["reports_received"] == 2 and report["status"] == "open"
    assert REPORTER not in queue.text and "Timmy" not in queue.text  # the list shows no reporter data
    assert (await client.get(f"{QUEUE}/{report['id']}", headers=officer)).status_code == 400  # a reason is required
    view = await client.get(f"{QUEUE}/{report['id']}", headers=officer, params={"reason": "triage"})
    assert view.status_code == 200, view.text
    assert sorted(r["contact"] for r in view.json()["reporters"]) == [REPORTER, "teacher@example.org"]
    assert view.json()["details"] == [DETAILS]
    # nothing the reporter sent, nor the reported email, reaches the logs
    for secret in (REPORTER, "Timmy", "kid@example.com", "teacher@example.org"):
        assert secret not in logs.getvalue()


async def test_bad_reports_are_clear_4xx(client: AsyncTestClient) -> None:
    for body in (
        {"contact": REPORTER},
        {"contact": REPORTER, "email": "a@example.com", "account_id": str(uuid.uuid4())},
        {"contact": "nope", "email": "a@example.com"},
        {"contact": REPORTER, "email": "a@example.com", "relationship": "neighbour"},
        {"contact": REPORTER, "email": "a@example.com", "surprise": 1},
    ):
        response = await client.post(REPORTS, json=body)
        assert response.status_code in {400, 422}, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_reports_are_rate_limited_with_retry_after(tmp_path: Path) -> None:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), "DREAMINA_RATE_LIMIT_SENSITIVE_PER_MINUTE": "3"})
    container = build_container(settings, uow=memory_database().unit_of_work, **test_overrides())
    async with AsyncTestClient(app=app_for(container)) as client:
        statuses = [
            (await client.post(REPORTS, json={"email": f"x{i}@example.com", "contact": REPORTER})).status_code
            for i in range(4)
        ]
        assert statuses == [202, 202, 202, 429]
        limited = await client.post(REPORTS, json={"email": "y@example.com", "contact": REPORTER})
        assert limited.status_code == 429
        assert limited.json()["code"] == "too_many_requests"
        assert 1 <= int(limited.headers["retry-after"]) <= 120  # a sliding minute: may reach into the next
    await container.aclose()


async def test_staff_confirmation_erases_the_account_through_the_data_rights_worker(
    client: AsyncTestClient, container: Container
) -> None:
    kid = await signed_in(client, "kid@example.com")
    kid_id = (await _me(client, kid))["id"]
    assert (await client.post(REPORTS, json={"email": "kid@example.com", "contact": REPORTER})).status_code == 202
    await _matched(container)
    support = await _officer(client, container, "support")
    officer = await _officer(client, container)
    (report,) = (await client.get(QUEUE, headers=support)).json()["reports"]
    refused = await client.post(f"{QUEUE}/{report['id']}/confirm", headers=support, json={"reason": "x"})
    assert refused.status_code == 403
    confirmed = await client.post(f"{QUEUE}/{report['id']}/confirm", headers=officer, json={"reason": "confirmed"})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["erasure_request_id"]
    again = await client.post(f"{QUEUE}/{report['id']}/dismiss", headers=officer, json={"reason": "changed my mind"})
    assert again.status_code == 409 and again.json()["code"] == "child_report_closed"

    assert (await container.data_rights.jobs.run_due())["done"] == 1  # the worker's pass: due at once, no grace period
    async with container.infra.uow() as uow:
        assert await uow.accounts.get(uuid.UUID(kid_id)) is None
        assert await uow.child_reports.list_for_subject(uuid.UUID(kid_id)) == []
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    (outcome,) = mailer.sent_to(REPORTER)
    assert outcome.kind == "child_report_outcome" and "kid" not in outcome.body
    assert (await client.get(QUEUE, headers=officer)).json()["reports"] == []


async def test_dismissal_lifts_the_review_and_the_holders_session_lives_on(
    client: AsyncTestClient, container: Container
) -> None:
    adult = await signed_in(client, "adult@example.com")
    assert (await client.post(REPORTS, json={"email": "adult@example.com", "contact": REPORTER})).status_code == 202
    await _matched(container)
    assert (await _me(client, adult))["status"] == "age_review"
    officer = await _officer(client, container, "admin")
    (report,) = (await client.get(QUEUE, headers=officer)).json()["reports"]
    dismissed = await client.post(f"{QUEUE}/{report['id']}/dismiss", headers=officer, json={"reason": "adult ID"})
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert (await _me(client, adult))["status"] == "active"


async def test_a_birth_date_corrected_below_the_minimum_age_opens_a_review_and_queues_a_report(
    client: AsyncTestClient, container: Container
) -> None:
    subject = await signed_in(client, "young@example.com")
    older = await client.patch("/v1/me", headers=subject, json={"birth_date": "1985-02-03"})
    assert older.status_code == 200, older.text
    assert older.json()["birth_date"] == "1985-02-03" and older.json()["status"] == "active"
    future = await client.patch("/v1/me", headers=subject, json={"birth_date": "2999-02-03"})
    assert future.status_code == 422 and future.json()["field"] == "birth_date"

    child = await client.patch("/v1/me", headers=subject, json={"birth_date": "2017-05-06"})
    assert child.status_code == 200, child.text
    assert child.json()["birth_date"] == "2017-05-06" and child.json()["status"] == "age_review"
    assert (await _me(client, subject))["status"] == "age_review"
    officer = await _officer(client, container)
    (report,) = (await client.get(QUEUE, headers=officer)).json()["reports"]
    assert report["source"] == "birth_date_correction" and report["subject_id"] == child.json()["id"]


async def test_a_rectification_request_below_the_minimum_age_is_treated_the_same(
    client: AsyncTestClient, container: Container
) -> None:
    subject = await signed_in(client, "young@example.com")
    await submit(client, subject, "rectification", {"corrections": {"birth_date": "2018-01-01"}})
    assert (await _me(client, subject))["status"] == "age_review"
    officer = await _officer(client, container)
    (report,) = (await client.get(QUEUE, headers=officer)).json()["reports"]
    assert report["source"] == "birth_date_correction"
