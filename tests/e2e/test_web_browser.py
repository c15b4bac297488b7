"""The web pages in a real browser (Debian's chromium driven by Playwright) against a real ``dreamina serve``.

The server and the browser are shared by the browser tests of the process (``tests/e2e/web_site.py``); each test
has its own browser context (its own cookies). Every page a test visits is screenshotted under the test's
``tmp_path``.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import processes
from tests.loopback import http

from .web_site import PASSWORD, Site, needs_chromium, shot, sign_in, sign_up

pytestmark = needs_chromium


@pytest.mark.parametrize("section", ["/privacy", "/admin"])
def test_sign_in_pages_are_html_with_a_strict_csp_and_nothing_third_party(
    page: Any, site: Site, section: str, tmp_path: Path
) -> None:
    answer = http.get(site.base + section, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    csp = answer.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "<script>" not in answer.text and "style=" not in answer.text
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url))
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(section)
    assert page.locator("input[type=email]").count() == 1
    assert page.locator("input[type=password]").count() == 1
    assert page.locator("form button[type=submit]").count() == 1
    for field in ("email", "password"):
        assert page.locator(f"label[for={field}]").count() == 1  # every input is labelled
    assert {urlsplit(u).netloc for u in loaded} == {urlsplit(site.base).netloc}
    assert any(u.endswith("/static/app.css") for u in loaded) and any(u.endswith("/static/app.js") for u in loaded)
    assert violations == []
    shot(page, tmp_path, section.strip("/"))


def test_a_person_uses_the_privacy_center_and_a_privacy_officer_the_console(
    browser: Any, page: Any, site: Site, tmp_path: Path
) -> None:
    email = "web.person@example.com"
    sign_up(site, email)
    sign_in(page, "/privacy", email)
    page.wait_for_url("**/privacy/data")
    assert page.locator("#email-verified").inner_text() == "yes"
    assert email in page.content()
    shot(page, tmp_path, "privacy-data")
    # The session cookie is kept on http://127.0.0.1 although it is Secure (a secure context for Chromium).
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["dreamina_session"]
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"

    page.click("text=Consent")
    page.check("#analytics")
    page.click("text=Save choices")
    page.wait_for_url("**/privacy/consent")
    assert page.is_checked("#analytics") and not page.is_checked("#marketing")
    newest = page.locator("#consent-history tbody tr").first.inner_text()
    assert re.search(r"off\s+on\s+off\s+settings\s+1", newest), newest
    shot(page, tmp_path, "privacy-consent")

    page.click("text=Requests")
    page.fill("#export-password", PASSWORD)
    page.click("text=Request an export")
    page.wait_for_url("**/privacy/requests")
    deadline = time.monotonic() + 30
    while page.locator("text=Download your export").count() == 0:
        assert time.monotonic() < deadline, "the export was not ready in 30 s"
        time.sleep(0.5)
        page.reload()
    assert "available until" in page.locator("tr[data-type=export]").inner_text()
    with page.expect_download() as download:
        page.click("text=Download your export")
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert archive.namelist() and archive.testzip() is None

    page.fill("#erasure-password", PASSWORD)
    page.click("text=Request erasure")
    page.wait_for_url("**/privacy/requests")
    erasure = page.locator("tr[data-type=erasure]")
    assert re.search(r"will be erased on \d{4}-\d{2}-\d{2}", erasure.inner_text())
    shot(page, tmp_path, "privacy-requests")

    token = http.post(site.base + "/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=10)
    listed = http.get(
        site.base + "/v1/privacy/requests",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=10,
    ).json()
    erasure_id = next(r["id"] for r in listed["requests"] if r["type"] == "erasure")  # the server is shared: find ours

    officer = "web.officer@example.com"
    sign_up(site, officer)
    with (tmp_path / "staff.log").open("w") as out:
        assert processes.run(["staff", "create", officer, "privacy_officer"], site.env(), out) == 0
    console = browser.new_context(base_url=site.base).new_page()
    sign_in(console, "/admin", officer)
    console.wait_for_url("**/admin/queue")
    row = console.locator(f'#queue tbody tr[data-id="{erasure_id}"]')
    assert row.count() == 1 and "erasure" in row.inner_text()
    due = row.locator("td").first.inner_text()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", due)
    shot(console, tmp_path, "admin-queue")
    row.locator("text=Open").click()
    assert email not in console.content()  # nothing personal before a reason is given
    console.fill("#reason", "checking the erasure before its deadline")
    console.press("#reason", "Enter")
    console.wait_for_selector("#due")
    shot(console, tmp_path, "admin-request")
    console.fill("#extend-reason", "a backup restore is pending")
    console.click("button:has-text('Extend')")
    console.wait_for_url("**/admin/queue")
    extended = console.locator(f'#queue tbody tr[data-id="{erasure_id}"]').locator("td").first.inner_text()
    assert "(extended)" in extended and extended[:10] > due
    console.context.close()

    page.reload()
    page.click("text=Cancel erasure")
    page.wait_for_url("**/privacy/requests")
    assert page.locator("tr[data-type=erasure]").get_attribute("data-status") == "cancelled"
    page.click("text=Sign out")
    page.wait_for_url("**/privacy")
    page.goto("/privacy/data")
    page.wait_for_url("**/privacy")  # the session is gone: back to sign-in
    assert "dreamina_session" not in {c["name"] for c in page.context.cookies()}


def test_an_account_without_a_staff_role_gets_no_console(page: Any, site: Site, tmp_path: Path) -> None:
    sign_up(site, "web.nostaff@example.com")
    sign_in(page, "/admin", "web.nostaff@example.com")
    page.wait_for_load_state()
    assert page.title().startswith("Error 403")
    assert page.locator("#queue").count() == 0
    shot(page, tmp_path, "admin-forbidden")
    for path in ("/admin/queue", f"/admin/requests/{'0' * 8}-0000-0000-0000-{'0' * 12}"):
        answer = page.request.get(path)
        assert answer.status == 403 and "queue" not in answer.text()
    page.goto("/admin/queue")
    page.click("text=Sign out")  # the refusal page lets the account sign out to use another one
    page.wait_for_url("**/admin")
    assert page.locator("input[type=password]").count() == 1


def test_a_form_post_without_the_csrf_token_is_refused(page: Any, site: Site) -> None:
    sign_up(site, "web.csrf@example.com")
    sign_in(page, "/privacy", "web.csrf@example.com")
    page.wait_for_url("**/privacy/data")
    # The browser's own cookies (session and CSRF) but no token in the form.
    refused = page.request.post("/privacy/consent", form={"analytics": "true"})
    assert refused.status == 403
    page.goto("/privacy/consent")
    assert not page.is_checked("#analytics")
    # Without the browser's cookies at all (a cross-site form): refused before any handler runs.
    assert (
        http.post(site.base + "/privacy/sign-in", data={"email": "x@example.com", "password": "x"}).status_code == 403
    )
