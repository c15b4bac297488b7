"""Abuse reports (policy section 3, preventing abuse) over HTTP, on memory, SQLite and PostgreSQL: anyone reports a
generation by id or download link, the answer never says whether it exists, staff take it down (the owner's own
deletion path: row, sealed prompt, outputs) or dismiss it; the reporter's data rests sealed and is swept."""

from __future__ import annotations

import dataclasses
import io
import uuid
from datetime import timedelta
from typing import Any

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.bootstrap import Container
from dreamina.domain.generation.abuse_intake import AbuseReportRules
from dreamina.ports.abuse_reports import AbuseReport
from dreamina.ports.audit import ActorKind
from tests.http_client import AsyncTestClient

from .helpers import signed_in

REPORTS = "/v1/abuse-reports"
QUEUE = "/v1/admin/abuse-reports"
REPORTER = "worried.viewer@example.org"
DETAILS = "This shows my neighbour Ada Lovelace in a fake scene"
PROMPT = "a purple lighthouse at dusk"


async def _generation(client: AsyncTestClient, container: Container, email: str) -> tuple[dict[str, str], Any]:
    """A signed-in owner with one finished generation (its outputs stored)."""
    owner = await signed_in(client, email)
    created = await client.post("/v1/generations", headers=owner, json={"kind": "image", "prompt": PROMPT})
    assert created.status_code == 202, created.text
    assert isinstance(container.generation.queue, ManualJobQueue)
    await container.generation.queue.drain(container.generation.runner.run)
    done = await client.get(f"/v1/generations/{created.json()['id']}", headers=owner)
    assert done.json()["status"] == "succeeded" and done.json()["outputs"], done.text
    return owner, done.json()


async def _staff(client: AsyncTestClient, container: Container, role: str = "support") -> dict[str, str]:
    headers = await signed_in(client, f"{role}.desk@example.com")
    await container.identity.staff.grant(f"{role}.desk@example.com", role)
    return headers


def _mailer(container: Container) -> InMemoryMailer:
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    return mailer


def _store(container: Container) -> InMemoryObjectStore:
    assert isinstance(container.infra.object_store, InMemoryObjectStore)
    return container.infra.object_store


async def _inbox_bytes(container: Container) -> bytes:
    """Every waiting report as stored (read, then rolled back: nothing is taken)."""
    async with container.infra.uow() as uow:
        waiting = [await uow.abuse_report_inbox.take(i) for i in await uow.abuse_report_inbox.oldest(1000)]
        await uow.rollback()
    return b"".join(r.sealed + r.wrapped_key for r in waiting if r is not None)


async def _reports(container: Container, generation_id: str) -> list[AbuseReport]:
    async with container.infra.uow() as uow:
        return await uow.abuse_reports.list_for_generation(uuid.UUID(generation_id))


def _problem(response: Any, *statuses: int) -> None:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.text


async def test_report_queue_takedown_removes_the_generation_and_tells_the_owner(
    client: AsyncTestClient, container: Container, logs: io.StringIO
) -> None:
    owner, generation = await _generation(client, container, "owner@example.com")
    link = generation["outputs"][0]["url"]
    viewer = await signed_in(client, "viewer@example.com")
    anonymous = await client.post(
        REPORTS,
        json={"generation_id": generation["id"], "reason": "impersonation", "contact": REPORTER, "details": DETAILS},
    )
    by_link = await client.post(REPORTS, headers=viewer, json={"output_url": link, "reason": "privacy"})
    unknown = await client.post(REPORTS, json={"generation_id": str(uuid.uuid4()), "reason": "violence"})
    forged = link.replace(generation["id"], str(uuid.uuid4()))  # our shape, an object no generation has
    unknown_link = await client.post(REPORTS, json={"output_url": forged, "reason": "other"})
    for response in (anonymous, by_link, unknown, unknown_link):
        assert response.status_code == 202, response.text
    assert anonymous.json() == by_link.json() == unknown.json() == unknown_link.json()
    assert anonymous.headers["content-length"] == unknown.headers["content-length"]

    # received sealed whole: neither the contact nor the details rest in plaintext before matching either
    waiting = await _inbox_bytes(container)
    assert waiting and REPORTER.encode() not in waiting and b"Lovelace" not in waiting
    assert await container.abuse.matching.run_due() == {"abuse_reports_filed": 2, "abuse_reports_dropped": 2}
    for report in await _reports(container, generation["id"]):
        stored = repr(dataclasses.asdict(report)).encode()
        assert REPORTER.encode() not in stored and b"Lovelace" not in stored
        assert report.reporter_ciphertext is None or REPORTER.encode() not in report.reporter_ciphertext

    desk = await _staff(client, container)
    queue = await client.get(QUEUE, headers=desk)
    assert queue.status_code == 200, queue.text
    listed = sorted(queue.json()["reports"], key=lambda r: r["via_link"])  # received at the same moment
    assert [r["reason"] for r in listed] == ["impersonation", "privacy"]
    assert {r["generation_id"] for r in listed} == {generation["id"]}
    assert [r["via_link"] for r in listed] == [False, True]
    assert [r["reporter_signed_in"] for r in listed] == [False, True]
    assert REPORTER not in queue.text and "Lovelace" not in queue.text
    _problem(await client.get(f"{QUEUE}/{listed[0]['id']}", headers=desk), 400)  # a reason is required
    view = await client.get(f"{QUEUE}/{listed[0]['id']}", headers=desk, params={"reason": "triage"})
    assert view.status_code == 200, view.text
    assert view.json()["contact"] == REPORTER and view.json()["details"] == DETAILS
    assert view.json()["generation_exists"] is True

    taken = await client.post(f"{QUEUE}/{listed[0]['id']}/takedown", headers=desk, json={"reason": "a deepfake"})
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "taken_down"
    assert {r.status.value for r in await _reports(container, generation["id"])} == {"taken_down"}
    _problem(await client.post(f"{QUEUE}/{listed[1]['id']}/dismiss", headers=desk, json={"reason": "x"}), 409)
    assert (await client.get(QUEUE, headers=desk)).json()["reports"] == []

    # removed as by DELETE /v1/generations/{id}: the row (and its sealed prompt) and the outputs
    assert (await client.get(f"/v1/generations/{generation['id']}", headers=owner)).status_code == 404
    async with container.infra.uow() as uow:
        assert await uow.generations.get(uuid.UUID(generation["id"])) is None
        audit = await uow.audit.list_for_subject(uuid.UUID((await client.get("/v1/me", headers=owner)).json()["id"]))
    assert not [k for k in _store(container).objects if generation["id"] in k]
    (event,) = [e for e in audit if e.action == "generation_taken_down"]
    assert event.actor_kind is ActorKind.STAFF and set(event.fields) >= {"prompt", "outputs"}

    (notice,) = [m for m in _mailer(container).sent_to("owner@example.com") if m.kind == "generation_taken_down"]
    assert generation["id"] in notice.body and "impersonation" in notice.body
    assert REPORTER not in notice.body and "viewer" not in notice.body
    assert [m.kind for m in _mailer(container).sent_to(REPORTER)] == ["abuse_report_outcome"]
    for secret in (REPORTER, "Lovelace", "owner@example.com", "viewer@example.com", PROMPT, link):
        assert secret not in logs.getvalue(), secret


async def test_dismissal_keeps_the_generation_and_tells_the_reporter(
    client: AsyncTestClient, container: Container
) -> None:
    owner, generation = await _generation(client, container, "kept@example.com")
    sent = await client.post(REPORTS, json={"generation_id": generation["id"], "reason": "other", "contact": REPORTER})
    assert sent.status_code == 202
    await container.abuse.matching.run_due()
    desk = await _staff(client, container, "admin")
    (report,) = (await client.get(QUEUE, headers=desk)).json()["reports"]
    dismissed = await client.post(f"{QUEUE}/{report['id']}/dismiss", headers=desk, json={"reason": "satire"})
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    _problem(await client.post(f"{QUEUE}/{report['id']}/takedown", headers=desk, json={"reason": "x"}), 409)
    assert (await client.get(f"/v1/generations/{generation['id']}", headers=owner)).status_code == 200
    assert [m.kind for m in _mailer(container).sent_to(REPORTER)] == ["abuse_report_outcome"]
    assert not _mailer(container).sent_to("kept@example.com") or all(
        m.kind != "generation_taken_down" for m in _mailer(container).sent_to("kept@example.com")
    )
    # the owner's own staff role never shows them reports about their own generation
    await container.identity.staff.grant("kept@example.com", "support")
    assert (await client.get(f"{QUEUE}/{report['id']}", headers=owner, params={"reason": "mine"})).status_code == 404


async def test_reports_are_limited_per_generation_and_per_client_alike_for_unknown_targets(
    client: AsyncTestClient, container: Container
) -> None:
    _, generation = await _generation(client, container, "limited@example.com")
    container.abuse.intake.rules = AbuseReportRules(per_target_limit=2, per_client_limit=1000)
    for target in (generation["id"], str(uuid.uuid4())):
        statuses = [
            (await client.post(REPORTS, json={"generation_id": target, "reason": "other"})).status_code
            for _ in range(3)
        ]
        assert statuses == [202, 202, 429], target
    known = await client.post(REPORTS, json={"generation_id": generation["id"], "reason": "other"})
    unknown = await client.post(REPORTS, json={"generation_id": str(uuid.uuid4()), "reason": "other"})
    assert unknown.status_code == 202  # a fresh target
    container.abuse.intake.rules = AbuseReportRules(per_target_limit=1000, per_client_limit=2)
    reporter = await signed_in(client, "eager.reporter@example.com")  # a client not counted yet: a subject
    per_client = [
        (
            await client.post(REPORTS, headers=reporter, json={"generation_id": str(uuid.uuid4()), "reason": "other"})
        ).status_code
        for _ in range(3)
    ]
    assert per_client == [202, 202, 429]
    assert known.status_code == 429 and known.json()["code"] == "too_many_attempts"
    assert int(known.headers["retry-after"]) >= 1


async def test_bad_reports_are_clear_4xx_problems(client: AsyncTestClient, container: Container) -> None:
    _, generation = await _generation(client, container, "bad@example.com")
    link = generation["outputs"][0]["url"]
    gid = generation["id"]
    for body in (
        {"generation_id": gid},
        {"generation_id": gid, "reason": "ugly"},
        {"reason": "other"},
        {"generation_id": gid, "output_url": link, "reason": "other"},
        {"generation_id": "not-a-uuid", "reason": "other"},
        {"generation_id": gid, "reason": "other", "contact": "nope"},
        {"generation_id": gid, "reason": "other", "details": "x" * 2001},
        {"generation_id": gid, "reason": "other", "details": "bad\x00byte"},
        {"generation_id": gid, "reason": "other", "surprise": 1},
        {"output_url": "https://elsewhere.example/outputs/a/b/0.png", "reason": "other"},
        {"output_url": link.replace("outputs/", "uploads/"), "reason": "other"},
        {"output_url": "not a url at all", "reason": "other"},
        {"output_url": "x" * 5000, "reason": "other"},
    ):
        _problem(await client.post(REPORTS, json=body), 400, 422)
    foreign = await client.post(REPORTS, json={"output_url": "https://elsewhere.example/x.png", "reason": "other"})
    assert foreign.json()["code"] == "invalid_input" and "download link" in foreign.json()["detail"]
    _problem(await client.post(REPORTS, content=b"{", headers={"content-type": "application/json"}), 400)
    bad_token = {"Authorization": "Bearer not-a-token"}  # a token, if sent, must be valid: never anonymous instead
    _problem(await client.post(REPORTS, headers=bad_token, json={"generation_id": gid, "reason": "other"}), 401)
    desk = await _staff(client, container)
    _problem(await client.post(f"{QUEUE}/{uuid.uuid4()}/takedown", headers=desk, json={"reason": "x"}), 404)
    _problem(await client.post(f"{QUEUE}/{uuid.uuid4()}/dismiss", headers=desk, json={"reason": ""}), 400, 422)


async def test_reporter_data_is_exported_erased_and_swept(client: AsyncTestClient, container: Container) -> None:
    owner, generation = await _generation(client, container, "swept@example.com")
    reporter = await signed_in(client, "signed.reporter@example.com")
    reporter_id = uuid.UUID((await client.get("/v1/me", headers=reporter)).json()["id"])
    owner_id = uuid.UUID((await client.get("/v1/me", headers=owner)).json()["id"])
    body = {"generation_id": generation["id"], "reason": "violence", "contact": REPORTER, "details": DETAILS}
    assert (await client.post(REPORTS, headers=reporter, json=body)).status_code == 202
    assert (await client.post(REPORTS, json={**body, "reason": "other"})).status_code == 202
    await container.abuse.matching.run_due()
    (holder,) = container.abuse.contributes.holders
    sink = _Sink()
    await holder.export(reporter_id, sink)
    (filed,) = sink.records["abuse_reports"]
    assert filed["filed_by_you"] and filed["your_contact"] == REPORTER and filed["your_details"] == DETAILS
    sink = _Sink()
    await holder.export(owner_id, sink)
    assert len(sink.records["abuse_reports"]) == 2
    assert REPORTER not in repr(sink.records) and "Lovelace" not in repr(sink.records)  # who reported is withheld

    await holder.erase(reporter_id)
    reports = await _reports(container, generation["id"])
    assert all(r.reporter_id is None for r in reports)
    assert sorted(r.reporter_ciphertext is None for r in reports) == [False, True]  # only the erased reporter's
    await holder.erase(owner_id)  # the owner: a pseudonymised legal hold, open reports closed
    reports = await _reports(container, generation["id"])
    assert all(r.owner_id != owner_id and r.status.value == "taken_down" for r in reports)
    assert await holder.count(owner_id) == {"abuse_reports": 0}

    # one stuck in the inbox, never matched
    assert (await client.post(REPORTS, json={**body, "reason": "privacy"})).status_code == 202
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(days=91))
    await container.privacy.retention.run()
    assert all(
        r.reporter_key is None and r.reporter_ciphertext is None for r in await _reports(container, generation["id"])
    )
    assert await _inbox_bytes(container) == b""


class _Sink:
    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {}

    async def write_records(self, name: str, description: str, records: Any) -> None:
        self.records[name] = list(records)


async def test_a_takedown_whose_removal_fails_leaves_the_report_open(
    client: AsyncTestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, generation = await _generation(client, container, "flaky@example.com")
    assert (await client.post(REPORTS, json={"generation_id": generation["id"], "reason": "other"})).status_code == 202
    await container.abuse.matching.run_due()
    (report,) = await _reports(container, generation["id"])
    generations = container.generation.generations

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the object store is down")

    monkeypatch.setattr(generations, "delete", broken)
    staff = uuid.uuid4()
    with pytest.raises(RuntimeError):
        await container.abuse.review.take_down(staff, report.id, "a deepfake")
    (still,) = await _reports(container, generation["id"])
    assert still.is_open and still.closed_at is None  # back in the queue for staff to retry
    monkeypatch.undo()
    taken = await container.abuse.review.take_down(staff, report.id, "a deepfake")
    assert taken.status.value == "taken_down"
    assert (await client.get(f"/v1/generations/{generation['id']}", headers=owner)).status_code == 404
