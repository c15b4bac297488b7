"""Privacy requests over HTTP: intake, proof of identity, merging, legal clock, each type's effect (section 7)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

from dreamina.adapters.clock import MovableClock
from dreamina.bootstrap import Container
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.disclosures import Disclosure
from tests.http_client import AsyncTestClient

from .data_rights_helpers import last_code, submit, submit_proven
from .helpers import PASSWORD, signed_in


def _clock(container: Container) -> MovableClock:
    assert isinstance(container.infra.clock, MovableClock)
    return container.infra.clock


async def _subject_id(client: AsyncTestClient, headers: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await client.get("/v1/me", headers=headers)).json()["id"])


async def test_access_request_gives_the_art_15_report(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "ada@example.com", display_name="Ada")
    subject = await _subject_id(client, headers)
    async with container.infra.uow() as uow:
        await uow.disclosures.record(
            Disclosure(
                uuid.uuid4(), subject, "stripe", ("account",), "process_payments", "cus_1", container.infra.clock.now()
            )
        )
        await uow.commit()
    accepted = await submit(client, headers, "access")
    assert accepted["status"] == "completed"
    # GDPR: one calendar month from receipt (the test clock stands at 25 Nov 2026 12:00)
    assert accepted["due_at"].startswith("2026-12-25T12:00")
    report = (await client.get(f"/v1/privacy/requests/{accepted['id']}/report", headers=headers)).json()
    assert "account" in report["categories"]
    assert {"provide_service", "comply_with_legal_obligations"} <= set(report["purposes"])
    assert report["sources"]["account"]
    assert {h["store"] for h in report["held"]} >= {"accounts", "policy_acceptances", "disclosures", "subject_keys"}
    assert all(h["fields"] or h["store"] == "subject_keys" for h in report["held"])
    assert [p["processor"] for p in report["processors_received"]] == ["stripe"]
    assert report["processors_received"][0]["categories"] == ["account"]
    assert report["retention"]["accounts"]
    assert report["rights"]["jurisdiction"] == "DE" and "erase" in report["rights"]["rights"]

    other = await signed_in(client, "eve@example.com")
    assert (await client.get(f"/v1/privacy/requests/{accepted['id']}/report", headers=other)).status_code == 404
    assert (await client.get(f"/v1/privacy/requests/{accepted['id']}", headers=other)).status_code == 404


async def test_export_needs_fresh_proof_by_code_and_the_gdpr_clock_pauses(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "ada@example.com")
    accepted = await submit(client, headers, "export")
    assert accepted["status"] == "awaiting_verification"
    request_id = accepted["id"]
    detail = (await client.get(f"/v1/privacy/requests/{request_id}", headers=headers)).json()
    assert detail["clock_paused"] is True

    wrong = await client.post(f"/v1/privacy/requests/{request_id}/verify", json={"code": "000000x"}, headers=headers)
    assert wrong.status_code == 403 and wrong.json()["code"] == "identity_proof_failed"
    _clock(container).advance(timedelta(days=2))
    # the first code expired after 15 minutes: a new one is needed
    code = last_code(container, "ada@example.com")
    expired = await client.post(f"/v1/privacy/requests/{request_id}/verify", json={"code": code}, headers=headers)
    assert expired.status_code == 403
    assert (await client.post(f"/v1/privacy/requests/{request_id}/code", headers=headers)).status_code == 204
    code = last_code(container, "ada@example.com")
    ok = await client.post(f"/v1/privacy/requests/{request_id}/verify", json={"code": code}, headers=headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "processing"
    # two days waiting for proof do not count against us under GDPR
    assert ok.json()["due_at"].startswith("2026-12-27T12:00")
    again = await client.post(f"/v1/privacy/requests/{request_id}/verify", json={"code": code}, headers=headers)
    assert again.status_code == 409


async def test_code_attempts_are_limited(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "ada@example.com")
    request_id = (await submit(client, headers, "erasure"))["id"]
    code = last_code(container, "ada@example.com")
    for _ in range(5):
        bad = "999999" if code != "999999" else "111111"
        response = await client.post(f"/v1/privacy/requests/{request_id}/verify", json={"code": bad}, headers=headers)
        assert response.status_code == 403
    locked = await client.post(f"/v1/privacy/requests/{request_id}/verify", json={"code": code}, headers=headers)
    assert locked.status_code == 403
    async with container.infra.uow() as uow:
        stored = await uow.privacy_requests.get(uuid.UUID(request_id))
    assert stored is not None and stored.code_hash is not None and code not in stored.code_hash


async def test_ccpa_clock_does_not_pause_for_verification(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "cal@example.com", country="US", region="US-CA")
    accepted = await submit(client, headers, "export")
    assert accepted["due_at"].startswith("2027-01-09T12:00")  # 45 days
    _clock(container).advance(timedelta(days=3))
    await client.post(f"/v1/privacy/requests/{accepted['id']}/code", headers=headers)
    code = last_code(container, "cal@example.com")
    ok = await client.post(f"/v1/privacy/requests/{accepted['id']}/verify", json={"code": code}, headers=headers)
    assert ok.json()["due_at"].startswith("2027-01-09T12:00")


async def test_wrong_password_is_refused_and_nothing_is_stored(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "ada@example.com")
    response = await client.post(
        "/v1/privacy/requests", json={"type": "erasure", "password": "not my password"}, headers=headers
    )
    assert response.status_code == 403
    assert (await client.get("/v1/privacy/requests", headers=headers)).json()["requests"] == []


async def test_duplicate_open_requests_are_merged(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "ada@example.com")
    first = await submit(client, headers, "export")
    second = await submit(client, headers, "export")
    assert first["id"] == second["id"]
    listed = (await client.get("/v1/privacy/requests", headers=headers)).json()["requests"]
    assert len(listed) == 1
    history = (await client.get(f"/v1/privacy/requests/{first['id']}", headers=headers)).json()["history"]
    assert any(h["note"] == "duplicate request merged" for h in history)


async def test_rectification_applies_structured_corrections_and_queues_free_text(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "ada@example.com", display_name="Ada")
    done = await submit(client, headers, "rectification", {"corrections": {"display_name": "Ada L."}})
    assert done["status"] == "completed"
    assert (await client.get("/v1/me", headers=headers)).json()["display_name"] == "Ada L."
    detail = (await client.get(f"/v1/privacy/requests/{done['id']}", headers=headers)).json()
    assert detail["outcome"]["fields_corrected"] == ["display_name"]

    queued = await submit(client, headers, "rectification", {"free_text": "My birth date is 1990-04-02"})
    assert queued["status"] == "in_review"
    merged = await submit(client, headers, "rectification", {"free_text": "and my country is AT"})
    assert merged["id"] == queued["id"]
    detail = (await client.get(f"/v1/privacy/requests/{queued['id']}", headers=headers)).json()
    assert "1990-04-02" in detail["details"]["free_text"] and "AT" in detail["details"]["free_text"]

    bad = await client.post(
        "/v1/privacy/requests",
        json={"type": "rectification", "details": {"corrections": {"email": "not-an-email"}}},
        headers=headers,
    )
    assert bad.status_code == 422
    unknown = await client.post(
        "/v1/privacy/requests",
        json={"type": "rectification", "details": {"corrections": {"country": "AT"}}},
        headers=headers,
    )
    # the schema names the correctable fields: another one is refused as the body is decoded
    assert unknown.status_code == 400 and unknown.json()["code"] == "validation_failed", unknown.text
    # a birth date is correctable (issue 7; below the minimum age it opens an age review: test_age_review_api.py)
    born = await submit(client, headers, "rectification", {"corrections": {"birth_date": "2000-01-01"}})
    assert born["id"] == queued["id"]  # merged into the open free-text request, applied at once all the same
    assert (await client.get("/v1/me", headers=headers)).json()["birth_date"] == "2000-01-01"


async def test_objection_and_restriction_go_to_their_registers(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "ada@example.com")
    subject = await _subject_id(client, headers)
    objected = await submit(client, headers, "objection", {"purpose": "analytics"})
    assert objected["status"] == "completed"
    restricted = await submit(client, headers, "restriction", {"action": "restrict", "reason": "accuracy contested"})
    assert restricted["status"] == "completed"
    async with container.infra.uow() as uow:
        assert await uow.objections.objects_to(subject, Purpose.ANALYTICS) is True
        assert await uow.restrictions.is_restricted(subject) is True
    await submit(client, headers, "restriction", {"action": "lift"})
    await submit(client, headers, "objection", {"purpose": "analytics", "withdraw": True})
    async with container.infra.uow() as uow:
        assert await uow.objections.objects_to(subject, Purpose.ANALYTICS) is False
        assert await uow.restrictions.is_restricted(subject) is False
    refused = await client.post(
        "/v1/privacy/requests", json={"type": "objection", "details": {"purpose": "provide_service"}}, headers=headers
    )
    # the schema lists the purposes that can be objected to: another one is refused as the body is decoded
    assert refused.status_code == 400 and refused.json()["errors"][0]["key"] == "details.purpose", refused.text


async def test_export_archive_is_complete_and_only_for_its_subject(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "ada@example.com", display_name="Ada")
    subject = await _subject_id(client, headers)
    other_headers = await signed_in(client, "eve@example.com")
    other = await _subject_id(client, other_headers)
    await container.infra.object_store.put(f"uploads/{subject}/ref.png", b"\x89PNG ada", "image/png")
    await container.infra.object_store.put(f"outputs/{subject}/g1/out.webp", b"RIFF ada output", "image/webp")
    await container.infra.object_store.put(f"uploads/{other}/eve.png", b"\x89PNG eve", "image/png")
    mine = await client.post("/v1/generations", headers=headers, json={"kind": "image", "prompt": "ada's secret idea"})
    theirs = await client.post("/v1/generations", headers=other_headers, json={"kind": "image", "prompt": "eve's plan"})
    assert mine.status_code == theirs.status_code == 202
    await client.put("/v1/consent", headers=headers, json={"functional": True, "analytics": True, "marketing": False})
    viewed = {"events": [{"name": "page_view", "page": "/gallery"}]}
    assert (await client.post("/v1/analytics/events", headers=headers, json=viewed)).json()["recorded"] == 1
    request_id = (await submit_proven(client, headers, "export"))["id"]
    assert (await client.get(f"/v1/privacy/requests/{request_id}/download", headers=headers)).status_code == 404

    counts = await container.data_rights.jobs.run_due()
    assert counts["done"] == 1
    detail = (await client.get(f"/v1/privacy/requests/{request_id}", headers=headers)).json()
    assert detail["status"] == "completed"
    assert detail["outcome"]["download"].endswith(f"/{request_id}/download")

    response = await client.get(f"/v1/privacy/requests/{request_id}/download", headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"account.json", "requests.json", "disclosures.json", "README.txt", "policy_acceptances.json"} <= names
    assert archive.read("files/uploads/ref.png") == b"\x89PNG ada"
    assert archive.read("files/outputs/g1/out.webp") == b"RIFF ada output"
    account = json.loads(archive.read("account.json"))
    assert account[0]["email"] == "ada@example.com" and account[0]["display_name"] == "Ada"
    requests = json.loads(archive.read("requests.json"))
    assert [r["type"] for r in requests] == ["export"]
    generations = json.loads(archive.read("generations.json"))
    assert [g["prompt"] for g in generations] == ["ada's secret idea"]  # decrypted, and only the subject's
    consents = json.loads(archive.read("consents.json"))
    assert consents[-1]["analytics"] is True and consents[-1]["policy_version"] == 1
    events = json.loads(archive.read("analytics_events.json"))
    assert [(e["event"], e["page"]) for e in events] == [("page_view", "/gallery")]
    assert {"credit_ledger.json", "payments.json", "objections.json", "uploads.json"} <= names
    readme = archive.read("README.txt").decode()
    assert all(name in readme for name in names if name != "README.txt")
    everything = b"".join(archive.read(n) for n in names)
    assert b"PNG eve" not in everything and b"eve@example.com" not in everything and b"eve's plan" not in everything
    assert str(other).encode() not in everything

    assert (await client.get(f"/v1/privacy/requests/{request_id}/download", headers=other_headers)).status_code == 404
    assert (await client.get(f"/v1/privacy/requests/{request_id}/download")).status_code == 401

    _clock(container).advance(timedelta(days=7, seconds=1))
    token = (await container.identity.sessions.issue_token("ada@example.com", PASSWORD)).access_token
    headers = {"Authorization": f"Bearer {token}"}  # the sign-in token expired after 7 days too
    expired = await client.get(f"/v1/privacy/requests/{request_id}/download", headers=headers)
    assert expired.status_code == 410 and expired.json()["code"] == "export_expired"
    swept = {r.task: r.applied for r in await container.privacy.retention.run()}
    assert swept["privacy_jobs.expired_archives"] == 1
    assert await container.infra.object_store.list(f"exports/{subject}") == []
    assert {r.task: r.applied for r in await container.privacy.retention.run()}["privacy_jobs.expired_archives"] == 0


async def test_erasure_grace_cancel_then_erase(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "ada@example.com")
    subject = await _subject_id(client, headers)
    first = await submit_proven(client, headers, "erasure")
    assert first["status"] == "scheduled"
    cancelled = await client.post(f"/v1/privacy/requests/{first['id']}/cancel", json={"confirm": True}, headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    _clock(container).advance(timedelta(days=31))
    assert (await container.data_rights.jobs.run_due())["done"] == 0
    token = (await container.identity.sessions.issue_token("ada@example.com", PASSWORD)).access_token
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/v1/me", headers=headers)).status_code == 200

    second = await submit_proven(client, headers, "erasure")
    _clock(container).advance(timedelta(days=29))
    assert (await container.data_rights.jobs.run_due())["done"] == 0
    token = (await container.identity.sessions.issue_token("ada@example.com", PASSWORD)).access_token
    headers = {"Authorization": f"Bearer {token}"}  # still signed in on day 29, until the saga revokes it
    _clock(container).advance(timedelta(days=1, seconds=1))
    assert (await container.data_rights.jobs.run_due())["done"] == 1
    assert (await client.get("/v1/me", headers=headers)).status_code == 401
    signin = await client.post("/v1/auth/token", json={"email": "ada@example.com", "password": PASSWORD})
    assert signin.status_code == 401
    async with container.infra.uow() as uow:
        assert await uow.accounts.get(subject) is None
        assert await uow.subject_keys.get(subject) is None
        assert await uow.privacy_requests.list_for_subject(subject) == []
    assert second["id"]


async def test_admin_queue_review_reject_extend(client: AsyncTestClient, container: Container) -> None:
    staff = uuid.uuid4()
    rights = container.data_rights.queue
    de = await signed_in(client, "ada@example.com")
    br = await signed_in(client, "bia@example.com", country="BR")
    de_request = await submit(client, de, "rectification", {"free_text": "my name is spelt wrong"})
    br_request = await submit(client, br, "export")
    queue = await rights.queue(staff)
    assert [str(r.id) for r in queue] == [br_request["id"], de_request["id"]]  # LGPD's 15 days come first
    assert [str(r.id) for r in await rights.queue(staff, type="rectification")] == [de_request["id"]]
    assert [str(r.id) for r in await rights.queue(staff, jurisdiction="BR")] == [br_request["id"]]
    assert await rights.queue(staff, due_within=timedelta(days=10)) == []

    view = await rights.staff_view(staff, uuid.UUID(de_request["id"]), "handling the correction")
    assert view.details["free_text"] == "my name is spelt wrong"
    async with container.infra.uow() as uow:
        audit = await uow.audit.list_for_subject(view.request.subject_id)
    staff_views = [e for e in audit if e.action == "staff_viewed_privacy_request"]
    assert sorted(str(e.reason) for e in staff_views) == [
        "handling the correction",
        "listed in the privacy-request queue",
        "listed in the privacy-request queue",
    ]
    assert all(e.actor_id == staff and e.actor_kind == "staff" for e in staff_views)

    extended = await rights.extend(staff, uuid.UUID(de_request["id"]), "complex correction")
    assert extended.due_at == datetime(2027, 2, 25, 12, 0, tzinfo=UTC)  # 1 month + 2 months
    mailer = container.infra.mailer
    assert any(m.kind == "privacy_request_extended" for m in mailer.sent_to("ada@example.com"))  # type: ignore[attr-defined]
    try:
        await rights.extend(staff, uuid.UUID(de_request["id"]), "again")
        raise AssertionError("a second extension was allowed")
    except Exception as exc:
        assert getattr(exc, "code", None) == "extension_not_allowed"
    try:
        await rights.extend(staff, uuid.UUID(br_request["id"]), "LGPD allows none")
        raise AssertionError("an extension LGPD does not allow was granted")
    except Exception as exc:
        assert getattr(exc, "code", None) == "extension_not_allowed"

    approved = await rights.approve(staff, uuid.UUID(de_request["id"]), "name corrected by support")
    assert approved.status == "completed"
    rejected = await rights.reject(staff, uuid.UUID(br_request["id"]), "could not verify identity")
    assert rejected.status == "rejected"
    assert any(m.kind == "privacy_request_rejected" for m in mailer.sent_to("bia@example.com"))  # type: ignore[attr-defined]
    history = (await client.get(f"/v1/privacy/requests/{br_request['id']}", headers=br)).json()["history"]
    assert history[-1]["status"] == "rejected" and history[-1]["note"] == "could not verify identity"


async def test_deadline_monitor_flags_near_and_past_due_once(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "kim@example.com", country="KR")
    request = await submit(client, headers, "rectification", {"free_text": "fix it"})  # 10 days under PIPA
    monitor = container.data_rights.deadlines
    assert await monitor.flag_deadlines() == {"near_due": 0, "overdue": 0}
    _clock(container).advance(timedelta(days=8))
    assert await monitor.flag_deadlines() == {"near_due": 1, "overdue": 0}
    assert await monitor.flag_deadlines() == {"near_due": 0, "overdue": 0}
    _clock(container).advance(timedelta(days=2))
    assert await monitor.flag_deadlines() == {"near_due": 0, "overdue": 1}
    overdue = await container.data_rights.queue.queue(uuid.uuid4(), flag="overdue")
    assert [str(r.id) for r in overdue] == [request["id"]]


async def test_a_duplicate_with_the_password_verifies_the_waiting_request(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "ada@example.com")
    waiting = await submit(client, headers, "export")
    assert waiting["status"] == "awaiting_verification"
    proven = await submit_proven(client, headers, "export")
    assert proven["id"] == waiting["id"] and proven["status"] == "processing"
