# ruff: noqa: F811  (the fixtures imported from the other web test modules are parameters here)
"""The rights pages' forms, in process: every form post refuses a request without the CSRF token (403), answers bad
input with a 4xx page (never a 500), and does what its API twin does; GPC from a signed-in browser reaches the
account; the access report is a page of sections, not JSON."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import pytest

from tests.conftest import MEMORY
from tests.http_client import AsyncTestClient

from .helpers import PASSWORD, signed_in
from .test_web_pages import _form, client  # noqa: F401

pytestmark = pytest.mark.parametrize("_store", [MEMORY], indirect=True)

SUBJECT = "rights.forms@example.com"


async def _browser(client: AsyncTestClient, email: str) -> tuple[dict[str, str], dict[str, str], str]:
    """A signed-in browser: its bearer (for checking through the API), its cookies (session and CSRF), its token."""
    bearer = await signed_in(client, email)
    csrf_cookie, token = await _form(client, "/privacy")
    session = bearer["Authorization"].removeprefix("Bearer ")
    return bearer, {"Cookie": f"{csrf_cookie['Cookie']}; dreamina_session={session}"}, token


def _posts() -> list[tuple[str, dict[str, str]]]:
    some = str(uuid4())
    return [
        ("/privacy/requests", {"type": "access"}),
        (f"/privacy/requests/{some}/verify", {"code": "123456"}),
        (f"/privacy/requests/{some}/code", {}),
        (f"/privacy/requests/{some}/cancel", {}),
        ("/privacy/objections", {"purpose": "analytics", "objected": "true"}),
        ("/privacy/restriction", {"action": "restrict"}),
    ]


async def test_every_rights_form_refuses_a_post_without_the_csrf_token(client: AsyncTestClient) -> None:
    bearer, cookies, _ = await _browser(client, SUBJECT)
    for path, form in _posts():
        answer = await client.post(path, data=form, headers=cookies, follow_redirects=False)
        assert answer.status_code == 403, (path, answer.status_code)
    listed = await client.get("/v1/privacy/requests", headers=bearer)
    assert listed.json()["requests"] == []  # nothing was done
    objections = await client.get("/v1/me/objections", headers=bearer)
    assert not any(o["objected"] for o in objections.json()["objections"])


BAD_INPUT: list[tuple[str, dict[str, str]]] = [
    ("/privacy/requests", {"type": "bogus"}),
    ("/privacy/requests", {}),
    ("/privacy/requests", {"type": "export", "proof": "password", "password": ""}),
    ("/privacy/requests", {"type": "erasure", "proof": "telepathy"}),
    ("/privacy/requests", {"type": "rectification"}),
    ("/privacy/requests", {"type": "rectification", "birth_date": "yesterday"}),
    ("/privacy/requests", {"type": "objection", "purpose": "provide_service"}),
    ("/privacy/requests", {"type": "objection", "purpose": ""}),
    ("/privacy/requests", {"type": "restriction", "action": "forever"}),
    ("/privacy/requests", {"type": "access", "note": "\x00"}),
    ("/privacy/requests", {"type": "export", "password": "wrong password"}),
    ("/privacy/requests", {"type": "access", "note": "x" * 9000}),
    ("/privacy/objections", {"purpose": "provide_service", "objected": "true"}),
    ("/privacy/objections", {"purpose": "analytics", "objected": "perhaps"}),
    ("/privacy/objections", {}),
    ("/privacy/restriction", {"action": "forever"}),
    ("/privacy/restriction", {"action": "restrict", "reason": "\x01"}),
    (f"/privacy/requests/{uuid4()}/verify", {"code": ""}),
    (f"/privacy/requests/{uuid4()}/verify", {"code": "123456"}),
    (f"/privacy/requests/{uuid4()}/code", {}),
    (f"/privacy/requests/{uuid4()}/cancel", {}),
]


async def test_bad_form_input_is_a_4xx_page(client: AsyncTestClient) -> None:
    _, cookies, token = await _browser(client, SUBJECT)
    for path, form in BAD_INPUT:
        answer = await client.post(path, data={**form, "_csrf_token": token}, headers=cookies, follow_redirects=False)
        assert 400 <= answer.status_code < 500, (path, form, answer.status_code, answer.text[:300])
        assert "text/html" in answer.headers["content-type"], (path, form)
        assert 'role="alert"' in answer.text, (path, form)


async def test_the_forms_do_what_the_api_does(client: AsyncTestClient) -> None:
    bearer, cookies, token = await _browser(client, SUBJECT)

    async def post(path: str, **form: str) -> Any:
        answer = await client.post(path, data={**form, "_csrf_token": token}, headers=cookies, follow_redirects=False)
        assert answer.status_code == 303, (path, form, answer.text[:300])
        return answer

    await post("/privacy/requests", type="access", note="what do you hold?")
    await post("/privacy/requests", type="export", proof="mail")
    await post("/privacy/requests", type="rectification", display_name="Forma Form")
    await post("/privacy/requests", type="objection", purpose="marketing")
    await post("/privacy/requests", type="restriction", action="restrict", reason="accuracy disputed")
    await post("/privacy/objections", purpose="analytics", objected="true")
    listed = {r["type"]: r for r in (await client.get("/v1/privacy/requests", headers=bearer)).json()["requests"]}
    assert listed["access"]["status"] == "completed"
    assert listed["export"]["status"] == "awaiting_verification"  # a code was mailed instead of a password
    assert listed["rectification"]["status"] == "completed"
    assert listed["objection"]["status"] == "completed" and listed["restriction"]["status"] == "completed"
    objections = (await client.get("/v1/me/objections", headers=bearer)).json()["objections"]
    assert {o["purpose"] for o in objections if o["objected"]} == {"analytics", "marketing"}
    assert (await client.get("/v1/me/improvement", headers=bearer)).json()["restricted"] is True

    page = (await client.get("/privacy/objections", headers=cookies)).text
    assert 'data-restricted="true"' in page and 'data-purpose="analytics" data-objected="true"' in page
    await post("/privacy/restriction", action="lift")
    await post("/privacy/objections", purpose="analytics", objected="false")
    assert (await client.get("/v1/me/improvement", headers=bearer)).json()["restricted"] is False
    objections = (await client.get("/v1/me/objections", headers=bearer)).json()["objections"]
    assert {o["purpose"] for o in objections if o["objected"]} == {"marketing"}

    await post(f"/privacy/requests/{listed['export']['id']}/code")
    wrong = await client.post(
        f"/privacy/requests/{listed['export']['id']}/verify",
        data={"code": "000000", "_csrf_token": token},
        headers=cookies,
    )
    assert wrong.status_code == 403 and "text/html" in wrong.headers["content-type"]
    both = await client.post(
        f"/privacy/requests/{listed['export']['id']}/verify",
        data={"code": "000000", "password": "x", "_csrf_token": token},
        headers=cookies,
    )
    assert both.status_code == 422  # the API's rule: the code or the password, not both
    await post(f"/privacy/requests/{listed['export']['id']}/verify", password=PASSWORD)
    export = (await client.get(f"/v1/privacy/requests/{listed['export']['id']}", headers=bearer)).json()
    assert export["status"] in ("processing", "completed")
    await post("/privacy/requests", type="erasure", proof="mail")
    mine = (await client.get("/v1/privacy/requests", headers=bearer)).json()["requests"]
    erasure = next(r for r in mine if r["type"] == "erasure")
    assert erasure["status"] == "awaiting_verification"
    await post(f"/privacy/requests/{erasure['id']}/verify", password=PASSWORD)
    listing = (await client.get("/privacy/requests", headers=cookies)).text
    row = listing.split(f'id="request-{erasure["id"]}"', 1)[1].split("</tr>", 1)[0]
    # without the script: the date and the days left; the script's <time datetime> is a UTC instant
    assert re.search(
        r'<time datetime="\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z" data-countdown>\d{4}-\d{2}-\d{2}</time>', row
    )
    assert re.search(r"\d+ days left", row), row
    await post(f"/privacy/requests/{erasure['id']}/cancel")
    erasure = (await client.get(f"/v1/privacy/requests/{erasure['id']}", headers=bearer)).json()
    assert erasure["status"] == "cancelled"

    report = await client.get(f"/privacy/requests/{listed['access']['id']}/report", headers=cookies)
    assert report.status_code == 200 and "text/html" in report.headers["content-type"]
    assert report.text.count("<h1") == 1 and "Your rights" in report.text and "What we hold" in report.text
    api = (await client.get(f"/v1/privacy/requests/{listed['access']['id']}/report", headers=bearer)).json()
    assert api["rights"]["complaint"][1:] in report.text
    detail = await client.get(f"/privacy/requests/{listed['access']['id']}", headers=cookies)
    assert detail.status_code == 200 and "what do you hold?" in detail.text
    not_a_report = await client.get(f"/privacy/requests/{listed['export']['id']}/report", headers=cookies)
    assert not_a_report.status_code == 404 and "text/html" in not_a_report.headers["content-type"]


async def test_gpc_from_a_signed_in_browser_is_honoured_for_the_account(client: AsyncTestClient) -> None:
    bearer, cookies, _ = await _browser(client, "rights.gpc@example.com")
    plain = await client.get("/privacy/consent", headers=cookies)
    assert plain.status_code == 200 and 'id="gpc-notice"' not in plain.text
    signalled = await client.get("/privacy/consent", headers={**cookies, "Sec-GPC": "1"})
    assert "Global Privacy Control detected" in signalled.text
    consent = (await client.get("/v1/consent", headers=bearer)).json()
    assert consent["gpc"] is True and consent["sale_share_opt_out"] is True and consent["marketing"] is False
    later = await client.get("/privacy/consent", headers=cookies)
    assert "Global Privacy Control recorded" in later.text  # the account keeps it without the header
