"""Section 11 over HTTP: anyone writes to support or the privacy contact; privacy questions reach the privacy
officers' queue on the legal clock; answers are mailed; tickets are exported, erased and swept like other data."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container, build_container, memory_database
from dreamina.entrypoints.workers.data_rights import DataRightsRunner
from dreamina.settings import load_settings
from tests.http_client import AsyncTestClient

from .conftest import START, app_for, test_overrides
from .data_rights_helpers import submit_proven
from .helpers import PASSWORD, signed_in

TICKETS = "/v1/support/tickets"
PRIVACY_QUEUE = "/v1/admin/privacy/tickets"
SUPPORT_QUEUE = "/v1/admin/support/tickets"


def _ticket(category: str = "privacy", **extra: Any) -> dict[str, Any]:
    return {"category": category, "subject": "About my data", "message": "Which data do you keep about me?", **extra}


async def _staff(client: AsyncTestClient, container: Container, role: str) -> dict[str, str]:
    headers = await signed_in(client, f"{role}@example.com")
    await container.identity.staff.grant(f"{role}@example.com", role)
    return headers


async def _sign_in_again(client: AsyncTestClient, email: str) -> dict[str, str]:
    """A fresh token (tokens live 7 days; some tests move the clock further)."""
    token = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _mailer(container: Container) -> InMemoryMailer:
    assert isinstance(container.infra.mailer, InMemoryMailer)
    return container.infra.mailer


async def test_an_anonymous_ticket_needs_a_reply_to_address(client: AsyncTestClient) -> None:
    missing = await client.post(TICKETS, json=_ticket())
    assert missing.status_code == 422 and missing.headers["content-type"].startswith("application/problem+json")
    assert (missing.json()["code"], missing.json()["field"]) == ("invalid_input", "reply_to")
    created = await client.post(TICKETS, json=_ticket(reply_to="someone@example.org"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["category"]) == ("open", "privacy")
    assert body["due_at"].startswith(START.replace(month=12).date().isoformat())  # anonymous: the GDPR month


async def test_bad_bodies_get_clear_problems(client: AsyncTestClient) -> None:
    cases = [
        ({**_ticket(reply_to="a@b.org"), "category": "sales"}, 400, "validation_failed"),
        ({"category": "other", "subject": "Hello"}, 400, "validation_failed"),
        ({**_ticket(reply_to="a@b.org"), "extra": 1}, 400, "validation_failed"),
        ({**_ticket(reply_to="a@b.org"), "message": "x" * 30_000}, 400, "validation_failed"),
        (_ticket(reply_to="a@b.org", message="short"), 422, "invalid_input"),
        (_ticket(reply_to="a@b.org", subject="Hi"), 422, "invalid_input"),
        (_ticket(reply_to="not an address"), 422, "invalid_input"),
    ]
    for body, status, code in cases:
        response = await client.post(TICKETS, json=body)
        assert (response.status_code, response.json()["code"]) == (status, code), (body, response.text)
    forged = await client.post(TICKETS, json=_ticket(), headers={"Authorization": "Bearer forged-0123456789"})
    assert forged.status_code == 401  # a bad token is refused, not treated as anonymous


async def test_a_signed_in_ticket_is_linked_and_nobody_else_reads_it(client: AsyncTestClient) -> None:
    ada = await signed_in(client, "ada@example.com", country="US", region="US-CA")
    eve = await signed_in(client, "eve@example.com")
    created = await client.post(TICKETS, json=_ticket(), headers=ada)
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    assert created.json()["due_at"].startswith((START + timedelta(days=45)).date().isoformat())  # CCPA: 45 days
    listed = (await client.get(TICKETS, headers=ada)).json()["tickets"]
    assert [(t["id"], t["signed_in"], t["jurisdiction"]) for t in listed] == [(ticket_id, True, "US-CA")]
    mine = (await client.get(f"{TICKETS}/{ticket_id}", headers=ada)).json()
    assert (mine["message"], mine["reply_to"], mine["answers"]) == ("Which data do you keep about me?", None, [])
    assert (await client.get(TICKETS, headers=eve)).json()["tickets"] == []
    theirs = await client.get(f"{TICKETS}/{ticket_id}", headers=eve)
    assert theirs.status_code == 404 and theirs.json()["code"] == "not_found"
    assert (await client.get(f"{TICKETS}/{ticket_id}")).status_code == 401


async def test_privacy_tickets_reach_the_privacy_officers_on_the_legal_clock(
    client: AsyncTestClient, container: Container
) -> None:
    officer = await _staff(client, container, "privacy_officer")
    support = await _staff(client, container, "support")
    jp = await signed_in(client, "jp@example.com", country="JP")  # APPI: 14 days
    asked = (await client.post(TICKETS, json=_ticket(subject="Where is my data?"), headers=jp)).json()
    anonymous = (await client.post(TICKETS, json=_ticket(reply_to="anon@example.org"))).json()
    billing = (await client.post(TICKETS, json=_ticket("billing", reply_to="pay@example.org"))).json()

    queue = (await client.get(PRIVACY_QUEUE, headers=officer)).json()["tickets"]
    assert [(t["id"], t["jurisdiction"], t["due_at"][:10]) for t in queue] == [
        (asked["id"], "JP", (START + timedelta(days=14)).date().isoformat()),
        (anonymous["id"], "EU", START.replace(month=12).date().isoformat()),
    ]
    assert queue[0]["subject"] == "Where is my data?" and queue[0]["flag"] is None
    assert (await client.get(PRIVACY_QUEUE, headers=support)).status_code == 403  # least privilege
    assert (await client.get(SUPPORT_QUEUE, headers=officer)).status_code == 403
    assert [t["id"] for t in (await client.get(SUPPORT_QUEUE, headers=support)).json()["tickets"]] == [billing["id"]]
    wrong_queue = await client.get(f"{SUPPORT_QUEUE}/{asked['id']}", headers=support, params={"reason": "curious"})
    assert wrong_queue.status_code == 404

    # the hourly deadline monitor flags them like privacy requests
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(days=12))
    counts = await DataRightsRunner(container).run_once()
    assert (counts["near_due"], counts["overdue"]) == (1, 0)
    clock.advance(timedelta(days=3))
    assert (await DataRightsRunner(container).run_once())["overdue"] == 1
    officer = await _sign_in_again(client, "privacy_officer@example.com")
    overdue = (await client.get(PRIVACY_QUEUE, headers=officer, params={"flag": "overdue"})).json()["tickets"]
    assert [t["id"] for t in overdue] == [asked["id"]]


async def test_staff_answers_are_mailed_and_views_are_audited(client: AsyncTestClient, container: Container) -> None:
    officer = await _staff(client, container, "privacy_officer")
    support = await _staff(client, container, "support")
    ada = await signed_in(client, "ada@example.com")
    mine = (await client.post(TICKETS, json=_ticket(), headers=ada)).json()
    anonymous = (await client.post(TICKETS, json=_ticket("billing", reply_to="Payer@Example.org"))).json()

    no_reason = await client.get(f"{PRIVACY_QUEUE}/{mine['id']}", headers=officer)
    assert no_reason.status_code == 400
    viewed = await client.get(f"{PRIVACY_QUEUE}/{mine['id']}", headers=officer, params={"reason": "answering it"})
    assert viewed.status_code == 200 and viewed.json()["message"] == "Which data do you keep about me?"
    subject_id = UUID((await client.get("/v1/me", headers=ada)).json()["id"])
    async with container.infra.uow() as uow:
        trail = await uow.audit.list_for_subject(subject_id)
    assert [(e.action, e.reason) for e in trail if e.action == "staff_viewed_support_ticket"] == [
        ("staff_viewed_support_ticket", "answering it")
    ]

    answer = "We keep your prompts until you delete them."
    replied = await client.post(f"{PRIVACY_QUEUE}/{mine['id']}/reply", headers=officer, json={"message": answer})
    assert replied.status_code == 200, replied.text
    assert replied.json()["status"] == "closed" and replied.json()["answers"][0]["message"] == answer
    [mail] = [m for m in _mailer(container).sent_to("ada@example.com") if m.kind == "support_reply"]
    assert answer in mail.body
    seen = (await client.get(f"{TICKETS}/{mine['id']}", headers=ada)).json()
    assert [a["message"] for a in seen["answers"]] == [answer]
    again = await client.post(f"{PRIVACY_QUEUE}/{mine['id']}/reply", headers=officer, json={"message": "more"})
    assert again.status_code == 409 and again.json()["code"] == "ticket_closed"

    kept_open = await client.post(
        f"{SUPPORT_QUEUE}/{anonymous['id']}/reply", headers=support, json={"message": "Refunded.", "close": False}
    )
    assert kept_open.json()["status"] == "answered"
    assert [m.kind for m in _mailer(container).sent_to("payer@example.org")] == ["support_reply"]
    closed = await client.post(f"{SUPPORT_QUEUE}/{anonymous['id']}/close", headers=support, json={"reason": "done"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert (await client.get(SUPPORT_QUEUE, headers=support)).json()["tickets"] == []


async def test_retention_deletes_closed_tickets_past_their_period_and_keeps_younger_ones(
    client: AsyncTestClient, container: Container, stored_rows: Any
) -> None:
    support = await _staff(client, container, "support")
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    old = (await client.post(TICKETS, json=_ticket("other", reply_to="old@example.org"))).json()
    await client.post(f"{SUPPORT_QUEUE}/{old['id']}/close", headers=support, json={"reason": "answered"})
    clock.advance(timedelta(days=200))
    young = (await client.post(TICKETS, json=_ticket("billing", reply_to="young@example.org"))).json()
    await client.post(f"{SUPPORT_QUEUE}/{young['id']}/close", headers=support, json={"reason": "answered"})
    clock.advance(timedelta(days=166))  # the first closed 366 days ago, the second 166
    support = await _sign_in_again(client, "support@example.com")
    reports = {r.task: r for r in await container.privacy.retention.run()}
    assert reports["support_tickets.closed_other"].applied == 1
    assert (await stored_rows())["support_tickets"] == 1
    left = await client.get(f"{SUPPORT_QUEUE}/{young['id']}", headers=support, params={"reason": "check"})
    assert left.status_code == 200
    gone = await client.get(f"{SUPPORT_QUEUE}/{old['id']}", headers=support, params={"reason": "check"})
    assert gone.status_code == 404


async def test_the_export_holds_the_subjects_tickets(client: AsyncTestClient, container: Container) -> None:
    ada = await signed_in(client, "ada@example.com")
    eve = await signed_in(client, "eve@example.com")
    await client.post(
        TICKETS, json=_ticket("billing", subject="Ada's refund", message="Please refund my pack"), headers=ada
    )
    await client.post(TICKETS, json=_ticket("other", subject="Eve's note", message="Eve writes something"), headers=eve)
    request_id = (await submit_proven(client, ada, "export"))["id"]
    assert (await container.data_rights.jobs.run_due())["done"] == 1
    response = await client.get(f"/v1/privacy/requests/{request_id}/download", headers=ada)
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    tickets = json.loads(archive.read("support_tickets.json"))
    assert [(t["subject"], t["message"], t["category"]) for t in tickets] == [
        ("Ada's refund", "Please refund my pack", "billing")
    ]
    assert "support_tickets.json" in archive.read("README.txt").decode()


async def test_logs_carry_no_address_or_message(client: AsyncTestClient, logs: io.StringIO) -> None:
    await client.post(TICKETS, json=_ticket(reply_to="hidden.sender@example.org", message="my secret question text"))
    await client.post(TICKETS, json=_ticket(message="short"))
    text = logs.getvalue()
    assert text  # requests were logged
    assert "hidden.sender" not in text and "secret question" not in text


async def test_ticket_intake_is_on_the_sensitive_budget(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DREAMINA_DATA_DIR": str(tmp_path),
            "DREAMINA_RATE_LIMIT_SENSITIVE_PER_MINUTE": "2",
            "DREAMINA_RATE_LIMIT_GENERAL_PER_MINUTE": "100",
        }
    )
    container = build_container(settings, uow=memory_database().unit_of_work, **test_overrides())
    async with AsyncTestClient(app=app_for(container)) as client:
        statuses = [(await client.post(TICKETS, json=_ticket(reply_to="a@b.org"))).status_code for _ in range(3)]
        assert statuses == [201, 201, 429]
    await container.aclose()
