"""Policy changes end to end (section 10), staff roles and audited staff reads, the subject's disclosures (G10)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container, shipped_policy_text
from dreamina.ports.disclosures import Disclosure
from tests.e2e.helpers import PASSWORD, signed_in
from tests.http_client import AsyncTestClient

NEW_TEXT = shipped_policy_text().replace("Last updated: May 2026", "Last updated: January 2027") + "\n"


async def _sign_in(client: AsyncTestClient, email: str) -> dict[str, str]:
    token = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def _staff(client: AsyncTestClient, container: Container, email: str, role: str) -> dict[str, str]:
    headers = await signed_in(client, email)
    await container.identity.staff.grant(email, role)
    return headers


async def test_admin_endpoints_need_a_staff_role(client: AsyncTestClient, container: Container) -> None:
    user = await signed_in(client, "plain@example.com")
    support = await _staff(client, container, "support@example.com", "support")
    officer = await _staff(client, container, "officer@example.com", "privacy_officer")
    summary = "/v1/admin/analytics/summary"
    assert (await client.get(summary)).status_code == 401
    forbidden = await client.get(summary, headers=user)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    assert (await client.get(summary, headers=support)).status_code == 403
    allowed = await client.get(summary, headers=officer)
    assert allowed.status_code == 200 and allowed.json()["counts"] == []
    publish = await client.post(
        "/v1/admin/policy/versions", json={"text": NEW_TEXT, "effective_at": "2027-01-01T00:00:00Z"}, headers=support
    )
    assert publish.status_code == 403


async def test_analytics_summary_counts_per_day_event_and_feature(
    client: AsyncTestClient, container: Container
) -> None:
    officer = await _staff(client, container, "analyst@example.com", "admin")
    consent = await client.put("/v1/consent", json={"functional": False, "analytics": True, "marketing": False})
    device = consent.headers["set-cookie"].split(";")[0]
    events = {"events": [{"name": "page_view", "page": "/"}] * 3 + [{"name": "feature_used", "feature": "upscale"}]}
    assert (await client.post("/v1/analytics/events", json=events, headers={"Cookie": device})).json()["recorded"] == 4
    body = (await client.get("/v1/admin/analytics/summary", headers=officer)).json()
    today = container.infra.clock.now().date().isoformat()
    assert body["counts"] == [
        {"day": today, "name": "feature_used", "feature": "upscale", "count": 1},
        {"day": today, "name": "page_view", "feature": None, "count": 3},
    ]
    bad = await client.get("/v1/admin/analytics/summary?from=2026-12-01&to=2026-01-01", headers=officer)
    assert bad.status_code == 422


async def test_staff_reads_of_a_subject_are_audited_with_their_reason(
    client: AsyncTestClient, container: Container
) -> None:
    subject_headers = await signed_in(client, "subject@example.com")
    me = (await client.get("/v1/me", headers=subject_headers)).json()
    await client.put(
        "/v1/consent", json={"functional": True, "analytics": False, "marketing": False}, headers=subject_headers
    )
    support = await _staff(client, container, "helpdesk@example.com", "support")
    url = f"/v1/admin/subjects/{me['id']}/consent"
    assert (await client.get(url, headers=support)).status_code == 400  # no reason
    assert (await client.get(url + "?reason=short", headers=support)).status_code == 422
    reason = "ticket 4711: subject asks which cookies they allowed"
    read = await client.get(url, params={"reason": reason}, headers=support)
    assert read.status_code == 200 and read.json()["history"][0]["functional"] is True
    async with container.infra.uow() as uow:
        events = await uow.audit.list_for_subject(uuid.UUID(me["id"]))
    staff_reads = [e for e in events if e.action == "staff_read"]
    assert len(staff_reads) == 1
    assert staff_reads[0].actor_kind == "staff" and staff_reads[0].reason == reason
    missing = await client.get(f"/v1/admin/subjects/{uuid.uuid4()}/consent", params={"reason": reason}, headers=support)
    assert missing.status_code == 404


async def test_a_policy_change_end_to_end(client: AsyncTestClient, container: Container) -> None:
    clock = container.infra.clock
    mailer = container.infra.mailer
    assert isinstance(clock, MovableClock) and isinstance(mailer, InMemoryMailer)
    notified = await signed_in(client, "notified@example.com")
    await client.put("/v1/consent", json={"functional": True, "analytics": True, "marketing": False}, headers=notified)
    admin = await _staff(client, container, "admin@example.com", "admin")
    effective = clock.now() + timedelta(days=30)

    published = await client.post(
        "/v1/admin/policy/versions", json={"text": NEW_TEXT, "effective_at": effective.isoformat()}, headers=admin
    )
    assert published.status_code == 201, published.text
    body = published.json()
    assert body["version"] == 2 and body["last_updated"] == effective.date().isoformat()
    assert body["notices"]["status"] == "pending"  # the request only records that notices are due
    assert await container.consent.policy_changes.send_due_notices() == 2  # every account: the user and the admin
    notices = [m for m in mailer.sent if m.kind == "policy_change"]
    assert sorted(m.to for m in notices) == ["admin@example.com", "notified@example.com"]
    assert body["content_sha256"] in notices[0].body

    late = await signed_in(client, "late@example.com")  # signed up after the notices went out: not notified

    before = (await client.get("/v1/me/policy-status", headers=notified)).json()
    assert before["current_version"] == 1 and before["notices"][0]["accepted_at"] is None
    assert [a["method"] for a in before["acceptances"]] == ["sign_up"]

    clock.advance(timedelta(days=31))
    notified = await _sign_in(client, "notified@example.com")  # the first token expired meanwhile
    late = await _sign_in(client, "late@example.com")
    status = (await client.get("/v1/me/policy-status", headers=notified)).json()
    assert status["current_version"] == 2 and status["accepted_current"] is True
    assert status["latest_acceptance"]["method"] == "continued_use"
    assert status["latest_acceptance"]["content_sha256"] == body["content_sha256"]
    assert status["notices"][0]["accepted_at"] is not None
    await client.get("/v1/me", headers=notified)
    again = (await client.get("/v1/me/policy-status", headers=notified)).json()
    assert [a["method"] for a in again["acceptances"]] == ["sign_up", "continued_use"]  # recorded once
    consent = (await client.get("/v1/consent", headers=notified)).json()
    assert consent["method"] == "continued_use" and consent["policy_version"] == 2 and consent["analytics"] is True

    late_status = (await client.get("/v1/me/policy-status", headers=late)).json()
    assert late_status["accepted_current"] is False
    assert [a["method"] for a in late_status["acceptances"]] == ["sign_up"]
    explicit = await client.post("/v1/me/policy-acceptances", json={"version": 2}, headers=late)
    assert explicit.status_code == 201 and explicit.json()["method"] == "explicit"
    assert (await client.post("/v1/me/policy-acceptances", json={"version": 1}, headers=late)).status_code == 422


async def test_consent_given_under_an_old_policy_does_not_allow_analytics_under_a_new_one(
    client: AsyncTestClient, container: Container
) -> None:
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    consent = await client.put("/v1/consent", json={"functional": False, "analytics": True, "marketing": False})
    device = {"Cookie": consent.headers["set-cookie"].split(";")[0]}
    await container.consent.policy_changes.publish(NEW_TEXT, clock.now() + timedelta(days=30))
    clock.advance(timedelta(days=31))
    dropped = await client.post(
        "/v1/analytics/events", json={"events": [{"name": "page_view", "page": "/"}]}, headers=device
    )
    assert dropped.json() == {"recorded": 0, "dropped": 1, "reason": "no_consent"}
    state = (await client.get("/v1/consent", headers=device)).json()
    assert state["analytics"] is True and state["under_current_policy"] is False
    # G11: the choice made again is recorded under the version now in effect, and analytics counts again
    again = (await client.put("/v1/consent", json={**state_choice(), "analytics": True}, headers=device)).json()
    assert again["policy_version"] == 2 and again["under_current_policy"] is True
    assert again["history"][0]["policy_version"] == 2 and again["history"][1]["policy_version"] == 1
    counted = await client.post(
        "/v1/analytics/events", json={"events": [{"name": "page_view", "page": "/"}]}, headers=device
    )
    assert counted.json()["recorded"] == 1


def state_choice() -> dict[str, bool]:
    return {"functional": False, "analytics": False, "marketing": False}


async def test_publishing_checks_its_input(client: AsyncTestClient, container: Container) -> None:
    admin = await _staff(client, container, "admin2@example.com", "admin")
    past = (container.infra.clock.now() - timedelta(days=1)).isoformat()
    response = await client.post(
        "/v1/admin/policy/versions", json={"text": NEW_TEXT, "effective_at": past}, headers=admin
    )
    assert response.status_code == 422 and response.json()["field"] == "effective_at"
    # issue 16, finding 7: a 35-minute notice period was accepted; the least is DREAMINA_POLICY_NOTICE_MIN_DAYS (30)
    for short in (timedelta(minutes=35), timedelta(days=29, hours=23)):
        soon = (container.infra.clock.now() + short).isoformat()
        refused = await client.post(
            "/v1/admin/policy/versions", json={"text": NEW_TEXT, "effective_at": soon}, headers=admin
        )
        assert refused.status_code == 422 and refused.json()["field"] == "effective_at", refused.text
        assert "30 days" in refused.json()["detail"]
    async with container.infra.uow() as uow:
        assert [p.version for p in await uow.policies.list()] == [1]  # nothing published by the refusals
    future = (container.infra.clock.now() + timedelta(days=30)).isoformat()
    no_sections = await client.post(
        "/v1/admin/policy/versions", json={"text": "just words", "effective_at": future}, headers=admin
    )
    assert no_sections.status_code == 422


async def test_the_subject_sees_every_one_of_their_disclosures(client: AsyncTestClient, container: Container) -> None:
    """Every hand-off is listed, oldest first: two of one processor stay two entries; nobody sees another's."""
    headers = await signed_in(client, "ledger@example.com")
    other = await signed_in(client, "other-ledger@example.com")
    me = uuid.UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    them = uuid.UUID((await client.get("/v1/me", headers=other)).json()["id"])
    start = container.infra.clock.now()
    handoffs = [  # (subject, processor, categories, purpose, reference, minutes after start)
        (me, "stripe", ("account",), "process_payments", "cus_123", 0),
        (me, "openai", ("content",), "generate_content", "generation-1", 5),
        (them, "openai", ("content",), "generate_content", "generation-of-someone-else", 7),
        (me, "openai", ("content",), "generate_content", "generation-2", 9),
    ]
    async with container.infra.uow() as uow:
        for subject, processor, categories, purpose, reference, minutes in reversed(handoffs):
            await uow.disclosures.record(
                Disclosure(
                    id=uuid.uuid4(),
                    subject_id=subject,
                    processor=processor,
                    categories=categories,
                    purpose=purpose,
                    reference=reference,
                    occurred_at=start + timedelta(minutes=minutes),
                )
            )
        await uow.commit()
    for who, subject in ((headers, me), (other, them)):
        body = (await client.get("/v1/me/disclosures", headers=who)).json()
        assert [
            (d["processor"], tuple(d["categories"]), d["purpose"], d["reference"]) for d in body["disclosures"]
        ] == [
            (processor, categories, purpose, reference)
            for owner, processor, categories, purpose, reference, _ in handoffs
            if owner == subject
        ]
    processors = (await client.get("/v1/privacy/processors")).json()["processors"]
    assert "analytics" not in {p["id"] for p in processors}  # in-house analytics is no processor


async def test_an_upcoming_version_is_readable_from_the_moment_it_is_published(
    client: AsyncTestClient, container: Container
) -> None:
    """Issue 16, finding 7: the notice links to a version that answered 404 until it took effect."""
    clock = container.infra.clock
    mailer = container.infra.mailer
    assert isinstance(clock, MovableClock) and isinstance(mailer, InMemoryMailer)
    await signed_in(client, "reader@example.com")
    admin = await _staff(client, container, "admin3@example.com", "admin")
    effective = clock.now() + timedelta(days=30)
    published = await client.post(
        "/v1/admin/policy/versions", json={"text": NEW_TEXT, "effective_at": effective.isoformat()}, headers=admin
    )
    assert published.status_code == 201, published.text
    upcoming = await client.get("/v1/privacy/policy/versions/2")
    assert upcoming.status_code == 200, upcoming.text
    body = upcoming.json()
    assert (body["version"], body["in_effect"], body["template"]) == (2, False, NEW_TEXT)
    assert body["content_sha256"] == published.json()["content_sha256"] and body["sections"]
    assert (await client.get("/v1/privacy/policy")).json()["version"] == 1  # still the one in effect
    assert (await client.get("/v1/privacy/policy/versions/1")).json()["in_effect"] is True
    missing = await client.get("/v1/privacy/policy/versions/99")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"

    await container.consent.policy_changes.send_due_notices()
    notice = next(m for m in mailer.sent if m.to == "reader@example.com" and m.kind == "policy_change")
    assert "/v1/privacy/policy/versions/2" in notice.body  # the link answers now, not only once it applies

    clock.advance(timedelta(days=31))
    assert (await client.get("/v1/privacy/policy/versions/2")).json()["in_effect"] is True
    assert (await client.get("/v1/privacy/policy")).json()["version"] == 2
