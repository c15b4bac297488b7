"""The staff console's pages by role, in process: each role reaches exactly the pages whose API twin lets it in
(the audiences in ``authorization_audiences.PAGES``) and gets 403 on the others; every form post without the CSRF
token is refused; bad form input is a 4xx page, never a 500."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest

from dreamina.bootstrap import build_container
from dreamina.entrypoints.http.auth import SESSION_COOKIE
from dreamina.ports.staff import StaffRole
from dreamina.settings import load_settings
from tests.conftest import MEMORY
from tests.http_client import AsyncTestClient

from .authorization_audiences import PAGES
from .conftest import UNTHROTTLED, app_for, test_overrides
from .helpers import PASSWORD, signed_in

pytestmark = pytest.mark.parametrize("_store", [MEMORY], indirect=True)
CONSOLE = {operation: audience for operation, audience in PAGES.items() if audience.startswith("page:staff:")}


@pytest.fixture
async def client(uow_factory: Any, tmp_path: Any) -> AsyncIterator[AsyncTestClient]:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    container = build_container(settings, uow=uow_factory, **test_overrides())
    async with AsyncTestClient(app=app_for(container)) as made:
        yield made
        await container.aclose()


def _path(template: str) -> str:
    return re.sub(r"\{[a-z_]+\}", lambda _: str(uuid4()), template)


async def _staff(client: AsyncTestClient, email: str, role: StaffRole | None) -> str:
    """A signed-in browser's session cookie (with ``role``, or none)."""
    bearer = await signed_in(client, email)
    if role is not None:
        await client.app.state.container.identity.staff.grant(email, role)
    return f"{SESSION_COOKIE}={bearer['Authorization'].removeprefix('Bearer ')}"


async def _csrf(client: AsyncTestClient) -> tuple[str, str]:
    """The CSRF cookie and form token a browser gets with the sign-in page (set by hand: the test client's cookie
    jar would not send ``Secure`` cookies over http)."""
    answer = await client.get("/admin")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', answer.text)
    assert token is not None
    return answer.headers["set-cookie"].split(";", 1)[0], token.group(1)


@pytest.mark.parametrize("role", list(StaffRole))
async def test_each_role_reaches_the_pages_its_api_twin_allows_and_gets_403_on_the_others(
    client: AsyncTestClient, role: StaffRole
) -> None:
    session = await _staff(client, f"console.{role.value}@example.com", role)
    csrf_cookie, token = await _csrf(client)
    headers = {"Cookie": f"{session}; {csrf_cookie}"}
    for (method, template), audience in CONSOLE.items():
        allowed = role.value in audience.removeprefix("page:staff:").split(",")
        if method == "GET":
            answer = await client.get(_path(template), headers=headers, follow_redirects=False)
            # A list, or (for one item) the form that asks for a reason: nothing is looked up yet.
            assert answer.status_code == (200 if allowed else 403), (role, template, answer.text[:300])
        else:
            form = {"_csrf_token": token, "reason": "a check", "message": "hello"}
            answer = await client.post(_path(template), data=form, headers=headers, follow_redirects=False)
            # Refused, the guard answers before any lookup; let through, an unknown id is not found (a form without
            # an id in its path, e.g. the policy desk's, answers its own 4xx to this form).
            if not allowed:
                assert answer.status_code == 403, (role, template, answer.text[:300])
            elif "_id}" in template:
                assert answer.status_code == 404, (role, template, answer.text[:300])
            else:
                assert answer.status_code < 500 and answer.status_code != 403, (role, template, answer.text[:300])
        if not template.endswith(".csv"):  # the audit trail's export is CSV; its refusal a page
            assert "text/html" in answer.headers["content-type"], (role, template)


@pytest.mark.parametrize("role", list(StaffRole))
async def test_the_nav_shows_each_role_only_its_sections(client: AsyncTestClient, role: StaffRole) -> None:
    session = await _staff(client, f"nav.{role.value}@example.com", role)
    queue = await client.get("/admin/queue", headers={"Cookie": session})
    assert queue.status_code == 200
    nav = queue.text.split('<nav aria-label="Staff console">', 1)[1].split("</nav>", 1)[0]
    assert 'href="/admin/queue"' in nav and 'href="/admin/child-reports"' in nav
    for section in ("privacy-tickets", "policy", "analytics", "audit"):
        assert (f'href="/admin/{section}"' in nav) == (role is not StaffRole.SUPPORT), section
    for section in ("support-tickets", "abuse-reports", "moderation"):
        assert (f'href="/admin/{section}"' in nav) == (role is not StaffRole.PRIVACY_OFFICER), section


async def test_every_console_post_without_the_csrf_token_is_refused(client: AsyncTestClient) -> None:
    session = await _staff(client, "csrf.admin@example.com", StaffRole.ADMIN)
    csrf_cookie, _ = await _csrf(client)
    for method, template in CONSOLE:
        if method != "POST":
            continue
        form = {"reason": "a check", "message": "hello"}
        for cookies in (session, f"{session}; {csrf_cookie}"):  # no CSRF cookie; the cookie but no token
            answer = await client.post(_path(template), data=form, headers={"Cookie": cookies})
            assert answer.status_code == 403, (template, cookies)


async def test_bad_form_input_is_a_4xx_page(client: AsyncTestClient) -> None:
    session = await _staff(client, "bad.input@example.com", StaffRole.ADMIN)
    subject = await signed_in(client, "bad.subject@example.com")
    body = {"type": "rectification", "details": {"free_text": "my name is wrong"}}
    made = await client.post("/v1/privacy/requests", json=body, headers=subject)
    assert made.status_code == 202, made.text
    request_id = made.json()["id"]
    csrf_cookie, token = await _csrf(client)
    headers = {"Cookie": f"{session}; {csrf_cookie}"}
    for path, form in (
        (f"/admin/requests/{request_id}/reject", {}),  # no reason
        (f"/admin/requests/{request_id}/reject", {"reason": ""}),
        (f"/admin/requests/{request_id}/approve", {"reason": "x" * 5000}),
        (f"/admin/requests/{request_id}/expedite", {"reason": "not an erasure"}),  # 409: nothing scheduled
        (f"/admin/child-reports/{uuid4()}/confirm", {"reason": ""}),
        (f"/admin/support-tickets/{uuid4()}/reply", {"close": "true"}),  # no message
    ):
        answer = await client.post(path, data={**form, "_csrf_token": token}, headers=headers)
        assert 400 <= answer.status_code < 500, (path, form, answer.status_code)
        assert "text/html" in answer.headers["content-type"]
    for path in ("/admin/queue?flag=soon", "/admin/queue?type=nonsense", "/admin/support-tickets?status=closed"):
        answer = await client.get(path, headers=headers)
        assert 400 <= answer.status_code < 500, path
    assert (await client.get(f"/admin/requests/{request_id}?reason=", headers=headers)).status_code == 400
    # The request is untouched by all that.
    view = await client.get(f"/admin/requests/{request_id}", params={"reason": "a check"}, headers=headers)
    assert view.status_code == 200 and 'id="status">in_review<' in view.text


async def test_the_queue_filters_by_type_and_flag_as_the_api_does(client: AsyncTestClient) -> None:
    session = await _staff(client, "filter.officer@example.com", StaffRole.PRIVACY_OFFICER)
    subject = await signed_in(client, "filter.subject@example.com")
    correction = {"type": "rectification", "details": {"free_text": "my name is wrong"}}
    assert (await client.post("/v1/privacy/requests", json=correction, headers=subject)).status_code == 202
    erasure = {"type": "erasure", "password": PASSWORD}
    assert (await client.post("/v1/privacy/requests", json=erasure, headers=subject)).status_code == 202
    headers = {"Cookie": session}
    every = await client.get("/admin/queue", headers=headers)
    assert 'data-type="rectification"' in every.text and 'data-type="erasure"' in every.text
    erasures = await client.get("/admin/queue", params={"type": "erasure", "flag": ""}, headers=headers)
    assert 'data-type="rectification"' not in erasures.text and 'data-type="erasure"' in erasures.text
    assert '<option value="erasure" selected>' in erasures.text
    overdue = await client.get("/admin/queue", params={"flag": "overdue"}, headers=headers)
    assert overdue.status_code == 200 and "No open requests." in overdue.text


async def test_a_privacy_officer_answers_a_privacy_ticket_keeping_it_open_then_closes_it(
    client: AsyncTestClient,
) -> None:
    writer = await signed_in(client, "ticket.writer@example.com")
    body = {"category": "privacy", "subject": "What do you keep?", "message": "Which data do you keep about me?"}
    made = await client.post("/v1/support/tickets", json=body, headers=writer)
    assert made.status_code == 201, made.text
    ticket = made.json()["id"]
    session = await _staff(client, "ticket.officer@example.com", StaffRole.PRIVACY_OFFICER)
    csrf_cookie, token = await _csrf(client)
    headers = {"Cookie": f"{session}; {csrf_cookie}"}
    listed = await client.get("/admin/privacy-tickets", headers=headers)
    assert f'data-id="{ticket}"' in listed.text and "What do you keep?" in listed.text
    view = await client.get(f"/admin/privacy-tickets/{ticket}", params={"reason": "answering"}, headers=headers)
    assert "Which data do you keep about me?" in view.text
    # The box unticked (not sent): answered, left open for a follow-up.
    form = {"_csrf_token": token, "message": "Your account, your images and your consent choices."}
    reply = await client.post(f"/admin/privacy-tickets/{ticket}/reply", data=form, headers=headers)
    assert reply.status_code == 303 and reply.headers["location"] == "/admin/privacy-tickets"
    mine = (await client.get(f"/v1/support/tickets/{ticket}", headers=writer)).json()
    assert mine["status"] == "answered" and mine["answers"][0]["message"].startswith("Your account")
    answered = await client.get("/admin/privacy-tickets", params={"status": "answered"}, headers=headers)
    assert f'data-id="{ticket}"' in answered.text
    form = {"_csrf_token": token, "reason": "answered in full"}
    closed = await client.post(f"/admin/privacy-tickets/{ticket}/close", data=form, headers=headers)
    assert closed.status_code == 303
    assert (await client.get(f"/v1/support/tickets/{ticket}", headers=writer)).json()["status"] == "closed"
    again = await client.post(f"/admin/privacy-tickets/{ticket}/close", data=form, headers=headers)
    assert again.status_code == 409 and "text/html" in again.headers["content-type"]
    # The support desk does not see it (another queue: not found).
    admin = await _staff(client, "ticket.admin@example.com", StaffRole.ADMIN)
    other = await client.get(f"/admin/support-tickets/{ticket}", params={"reason": "a look"}, headers={"Cookie": admin})
    assert other.status_code == 404


async def test_only_deciders_are_shown_the_decision_forms(client: AsyncTestClient) -> None:
    subject = await signed_in(client, "forms.subject@example.com")
    body = {"type": "rectification", "details": {"free_text": "my name is wrong"}}
    request_id = (await client.post("/v1/privacy/requests", json=body, headers=subject)).json()["id"]
    for role, shown in ((StaffRole.SUPPORT, False), (StaffRole.PRIVACY_OFFICER, True), (StaffRole.ADMIN, True)):
        session = await _staff(client, f"forms.{role.value}@example.com", role)
        path = f"/admin/requests/{request_id}"
        view = await client.get(path, params={"reason": "a look"}, headers={"Cookie": session})
        assert view.status_code == 200 and "my name is wrong" in view.text
        for action in ("approve", "reject", "extend"):
            assert (f'action="/admin/requests/{request_id}/{action}"' in view.text) == shown, (role, action)
        assert "/expedite" not in view.text  # not a scheduled erasure


async def test_an_officer_erases_a_scheduled_erasure_now(client: AsyncTestClient) -> None:
    subject = await signed_in(client, "expedite.subject@example.com")
    made = await client.post("/v1/privacy/requests", json={"type": "erasure", "password": PASSWORD}, headers=subject)
    request_id = made.json()["id"]
    session = await _staff(client, "expedite.officer@example.com", StaffRole.PRIVACY_OFFICER)
    csrf_cookie, token = await _csrf(client)
    headers = {"Cookie": f"{session}; {csrf_cookie}"}
    view = await client.get(f"/admin/requests/{request_id}", params={"reason": "the subject wrote"}, headers=headers)
    assert f'action="/admin/requests/{request_id}/expedite"' in view.text
    assert f'action="/admin/requests/{request_id}/approve"' not in view.text  # not under review
    form = {"_csrf_token": token, "reason": "the subject asked us not to wait"}
    done = await client.post(f"/admin/requests/{request_id}/expedite", data=form, headers=headers)
    assert done.status_code == 303 and done.headers["location"] == "/admin/queue"
    now = client.app.state.container.infra.clock.now().strftime("%Y-%m-%d")
    after = await client.get(f"/admin/requests/{request_id}", params={"reason": "checking"}, headers=headers)
    assert f"<dt>Scheduled for</dt><dd>{now}</dd>" in after.text and "expedited: the subject asked" in after.text
