"""The staff side of data rights over HTTP: the queue sorted by due date, audited views, decisions with reasons."""

from __future__ import annotations

import uuid

from litestar.testing import AsyncTestClient

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container

from .data_rights_helpers import submit
from .helpers import signed_in

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
