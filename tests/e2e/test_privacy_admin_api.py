"""The staff side of data rights over HTTP: the queue sorted by due date, audited views, decisions with reasons."""

from __future__ import annotations

import uuid
from datetime import datetime

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container
from tests.http_client import AsyncTestClient

from .data_rights_helpers import submit, submit_proven
from .helpers import PASSWORD, signed_in

QUEUE = "/v1/admin/privacy/requests"


async def _officer(client: AsyncTestClient, container: Container, role: str = "privacy_officer") -> dict[str, str]:
    headers = await signed_in(client, f"{role}.staff@example.com")
    await container.identity.staff.grant(f"{role}.staff@example.com", role)
    return headers


async def test_the_queue_is_sorted_by_due_date_and_filters(client: AsyncTestClient, container: Container) -> None:
    officer = await _officer(client, container)
    german = await signed_in(client, "de.subject@example.com", country="DE")  # GDPR: one month
    korean = await signed_in(client, "kr.subject@example.com", country="KR")  # PIPA: ten days
    late = await submit(client, german, "rectification", {"free_text": "my name is misspelt"})
    soon = await submit(client, korean, "rectification", {"free_text": "my country is wrong"})
    listed = await client.get(QUEUE, headers=officer)
    assert listed.status_code == 200, listed.text
    ids = [r["id"] for r in listed.json()["requests"]]
    assert ids.index(soon["id"]) < ids.index(late["id"])  # soonest due first
    only_kr = (await client.get(QUEUE, headers=officer, params={"jurisdiction": "KR"})).json()["requests"]
    assert [r["id"] for r in only_kr] == [soon["id"]]
    bad = await client.get(QUEUE, headers=officer, params={"type": "gossip"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"


async def test_views_are_audited_and_decisions_reach_the_subject(client: AsyncTestClient, container: Container) -> None:
    officer = await _officer(client, container)
    subject = await signed_in(client, "decided@example.com")
    subject_id = uuid.UUID((await client.get("/v1/me", headers=subject)).json()["id"])
    request = await submit(client, subject, "rectification", {"free_text": "please fix my birth date"})

    no_reason = await client.get(f"{QUEUE}/{request['id']}", headers=officer)
    assert no_reason.status_code == 400
    viewed = await client.get(f"{QUEUE}/{request['id']}", headers=officer, params={"reason": "reviewing the queue"})
    assert viewed.status_code == 200 and viewed.json()["details"]["free_text"] == "please fix my birth date"
    async with container.infra.uow() as uow:
        audited = [e for e in await uow.audit.list_for_subject(subject_id) if e.actor_kind == "staff"]
    assert any(e.reason == "reviewing the queue" for e in audited)

    extended = await client.post(
        f"{QUEUE}/{request['id']}/extend", headers=officer, json={"reason": "we need the registry's answer"}
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["extended"] is True
    again = await client.post(f"{QUEUE}/{request['id']}/extend", headers=officer, json={"reason": "once more"})
    assert again.status_code == 409
    rejected = await client.post(
        f"{QUEUE}/{request['id']}/reject", headers=officer, json={"reason": "the registry confirms the date"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    told = [m for m in mailer.sent if m.to == "decided@example.com"]
    assert any("registry confirms" in m.body for m in told)
    assert any("registry's answer" in m.body for m in told)
    mine = await client.get(f"/v1/privacy/requests/{request['id']}", headers=subject)
    assert mine.json()["status"] == "rejected"


async def test_support_reads_the_queue_but_cannot_decide(client: AsyncTestClient, container: Container) -> None:
    support = await _officer(client, container, "support")
    subject = await signed_in(client, "support.case@example.com")
    request = await submit(client, subject, "rectification", {"free_text": "typo in my name"})
    assert (await client.get(QUEUE, headers=support)).status_code == 200
    decided = await client.post(f"{QUEUE}/{request['id']}/reject", headers=support, json={"reason": "no"})
    assert decided.status_code == 403 and decided.json()["code"] == "forbidden"


async def test_an_officer_expedites_a_scheduled_erasure_and_the_next_pass_runs_it(
    client: AsyncTestClient, container: Container
) -> None:
    officer = await _officer(client, container)
    subject = await signed_in(client, "leaving@example.com")
    subject_id = uuid.UUID((await client.get("/v1/me", headers=subject)).json()["id"])
    scheduled = await submit_proven(client, subject, "erasure")
    assert scheduled["status"] == "scheduled"
    assert (await container.data_rights.jobs.run_due())["done"] == 0  # the 30-day grace period

    reason = "the subject asked us by letter to erase at once"
    expedited = await client.post(f"{QUEUE}/{scheduled['id']}/expedite", headers=officer, json={"reason": reason})
    assert expedited.status_code == 200, expedited.text
    summary = expedited.json()
    assert (summary["id"], summary["type"], summary["status"]) == (scheduled["id"], "erasure", "scheduled")
    assert datetime.fromisoformat(summary["scheduled_for"]) == container.infra.clock.now()  # due at once

    mine = (await client.get(f"/v1/privacy/requests/{scheduled['id']}", headers=subject)).json()
    assert mine["history"][-1]["status"] == "scheduled" and mine["history"][-1]["actor_kind"] == "staff"
    assert mine["history"][-1]["note"] == f"expedited: {reason}"
    async with container.infra.uow() as uow:
        audited = [e for e in await uow.audit.list_for_subject(subject_id) if e.actor_kind == "staff"]
        job = await uow.privacy_jobs.get(uuid.UUID(scheduled["id"]))
    assert any(e.action == "privacy_request.scheduled" and e.reason == f"expedited: {reason}" for e in audited)
    assert job is not None and job.run_after == container.infra.clock.now()
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    told = [m for m in mailer.sent_to("leaving@example.com") if m.kind == "erasure_expedited"]
    assert len(told) == 1 and reason in told[0].body

    assert (await container.data_rights.jobs.run_due())["done"] == 1  # the worker's next pass: no clock moved
    async with container.infra.uow() as uow:
        assert await uow.accounts.get(subject_id) is None
        assert await uow.privacy_requests.list_for_subject(subject_id) == []
    signin = await client.post("/v1/auth/token", json={"email": "leaving@example.com", "password": PASSWORD})
    assert signin.status_code == 401
    gone = await client.post(f"{QUEUE}/{scheduled['id']}/expedite", headers=officer, json={"reason": reason})
    assert gone.status_code == 404


async def test_only_a_scheduled_erasure_is_expedited_and_only_by_deciders(
    client: AsyncTestClient, container: Container
) -> None:
    officer = await _officer(client, container)
    admin = await _officer(client, container, "admin")
    support = await _officer(client, container, "support")
    subject = await signed_in(client, "staying@example.com")
    review = await submit(client, subject, "rectification", {"free_text": "my name is misspelt"})
    waiting = await submit(client, subject, "erasure")  # no proof of identity yet
    assert waiting["status"] == "awaiting_verification"
    body = {"reason": "asked by phone"}
    for request in (review, waiting):
        refused = await client.post(f"{QUEUE}/{request['id']}/expedite", headers=officer, json=body)
        assert refused.status_code == 409 and refused.json()["code"] == "request_not_open", refused.text

    cancelled = await submit_proven(client, subject, "erasure")  # proof given: the waiting request proceeds
    assert cancelled["id"] == waiting["id"] and cancelled["status"] == "scheduled"
    forbidden = await client.post(f"{QUEUE}/{cancelled['id']}/expedite", headers=support, json=body)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    anonymous = await client.post(f"{QUEUE}/{cancelled['id']}/expedite", json=body)
    assert anonymous.status_code == 401
    own = await client.post(f"{QUEUE}/{cancelled['id']}/expedite", headers=subject, json=body)
    assert own.status_code == 403  # a subject cannot hurry their own erasure past its grace period here
    no_reason = await client.post(f"{QUEUE}/{cancelled['id']}/expedite", headers=admin, json={})
    assert no_reason.status_code == 400
    too_short = await client.post(f"{QUEUE}/{cancelled['id']}/expedite", headers=admin, json={"reason": "no"})
    assert too_short.status_code == 422 and too_short.json()["code"] == "invalid_input"
    unknown = await client.post(f"{QUEUE}/{uuid.uuid4()}/expedite", headers=admin, json=body)
    assert unknown.status_code == 404

    withdrawn = await client.post(
        f"/v1/privacy/requests/{cancelled['id']}/cancel", json={"confirm": True}, headers=subject
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "cancelled"
    late = await client.post(f"{QUEUE}/{cancelled['id']}/expedite", headers=admin, json=body)
    assert late.status_code == 409 and late.json()["code"] == "request_not_open"
    assert (await container.data_rights.jobs.run_due())["done"] == 0  # the cancelled erasure never runs
    assert (await client.get("/v1/me", headers=subject)).status_code == 200
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    assert not [m for m in mailer.sent_to("staying@example.com") if m.kind == "erasure_expedited"]
