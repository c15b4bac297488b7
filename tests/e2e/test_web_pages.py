"""The web pages' own authorization matrix, in process (the browser tests drive the journeys): every page route for
an anonymous browser, a signed-in account without a staff role and a privacy officer; CSRF on every form post; the
pages take no bearer token and the JSON API takes no session cookie."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from dreamina.bootstrap import build_container
from dreamina.entrypoints.http.auth import SESSION_COOKIE
from dreamina.ports.staff import StaffRole
from dreamina.settings import load_settings
from tests.conftest import MEMORY
from tests.http_client import AsyncTestClient

from .authorization_audiences import PAGE_PUBLIC, PAGE_SUBJECT, PAGES
from .conftest import UNTHROTTLED, app_for, test_overrides
from .helpers import PASSWORD, signed_in

pytestmark = pytest.mark.parametrize("_store", [MEMORY], indirect=True)


@pytest.fixture
async def client(uow_factory: Any, tmp_path: Any) -> AsyncIterator[AsyncTestClient]:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    container = build_container(settings, uow=uow_factory, **test_overrides())
    async with AsyncTestClient(app=app_for(container)) as made:
        yield made
        await container.aclose()


def _path(template: str) -> str:
    return (
        re.sub(r"\{\w+_id\}", lambda _: str(uuid4()), template)
        .replace("{file_path}", "app.css")
        .replace("{name}", "verify-email")
        .replace("{version}", "1")  # the version published at start-up
    )


async def _session(client: AsyncTestClient, email: str) -> dict[str, str]:
    """A browser session's cookie (the session cookie holds the token the same sign-in issues)."""
    bearer = await signed_in(client, email)
    return {"Cookie": f"{SESSION_COOKIE}={bearer['Authorization'].removeprefix('Bearer ')}"}


async def test_anonymous_browsers_see_only_the_sign_in_pages(client: AsyncTestClient) -> None:
    for (method, template), audience in PAGES.items():
        answer = await client.request(method, _path(template), follow_redirects=False)
        if method == "POST":
            assert answer.status_code == 403, (method, template)  # no CSRF token: refused before the handler
        elif audience == PAGE_PUBLIC:
            assert answer.status_code == 200, (template, answer.text[:200])
        else:
            assert answer.status_code == 303, template
            assert answer.headers["location"] == ("/admin" if template.startswith("/admin") else "/privacy")


async def test_an_account_without_a_staff_role_gets_403_on_every_console_page(client: AsyncTestClient) -> None:
    cookie = await _session(client, "pages.subject@example.com")
    for (method, template), audience in PAGES.items():
        if method != "GET":
            continue
        answer = await client.get(_path(template), headers=cookie, follow_redirects=False)
        if audience.startswith("page:staff:"):
            assert answer.status_code == 403, template
            assert "<table" not in answer.text and "Privacy request queue" not in answer.text
        elif audience == PAGE_SUBJECT and "{" not in template:
            assert answer.status_code == 200, (template, answer.text[:300])
            assert "text/html" in answer.headers["content-type"]
    data = await client.get("/privacy/data", headers=cookie)
    assert "pages.subject@example.com" in data.text


async def test_a_privacy_officer_reaches_the_queue(client: AsyncTestClient) -> None:
    cookie = await _session(client, "pages.officer@example.com")
    await client.app.state.container.identity.staff.grant("pages.officer@example.com", StaffRole.PRIVACY_OFFICER)
    answer = await client.get("/admin/queue", headers=cookie)
    assert answer.status_code == 200 and 'id="queue"' in answer.text
    # Opening a request without a reason shows the form that asks for one, nothing of the request.
    form = await client.get(f"/admin/requests/{uuid4()}", headers=cookie)
    assert form.status_code == 200 and 'name="reason"' in form.text
    unknown = await client.get(f"/admin/requests/{uuid4()}", params={"reason": "a check"}, headers=cookie)
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]


async def test_the_pages_take_no_bearer_token_and_the_api_no_session_cookie(client: AsyncTestClient) -> None:
    bearer = await signed_in(client, "pages.both@example.com")
    page = await client.get("/privacy/data", headers=bearer, follow_redirects=False)
    assert page.status_code == 303
    cookie = {"Cookie": f"{SESSION_COOKIE}={bearer['Authorization'].removeprefix('Bearer ')}"}
    api = await client.get("/v1/me", headers=cookie)
    assert api.status_code == 401
    # The API keeps its own headers (no page CSP, no CSRF cookie).
    me = await client.get("/v1/me", headers=bearer)
    assert me.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "csrf" not in me.headers.get("set-cookie", "")


async def test_static_assets_are_served_with_the_page_csp(client: AsyncTestClient) -> None:
    for name, kind in (("app.css", "text/css"), ("app.js", "javascript")):
        answer = await client.get(f"/static/{name}")
        assert answer.status_code == 200 and kind in answer.headers["content-type"]
        assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert (await client.get("/static/../pages.py")).status_code == 404


async def _form(client: AsyncTestClient, path: str) -> tuple[dict[str, str], str]:
    """The CSRF cookie and the form token a browser gets with ``path``'s page (set by hand: the test client's
    cookie jar would not send ``Secure`` cookies over http)."""
    answer = await client.get(path)
    cookie = answer.headers["set-cookie"].split(";", 1)[0]
    token = re.search(r'name="_csrf_token" value="([^"]+)"', answer.text)
    assert token is not None and cookie.startswith("dreamina_csrf=")
    return {"Cookie": cookie}, token.group(1)


async def test_signing_in_sets_a_strict_session_cookie_and_a_wrong_password_shows_the_form_again(
    client: AsyncTestClient,
) -> None:
    await signed_in(client, "pages.form@example.com")
    cookie, token = await _form(client, "/privacy")
    wrong = await client.post(
        "/privacy/sign-in",
        data={"email": "pages.form@example.com", "password": "not the password", "_csrf_token": token},
        headers=cookie,
    )
    assert wrong.status_code == 401 and 'type="password"' in wrong.text and 'role="alert"' in wrong.text
    assert "dreamina_session" not in wrong.headers.get("set-cookie", "")
    right = await client.post(
        "/privacy/sign-in",
        data={"email": "pages.form@example.com", "password": PASSWORD, "_csrf_token": token},
        headers=cookie,
        follow_redirects=False,
    )
    assert right.status_code == 303 and right.headers["location"] == "/privacy/data"
    session = right.headers["set-cookie"]
    assert session.startswith("dreamina_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=strict", "Path=/", "expires="):
        assert flag.lower() in session.lower(), session


async def test_the_sign_in_page_shares_the_apis_throttle(client: AsyncTestClient) -> None:
    """Failures counted by the API's sign-in count for the page's too: past the limit, the page asks for the code."""
    container = client.app.state.container
    await signed_in(client, "pages.throttle@example.com")
    for _ in range(container.settings.login_max_failures):
        body = {"email": "pages.throttle@example.com", "password": "wrong-pass-1"}
        assert (await client.post("/v1/auth/token", json=body)).status_code == 401
    cookie, token = await _form(client, "/privacy")
    form = {"email": "pages.throttle@example.com", "password": PASSWORD, "_csrf_token": token}
    blocked = await client.post("/privacy/sign-in", data=form, headers=cookie)
    assert blocked.status_code == 401 and 'id="code"' in blocked.text
    assert "dreamina_session" not in blocked.headers.get("set-cookie", "")


async def test_the_queue_shows_the_monitors_near_due_and_overdue_flags(client: AsyncTestClient) -> None:
    container = client.app.state.container
    subject = await signed_in(client, "pages.late@example.com")
    made = await client.post("/v1/privacy/requests", json={"type": "erasure", "password": PASSWORD}, headers=subject)
    assert made.status_code == 202, made.text
    due = datetime.fromisoformat(made.json()["due_at"])
    await signed_in(client, "pages.desk@example.com")
    await container.identity.staff.grant("pages.desk@example.com", StaffRole.PRIVACY_OFFICER)
    for moment, flag in ((due - timedelta(days=1), "near due"), (due + timedelta(hours=1), "overdue")):
        container.infra.clock.advance(moment - container.infra.clock.now())
        await container.data_rights.deadlines.flag_deadlines()  # the monitor's periodic pass
        token = await client.post("/v1/auth/token", json={"email": "pages.desk@example.com", "password": PASSWORD})
        cookie = {"Cookie": f"{SESSION_COOKIE}={token.json()['access_token']}"}
        queue = await client.get("/admin/queue", headers=cookie)
        assert queue.status_code == 200
        row = queue.text.split(f'data-id="{made.json()["id"]}"', 1)[1].split("</tr>", 1)[0]
        assert f">{flag}<" in row, row
