"""The policy, analytics and audit pages in process (the browser journey is test_web_policy_pages.py): CSRF on every
post, 403 for accounts without the role, 4xx for bad input, the preview's notice rule, the audit filters, pages,
CSV export (filtered, formula-safe, audited) and the JSON twin ``GET /v1/admin/audit-events``."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta

import pytest

from dreamina.bootstrap import Container, shipped_policy_text
from dreamina.entrypoints.http.auth import SESSION_COOKIE
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.staff import StaffRole
from tests.conftest import MEMORY
from tests.http_client import AsyncTestClient

from .helpers import signed_in

pytestmark = pytest.mark.parametrize("_store", [MEMORY], indirect=True)
NEW_TEXT = shipped_policy_text().replace("1. Introduction", "1. Introduction (revised)") + "\nA new closing line.\n"


async def _cookie(client: AsyncTestClient, email: str, role: StaffRole | None = None) -> tuple[str, dict[str, str]]:
    """A browser session's cookie value and the same account's bearer header."""
    bearer = await signed_in(client, email)
    if role is not None:
        await client.app.state.container.identity.staff.grant(email, role)
    return f"{SESSION_COOKIE}={bearer['Authorization'].removeprefix('Bearer ')}", bearer


async def _csrf(client: AsyncTestClient, session: str, path: str) -> tuple[dict[str, str], str]:
    """The Cookie header (session and CSRF cookie) and the form token of ``path``'s page."""
    answer = await client.get(path, headers={"Cookie": session})
    assert answer.status_code == 200, answer.text[:300]
    csrf = answer.headers["set-cookie"].split(";", 1)[0]
    token = re.search(r'name="_csrf_token" value="([^"]+)"', answer.text)
    assert token is not None
    return {"Cookie": f"{session}; {csrf}"}, token.group(1)


def _day(container: Container, days: int) -> str:
    return (container.infra.clock.now() + timedelta(days=days)).date().isoformat()


async def test_the_public_policy_page_shows_the_version_in_effect_to_anyone(client: AsyncTestClient) -> None:
    answer = await client.get("/privacy/policy")
    assert answer.status_code == 200 and 'id="in-effect"' in answer.text
    assert "Only one version has been published." in answer.text and "<script>" not in answer.text
    assert "style=" not in answer.text
    assert (await client.get("/privacy/policy/versions/1")).status_code == 200
    assert (await client.get("/privacy/policy/versions/99")).status_code == 404
    assert (await client.get("/privacy/policy?from=x&to=1")).status_code == 400
    assert (await client.get("/privacy/policy?from=1&to=99")).status_code == 404


async def test_every_post_needs_the_csrf_token_and_every_page_the_role(
    client: AsyncTestClient, container: Container
) -> None:
    officer, _ = await _cookie(client, "desk.officer@example.com", StaffRole.PRIVACY_OFFICER)
    form = {"text": NEW_TEXT, "effective_on": _day(container, 40)}
    for path in ("/admin/policy/preview", "/admin/policy/publish"):
        assert (await client.post(path, data=form, headers={"Cookie": officer})).status_code == 403
    assert (await client.get("/v1/privacy/policy/versions")).json()["versions"][-1]["version"] == 1
    support, _ = await _cookie(client, "desk.support@example.com", StaffRole.SUPPORT)
    subject, _ = await _cookie(client, "desk.subject@example.com")
    for cookie in (support, subject):
        for path in ("/admin/policy", "/admin/analytics", "/admin/audit", "/admin/audit/export.csv"):
            refused = await client.get(path, headers={"Cookie": cookie})
            assert refused.status_code == 403, path
            assert "<table" not in refused.text and "text/html" in refused.headers["content-type"]
        headers, token = await _csrf(client, cookie, "/privacy/policy")
        posted = await client.post("/admin/policy/publish", data={**form, "_csrf_token": token}, headers=headers)
        assert posted.status_code == 403


async def test_an_officer_previews_then_publishes_with_the_domains_notice_rule(
    client: AsyncTestClient, container: Container
) -> None:
    officer, _ = await _cookie(client, "desk.publisher@example.com", StaffRole.PRIVACY_OFFICER)
    headers, token = await _csrf(client, officer, "/admin/policy")
    too_soon = {"text": NEW_TEXT, "effective_on": _day(container, 5), "_csrf_token": token}
    refused = await client.post("/admin/policy/preview", data=too_soon, headers=headers)
    assert refused.status_code == 422 and "30 days" in refused.text and 'role="alert"' in refused.text
    assert "A new closing line." in refused.text  # the text is kept in the form
    for bad in ({"effective_on": "not-a-day"}, {"text": ""}, {"effective_on": ""}):
        answer = await client.post("/admin/policy/preview", data={**too_soon, **bad}, headers=headers)
        assert 400 <= answer.status_code < 500, bad
    unsectioned = {**too_soon, "text": "no sections here", "effective_on": _day(container, 40)}
    assert (await client.post("/admin/policy/preview", data=unsectioned, headers=headers)).status_code == 422

    form = {"text": NEW_TEXT.replace("\n", "\r\n"), "effective_on": _day(container, 40), "_csrf_token": token}
    preview = await client.post("/admin/policy/preview", data=form, headers=headers)
    assert preview.status_code == 200, preview.text[:500]
    assert "Preview: policy version 2" in preview.text
    assert re.search(r'id="notice-days">(39|40) days<', preview.text)
    assert "at least 30 days" in preview.text
    assert '<ins class="diff-word">' in preview.text and "diff-del" in preview.text
    assert (await client.get("/v1/privacy/policy/versions")).json()["versions"][-1]["version"] == 1  # not yet

    published = await client.post("/admin/policy/publish", data=form, headers=headers, follow_redirects=False)
    assert published.status_code == 303 and published.headers["location"] == "/admin/policy?published=2"
    version = (await client.get("/v1/privacy/policy/versions/2")).json()
    assert version["template"] == NEW_TEXT  # CRLF from the form is stored as LF
    desk = await client.get("/admin/policy?published=2", headers={"Cookie": officer})
    row = desk.text.split('data-version="2"', 1)[1].split("</tr>", 1)[0]
    assert "upcoming" in row and "pending" in row

    public = await client.get("/privacy/policy")
    assert 'id="upcoming-2"' in public.text and _day(container, 40) in public.text
    assert '<ins class="diff-word">' in public.text and "From version 1 to version 2" in public.text
    back = await client.get("/privacy/policy?from=2&to=1")
    assert back.status_code == 200 and "From version 2 to version 1" in back.text


async def test_the_analytics_page_draws_the_summary(client: AsyncTestClient) -> None:
    officer, _ = await _cookie(client, "desk.analyst@example.com", StaffRole.ADMIN)
    consent = await client.put("/v1/consent", json={"functional": False, "analytics": True, "marketing": False})
    device = consent.headers["set-cookie"].split(";")[0]
    events = {"events": [{"name": "page_view", "page": "/"}] * 3 + [{"name": "feature_used", "feature": "upscale"}]}
    await client.post("/v1/analytics/events", json=events, headers={"Cookie": device})
    page = await client.get("/admin/analytics", headers={"Cookie": officer})
    assert page.status_code == 200
    assert '<svg id="daily-chart" role="img"' in page.text and '<title id="daily-chart-title">' in page.text
    assert "4 events in all" in page.text and ">upscale<" in page.text and "style=" not in page.text
    for bad in ("?from=2026-12-01&to=2026-01-01", "?from=nope", "?from=2020-01-01&to=2026-01-01"):
        assert (await client.get("/admin/analytics" + bad, headers={"Cookie": officer})).status_code == 422, bad


async def _events(container: Container, subject: uuid.UUID, staff: uuid.UUID) -> list[AuditEvent]:
    now = container.infra.clock.now()
    made = [
        AuditEvent(
            uuid.uuid4(),
            subject,
            ActorKind.STAFF,
            staff,
            "rectification",
            ("display_name",),
            "=HYPERLINK()",
            now - timedelta(days=3),
        ),
        *(
            AuditEvent(
                uuid.uuid4(),
                subject,
                ActorKind.SYSTEM,
                None,
                "web_test.sweep",
                ("uploads",),
                None,
                now - timedelta(days=2, minutes=n),
            )
            for n in range(60)
        ),
    ]
    async with container.infra.uow() as uow:
        for event in made:
            await uow.audit.append(event)
        await uow.commit()
    return made


async def test_the_audit_trail_filters_pages_exports_and_is_audited(
    client: AsyncTestClient, container: Container
) -> None:
    officer, bearer = await _cookie(client, "desk.auditor@example.com", StaffRole.PRIVACY_OFFICER)
    me = (await client.get("/v1/me", headers=bearer)).json()
    subject, staff = uuid.uuid4(), uuid.uuid4()
    await _events(container, subject, staff)
    cookie = {"Cookie": officer}

    for bad in (
        "actor_id=nope",
        "subject_id=123",
        "from=2026-13-01",
        "actor_kind=alien",
        "before=x",
        "from=2026-11-20&to=2026-11-01",
        "action=" + "a" * 101,
    ):
        answer = await client.get("/admin/audit?" + bad, headers=cookie)
        assert 400 <= answer.status_code < 500, bad
        if not bad.startswith("before="):  # the export has no pages
            assert (await client.get("/admin/audit/export.csv?" + bad, headers=cookie)).status_code in (400, 422), bad

    everything = await client.get(f"/admin/audit?subject_id={subject}&action=&actor_kind=&from=&to=", headers=cookie)
    assert everything.status_code == 200
    assert everything.text.count("<tr data-id=") == 50 and 'id="older"' in everything.text
    older = re.search(r'id="older" href="([^"]+)"', everything.text)
    assert older is not None
    second = await client.get(older.group(1).replace("&amp;", "&"), headers=cookie)
    assert second.text.count("<tr data-id=") == 11 and 'id="older"' not in second.text

    system = await client.get(f"/admin/audit?subject_id={subject}&actor_kind=system", headers=cookie)
    assert system.text.count("<tr data-id=") == 50 and "rectification" not in system.text
    by_actor = await client.get(f"/admin/audit?actor_id={staff}", headers=cookie)
    assert by_actor.text.count("<tr data-id=") == 1
    day = (container.infra.clock.now() - timedelta(days=3)).date().isoformat()
    that_day = await client.get(f"/admin/audit?subject_id={subject}&from={day}&to={day}", headers=cookie)
    assert that_day.text.count("<tr data-id=") == 1

    export = await client.get(f"/admin/audit/export.csv?subject_id={subject}&action=rect", headers=cookie)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:3] == ["occurred_at", "action", "actor_kind"] and len(rows) == 2
    assert rows[1][1] == "rectification" and rows[1][6] == "'=HYPERLINK()"  # a formula is defused
    yesterday = (container.infra.clock.now() - timedelta(days=1)).date().isoformat()  # before this test's views
    full = await client.get(f"/admin/audit/export.csv?subject_id={subject}&to={yesterday}", headers=cookie)
    assert len(list(csv.reader(io.StringIO(full.text)))) == 62

    query = {"subject_id": str(subject), "to": yesterday, "limit": 60}
    twin = await client.get("/v1/admin/audit-events", params=query, headers=bearer)
    assert twin.status_code == 200 and len(twin.json()["events"]) == 60 and twin.json()["next_before"]
    rest = await client.get(
        "/v1/admin/audit-events",
        params={**query, "before": twin.json()["next_before"]},
        headers=bearer,
    )
    assert len(rest.json()["events"]) == 1 and rest.json()["next_before"] is None
    assert (await client.get("/v1/admin/audit-events?actor_kind=alien", headers=bearer)).status_code in (400, 422)

    views = await client.get(
        "/v1/admin/audit-events", params={"actor_id": me["id"], "action": "staff_viewed_audit_trail"}, headers=bearer
    )
    seen = views.json()["events"]
    assert seen and all(e["subject_id"] == str(subject) and e["actor_kind"] == "staff" for e in seen)
    assert {e["reason"] for e in seen} == {"listed in the audit trail", "exported from the audit trail"}
