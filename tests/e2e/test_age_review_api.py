"""Issue 12, findings 6 and 9, over HTTP on every backend: a child report opens an age review instead of locking the
account; reports about staff are escalated to admins and change nothing; the route is limited per reporter and per
target alike for known and unknown accounts; a dismissal never gives back an account whose stored birth date is
below the minimum age."""

from __future__ import annotations

import io
from typing import Any

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container
from tests.http_client import AsyncTestClient

from .helpers import PASSWORD, signed_in

REPORTS = "/v1/privacy/child-reports"
QUEUE = "/v1/admin/child-reports"
STATEMENT = "/v1/me/age-review/statement"
TROLL = "troll@example.com"


async def _staff(client: AsyncTestClient, container: Container, email: str, role: str) -> dict[str, str]:
    headers = await signed_in(client, email)
    await container.identity.staff.grant(email, role)
    return headers


async def _me(client: AsyncTestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/v1/me", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _report(client: AsyncTestClient, email: str, contact: str = TROLL) -> None:
    response = await client.post(REPORTS, json={"email": email, "contact": contact})
    assert response.status_code == 202, response.text


def _mailer(container: Container) -> InMemoryMailer:
    assert isinstance(container.infra.mailer, InMemoryMailer)
    return container.infra.mailer


async def _queue(client: AsyncTestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(QUEUE, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["reports"])


async def test_reporting_every_staff_member_leaves_staff_working_and_escalates_to_admins(
    client: AsyncTestClient, container: Container, logs: io.StringIO
) -> None:
    """Finding 6: reporting the admin killed their token at once, and reporting every staff member left nobody
    who could dismiss reports. Now a report about staff changes nothing and only (other) admins see it."""
    staff = {
        "admin@example.com": await _staff(client, container, "admin@example.com", "admin"),
        "admin2@example.com": await _staff(client, container, "admin2@example.com", "admin"),
        "officer@example.com": await _staff(client, container, "officer@example.com", "privacy_officer"),
        "support@example.com": await _staff(client, container, "support@example.com", "support"),
    }
    user = await signed_in(client, "user@example.com")
    for email in [*staff, "user@example.com"]:
        await _report(client, email, contact=f"troll.{email.split('@')[0]}@example.net")
    assert await container.children.matching.run_due() == {"child_reports_filed": 5, "child_reports_dropped": 0}

    for email, headers in staff.items():
        me = await _me(client, headers)  # every staff token is alive
        assert me["status"] == "active", email
        assert all(m.kind != "age_review_opened" for m in _mailer(container).sent_to(email)), email
    assert (await _me(client, user))["status"] == "age_review"

    # the privacy officer sees only the report about the user, and can still dismiss it
    (ordinary,) = await _queue(client, staff["officer@example.com"])
    assert ordinary["escalated"] is False
    dismissed = await client.post(
        f"{QUEUE}/{ordinary['id']}/dismiss", headers=staff["officer@example.com"], json={"reason": "adult"}
    )
    assert dismissed.status_code == 200, dismissed.text
    assert (await _me(client, user))["status"] == "active"

    # each admin sees the escalated reports about everyone but themselves
    first = {r["subject_id"]: r for r in await _queue(client, staff["admin@example.com"])}
    second = {r["subject_id"]: r for r in await _queue(client, staff["admin2@example.com"])}
    ids = {email: (await _me(client, headers))["id"] for email, headers in staff.items()}
    assert set(first) == {ids[e] for e in staff if e != "admin@example.com"}
    assert set(second) == {ids[e] for e in staff if e != "admin2@example.com"}
    assert all(r["escalated"] for r in [*first.values(), *second.values()])
    about_first = second[ids["admin@example.com"]]["id"]
    # neither the member reported nor a non-admin can open it: it does not exist for them
    for headers in (staff["admin@example.com"], staff["officer@example.com"]):
        view = await client.get(f"{QUEUE}/{about_first}", headers=headers, params={"reason": "curious"})
        assert view.status_code == 404, view.text
        decided = await client.post(f"{QUEUE}/{about_first}/dismiss", headers=headers, json={"reason": "mine"})
        assert decided.status_code == 404, decided.text
    # the other admin decides it
    decided = await client.post(
        f"{QUEUE}/{about_first}/dismiss", headers=staff["admin2@example.com"], json={"reason": "troll"}
    )
    assert decided.status_code == 200, decided.text
    assert (await _me(client, staff["admin@example.com"]))["status"] == "active"
    for email in staff:
        assert email not in logs.getvalue()


async def test_an_age_review_keeps_the_holders_rights_and_stops_new_creation(
    client: AsyncTestClient, container: Container
) -> None:
    """Finding 6: the report no longer locks the holder out. They are mailed (through the outbox), keep signing
    in, reading, exporting and deleting, and answer the review; generation, uploads and purchases are 403."""
    holder = await signed_in(client, "holder@example.com")
    await _report(client, "holder@example.com")
    await container.children.matching.run_due()

    (notice,) = [m for m in _mailer(container).sent_to("holder@example.com") if m.kind == "age_review_opened"]
    assert "statement" in notice.body and TROLL not in notice.body
    async with container.infra.uow() as uow:
        assert await uow.mail_outbox.count_for_subject((await _me(client, holder))["id"]) == 0  # delivered
    assert (await _me(client, holder))["status"] == "age_review"
    again = await client.post("/v1/auth/token", json={"email": "holder@example.com", "password": PASSWORD})
    assert again.status_code == 200

    refused = [
        await client.post("/v1/generations", headers=holder, json={"kind": "image", "prompt": "a harbour"}),
        await client.post("/v1/uploads", headers=holder, files={"file": ("a.png", b"\x89PNG\r\n\x1a\n", "image/png")}),
        await client.post("/v1/billing/checkout", headers=holder, json={"pack_id": "starter"}),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "age_review"

    assert (await client.get("/v1/privacy/requests", headers=holder)).status_code == 200
    export = await client.post("/v1/privacy/requests", headers=holder, json={"type": "export", "details": {}})
    assert export.status_code == 202, export.text
    erasure = await client.post("/v1/privacy/requests", headers=holder, json={"type": "erasure", "details": {}})
    assert erasure.status_code == 202, erasure.text

    too_long = await client.post(STATEMENT, headers=holder, json={"statement": "x" * 2001})
    assert too_long.status_code in {400, 422}
    answered = await client.post(STATEMENT, headers=holder, json={"statement": "I am 34; ask for my ID"})
    assert answered.status_code == 200 and answered.json()["status"] == "received", answered.text

    officer = await _staff(client, container, "officer@example.com", "privacy_officer")
    (report,) = await _queue(client, officer)
    assert report["statement_at"] is not None and "ask for my ID" not in str(report)  # the list shows no text
    view = await client.get(f"{QUEUE}/{report['id']}", headers=officer, params={"reason": "deciding"})
    assert view.status_code == 200 and view.json()["statement"] == "I am 34; ask for my ID"
    dismissed = await client.post(f"{QUEUE}/{report['id']}/dismiss", headers=officer, json={"reason": "ID seen"})
    assert dismissed.status_code == 200, dismissed.text
    assert (await _me(client, holder))["status"] == "active"
    lifted = [m for m in _mailer(container).sent_to("holder@example.com") if m.kind == "age_review_lifted"]
    assert len(lifted) == 1
    generation = await client.post("/v1/generations", headers=holder, json={"kind": "image", "prompt": "a harbour"})
    assert generation.status_code == 202, generation.text


async def test_reports_are_limited_per_reporter_and_per_target_alike_for_known_and_unknown_accounts(
    client: AsyncTestClient, container: Container
) -> None:
    """Finding 6: one troll could lock out anyone, as often as they liked. Now past 5 reports a day from one
    contact, or about one address, the route answers 429, whether or not the account exists."""
    await signed_in(client, "known@example.com")
    limit = container.children.intake.rules.per_target_limit
    assert limit == container.children.intake.rules.per_reporter_limit == 5

    answers: dict[str, Any] = {}
    for target in ("known@example.com", "unknown@example.com"):
        for i in range(limit):
            await _report(client, target, contact=f"reporter{i}.{target.split('@')[0]}@example.org")
        answers[target] = await client.post(REPORTS, json={"email": target, "contact": "late@example.org"})
    known, unknown = answers["known@example.com"], answers["unknown@example.com"]
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json() and known.json()["code"] == "too_many_attempts"
    assert int(known.headers["retry-after"]) >= 1

    for i in range(limit):
        await _report(client, f"target{i}@example.com", contact="busy.reporter@example.org")
    busy = await client.post(REPORTS, json={"email": "known2@example.com", "contact": "busy.reporter@example.org"})
    assert busy.status_code == 429 and busy.json() == known.json()
    await container.children.matching.run_due()
    async with container.infra.uow() as uow:
        (report,) = await uow.child_reports.list_open(10)
    assert report.reports_received == limit  # the refused report was not filed


async def test_dismissal_never_gives_back_an_account_whose_stored_birth_date_is_below_the_minimum(
    client: AsyncTestClient, container: Container
) -> None:
    """Finding 9: dismissing the report a birth-date correction raised reactivated the account although the stored
    birth date was still below the minimum age. Now the dismissal is a 409 until the holder corrects it."""
    subject = await signed_in(client, "young@example.com")
    child = await client.patch("/v1/me", headers=subject, json={"birth_date": "2017-05-06"})
    assert child.status_code == 200 and child.json()["status"] == "age_review", child.text
    officer = await _staff(client, container, "officer@example.com", "privacy_officer")
    (report,) = await _queue(client, officer)
    assert report["source"] == "birth_date_correction"

    refused = await client.post(f"{QUEUE}/{report['id']}/dismiss", headers=officer, json={"reason": "looks fine"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "birth_date_below_minimum_age"
    assert (await _me(client, subject))["status"] == "age_review"
    assert [r["id"] for r in await _queue(client, officer)] == [report["id"]]  # still open

    # the holder (still signed in) corrects the typo and says so; now the dismissal lifts the review
    corrected = await client.patch("/v1/me", headers=subject, json={"birth_date": "1987-05-06"})
    assert corrected.status_code == 200 and corrected.json()["status"] == "age_review", corrected.text
    said = await client.post(STATEMENT, headers=subject, json={"statement": "I mistyped my birth year"})
    assert said.status_code == 200
    dismissed = await client.post(f"{QUEUE}/{report['id']}/dismiss", headers=officer, json={"reason": "typo"})
    assert dismissed.status_code == 200, dismissed.text
    assert (await _me(client, subject))["status"] == "active"


async def test_received_reports_are_matched_by_the_privacy_worker_and_in_the_embedded_process(
    client: AsyncTestClient, container: Container, tmp_path: Any
) -> None:
    """Production: each pass of ``dreamina privacy-worker`` matches what the route received. Embedded: the API
    process runs the same pass on a 2-second timer."""
    from dreamina.bootstrap import build_container, memory_database
    from dreamina.entrypoints.workers.data_rights import DataRightsRunner
    from dreamina.settings import load_settings

    from .conftest import test_overrides

    holder = await signed_in(client, "holder@example.com")
    await _report(client, "holder@example.com")
    assert (await _me(client, holder))["status"] == "active"  # nothing looked for the account in the request
    counts = await DataRightsRunner(container).run_once()
    assert counts["child_reports_filed"] == 1 and counts["child_reports_dropped"] == 0
    assert (await _me(client, holder))["status"] == "age_review"

    overrides = test_overrides()
    del overrides["job_queue"]  # the embedded profile: everything runs in this process
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path / "embedded")})
    embedded = build_container(settings, uow=memory_database().unit_of_work, **overrides)
    timers = {getattr(getattr(start, "__self__", None), "name", None) for start in embedded.lifecycle.workers}
    assert "child_report_matching" in timers, timers
    await embedded.aclose()
