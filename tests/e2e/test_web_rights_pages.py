"""The privacy center's rights pages in a real browser against a real ``dreamina serve``: every request type the API
takes (export proven with a code mailed to the outbox), the access report as a page, objections and restriction, the
erasure countdown, and the Global Privacy Control notice. Every page visited is screenshotted under ``tmp_path``."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from .test_serve_process import _mailed
from .web_site import PASSWORD, Site, needs_chromium, shot, sign_in, sign_up

pytestmark = needs_chromium
CODE_IN_MAIL = re.compile(r"privacy request is (\d{6})")


def _signed_in(page: Any, site: Site, email: str) -> None:
    sign_up(site, email)
    sign_in(page, "/privacy", email)
    page.wait_for_url("**/privacy/data")
    page.goto("/privacy/requests")


def _row(page: Any, kind: str) -> Any:
    return page.locator(f"#requests tbody tr[data-type={kind}]").first


def _submit(page: Any, form_type: str, button: str) -> None:
    page.locator(f"form:has(input[name=type][value={form_type}]) button[type=submit]", has_text=button).click()
    page.wait_for_url("**/privacy/requests*")


def test_a_person_requests_an_access_report_and_reads_it(page: Any, site: Site, tmp_path: Path) -> None:
    _signed_in(page, site, "rights.access@example.com")
    shot(page, tmp_path, "requests-empty")
    page.fill("#access-note", "what do you hold?")
    _submit(page, "access", "Request an access report")
    assert _row(page, "access").get_attribute("data-status") == "completed"
    page.click("text=Read your access report")
    page.wait_for_url("**/report")
    assert page.locator("h1").inner_text() == "Your access report"
    headings = page.locator("h2").all_inner_texts()
    for expected in ("What we hold, and where", "Who received it", "How long we keep it", "Your rights"):
        assert any(expected in h for h in headings), headings
    assert page.locator("#held ~ table, section table").count() >= 1  # what is held, as tables, not JSON
    assert "{" not in page.locator("main").inner_text()
    assert page.locator("#report-rights li").count() >= 1
    shot(page, tmp_path, "access-report")
    page.click("text=All your requests")
    page.click("#requests tbody tr[data-type=access] th a")
    page.wait_for_selector("#request-history")
    assert page.locator("#request-status").get_attribute("data-status") == "completed"
    assert "what do you hold?" in page.locator("#request-details").inner_text()
    shot(page, tmp_path, "request-detail")


def test_a_person_makes_every_other_request_type(page: Any, site: Site, tmp_path: Path) -> None:
    email = "rights.every@example.com"
    _signed_in(page, site, email)

    # Export, proven with the code mailed to the person.
    page.check("#export-by-mail")
    _submit(page, "export", "Request an export")
    assert _row(page, "export").get_attribute("data-status") == "awaiting_verification"
    shot(page, tmp_path, "export-awaiting-code")
    code = _mailed(site.data / "outbox", email, CODE_IN_MAIL)
    row = _row(page, "export")
    row.locator("input[name=code]").fill(code)
    row.locator("button", has_text="Confirm it is me").click()
    page.wait_for_url("**/privacy/requests*")
    deadline = time.monotonic() + 30
    while page.locator("text=Download your export").count() == 0:
        assert time.monotonic() < deadline, "the export was not ready in 30 s"
        time.sleep(0.5)
        page.reload()
    assert "available until" in _row(page, "export").inner_text()

    # Rectification: a display name corrected at once.
    page.fill("#fix-display-name", "Rita Rights")
    _submit(page, "rectification", "Request a correction")
    assert _row(page, "rectification").get_attribute("data-status") == "completed"
    page.goto("/privacy/data")
    assert "Rita Rights" in page.content()
    page.goto("/privacy/requests")

    # Rectification by free text: to the staff queue.
    page.fill("#fix-free-text", "my country is wrong")
    _submit(page, "rectification", "Request a correction")
    assert _row(page, "rectification").get_attribute("data-status") in ("in_review", "completed")

    # Objection as a request, then restriction and its lifting as requests.
    page.select_option("#objection-purpose", "marketing")
    _submit(page, "objection", "Send objection")
    assert _row(page, "objection").get_attribute("data-status") == "completed"
    _submit(page, "restriction", "Send restriction request")
    assert _row(page, "restriction").get_attribute("data-status") == "completed"
    page.goto("/privacy/objections")
    assert page.locator("#restriction").get_attribute("data-restricted") == "true"
    assert page.locator("li[data-purpose=marketing]").get_attribute("data-objected") == "true"
    page.goto("/privacy/requests")
    page.check("#restriction-lift")
    _submit(page, "restriction", "Send restriction request")
    page.goto("/privacy/objections")
    assert page.locator("#restriction").get_attribute("data-restricted") == "false"

    # Erasure by password: its date, and a countdown the page's script keeps live.
    page.goto("/privacy/requests")
    page.fill("#erasure-password", PASSWORD)
    _submit(page, "erasure", "Request erasure")
    erasure = _row(page, "erasure")
    assert erasure.get_attribute("data-status") == "scheduled"
    assert re.search(r"will be erased on \d{4}-\d{2}-\d{2}", erasure.inner_text())
    timer = erasure.locator("[data-countdown-text]")
    page.wait_for_function("document.querySelector('[data-countdown-text]').textContent.includes('second')")
    first = timer.inner_text()
    assert re.fullmatch(r"\d+ days?, \d+ hours?, \d+ minutes?, \d+ seconds? left", first), first
    page.wait_for_function(
        "t => document.querySelector('[data-countdown-text]').textContent !== t", arg=first, timeout=5000
    )
    shot(page, tmp_path, "requests-all-types")
    erasure.locator("button", has_text="Cancel erasure").click()
    page.wait_for_url("**/privacy/requests")
    assert _row(page, "erasure").get_attribute("data-status") == "cancelled"


def test_a_person_sets_and_clears_an_objection_and_a_restriction(page: Any, site: Site, tmp_path: Path) -> None:
    _signed_in(page, site, "rights.objects@example.com")
    page.click("nav >> text=Objections")
    page.wait_for_url("**/privacy/objections")
    for purpose in ("analytics", "marketing", "product_improvement"):
        item = page.locator(f"li[data-purpose={purpose}]")
        assert item.get_attribute("data-objected") == "false"
        assert item.locator("p").first.inner_text().endswith(".")  # what it stops, in one sentence
    shot(page, tmp_path, "objections-none")
    page.click("text=Object to analytics")
    page.wait_for_url("**/privacy/objections")
    assert page.locator("li[data-purpose=analytics]").get_attribute("data-objected") == "true"
    assert "you object" in page.locator("li[data-purpose=analytics]").inner_text()
    page.fill("#restriction-reason", "I dispute the accuracy of my data")
    page.click("text=Restrict processing")
    page.wait_for_url("**/privacy/objections")
    assert page.locator("#restriction").get_attribute("data-restricted") == "true"
    shot(page, tmp_path, "objections-set")
    page.click("text=Withdraw my objection to analytics")
    page.wait_for_url("**/privacy/objections")
    assert page.locator("li[data-purpose=analytics]").get_attribute("data-objected") == "false"
    page.click("text=Lift the restriction")
    page.wait_for_url("**/privacy/objections")
    assert page.locator("#restriction").get_attribute("data-restricted") == "false"
    shot(page, tmp_path, "objections-cleared")


def test_a_browser_sending_gpc_sees_it_detected_and_honoured(browser: Any, site: Site, tmp_path: Path) -> None:
    email = "rights.gpc@example.com"
    sign_up(site, email)
    context = browser.new_context(base_url=site.base, extra_http_headers={"Sec-GPC": "1"})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, "/privacy", email)
        page.wait_for_url("**/privacy/data")
        page.goto("/privacy/consent")
        notice = page.locator("#gpc-notice")
        assert "Global Privacy Control detected" in notice.inner_text()
        assert "marketing" in notice.inner_text()
        assert "kept off by Global Privacy Control" in page.locator("label[for=marketing]").inner_text()
        assert "gpc" in page.locator("#consent-history tbody").inner_text()  # the record it left, on the account
        shot(page, tmp_path, "consent-gpc")
    finally:
        context.close()


def test_a_browser_without_gpc_sees_no_notice(page: Any, site: Site) -> None:
    sign_up(site, "rights.nogpc@example.com")
    sign_in(page, "/privacy", "rights.nogpc@example.com")
    page.wait_for_url("**/privacy/data")
    page.goto("/privacy/consent")
    assert page.locator("#gpc-notice").count() == 0
