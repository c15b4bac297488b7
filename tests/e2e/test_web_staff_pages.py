"""The staff console's queues in a real browser against a real ``dreamina serve`` (the shared ``site``, ``browser``
and ``page`` fixtures): a privacy officer decides privacy requests and child reports; a support agent answers and
closes tickets and is refused what the API refuses support; an account without a staff role gets 403 everywhere.

What the pages did is checked through the JSON API, as the subjects see it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from uuid import UUID

from tests import processes
from tests.loopback import http

from .authorization_audiences import PAGES
from .test_serve_process import _sign_up
from .web_site import Site, needs_chromium, shot, sign_in

pytestmark = needs_chromium  # the fixtures site (one server per test process), browser and page: tests/e2e/conftest.py

ZERO_ID = str(UUID(int=0))


def _account(site: Site, email: str) -> dict[str, str]:
    """Sign up (verified through the mailed link) and sign in over the API: the bearer header."""
    return _sign_up(site.base, email, site.data / "outbox")


def _staff(site: Site, email: str, role: str, tmp_path: Path) -> None:
    _account(site, email)
    with (tmp_path / f"staff-{role}.log").open("w") as out:
        assert processes.run(["staff", "create", email, role], site.env(), out) == 0


def _api(site: Site, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
    answer = http.request(method, site.base + path, headers=headers, timeout=10, **kwargs)
    assert answer.status_code < 300, (path, answer.status_code, answer.text)
    return answer.json()


def _wait_for(page: Any, selector: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while page.locator(selector).count() == 0:
        assert time.monotonic() < deadline, f"{selector} did not appear in {seconds} s"
        time.sleep(0.5)
        page.reload()


def _open_with_reason(page: Any, row: Any, reason: str) -> None:
    row.locator("a", has_text="Open").click()
    page.fill("#reason", reason)
    page.press("#reason", "Enter")
    page.wait_for_url("**reason=*")


def test_a_privacy_officer_approves_and_rejects_requests_and_decides_child_reports(
    page: Any, site: Site, tmp_path: Path
) -> None:
    approved, rejected = _account(site, "staff.approved@example.com"), _account(site, "staff.rejected@example.com")
    ids = {}
    for name, headers in (("approved", approved), ("rejected", rejected)):
        body = {"type": "rectification", "details": {"free_text": f"my name is spelt wrong ({name})"}}
        ids[name] = _api(site, "POST", "/v1/privacy/requests", headers, json=body)["id"]
    _staff(site, "staff.officer@example.com", "privacy_officer", tmp_path)

    sign_in(page, "/admin", "staff.officer@example.com")
    page.wait_for_url("**/admin/queue")
    page.select_option("#type", "rectification")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**type=rectification*")
    assert page.locator("#queue tbody tr[data-type=rectification]").count() >= 2
    assert page.locator("#queue tbody tr[data-type=erasure]").count() == 0
    shot(page, tmp_path, "queue-filtered")

    _open_with_reason(page, page.locator(f"tr[data-id='{ids['approved']}']"), "deciding the correction")
    assert "my name is spelt wrong (approved)" in page.content()
    shot(page, tmp_path, "request-in-review")
    page.fill("#approve-reason", "we corrected the spelling of your name")
    page.click("button:has-text('Approve')")
    page.wait_for_url("**/admin/queue")
    assert page.locator(f"tr[data-id='{ids['approved']}']").count() == 0  # no longer open

    _open_with_reason(page, page.locator(f"tr[data-id='{ids['rejected']}']"), "deciding the correction")
    page.fill("#reject-reason", "the name on file already matches your documents")
    page.click("button:has-text('Reject')")
    page.wait_for_url("**/admin/queue")
    assert page.locator(f"tr[data-id='{ids['rejected']}']").count() == 0

    for name, headers, status in (("approved", approved, "completed"), ("rejected", rejected, "rejected")):
        mine = _api(site, "GET", "/v1/privacy/requests", headers)["requests"]
        assert [r["status"] for r in mine if r["id"] == ids[name]] == [status], mine

    # Child reports: one confirmed (the account is erased), one dismissed (its age review lifted).
    child, adult = _account(site, "staff.child@example.com"), _account(site, "staff.adult@example.com")
    subject = {name: _api(site, "GET", "/v1/me", h)["id"] for name, h in (("child", child), ("adult", adult))}
    for email in ("staff.child@example.com", "staff.adult@example.com"):
        report = {"email": email, "contact": "worried.parent@example.org", "details": "this account is my kid's"}
        _api(site, "POST", "/v1/privacy/child-reports", json=report)
    page.click("nav >> text=Child reports")
    page.wait_for_url("**/admin/child-reports")
    for name in ("child", "adult"):
        _wait_for(page, f"tr[data-subject='{subject[name]}']")  # matched seconds after the report
    shot(page, tmp_path, "child-reports")

    _open_with_reason(page, page.locator(f"tr[data-subject='{subject['child']}']"), "age review")
    assert "worried.parent@example.org" in page.content() and "this account is my kid" in page.content()
    shot(page, tmp_path, "child-report")
    page.fill("#confirm-reason", "the holder told us they are eleven")
    page.click("button:has-text('Confirm')")
    page.wait_for_url("**/admin/child-reports")
    assert page.locator(f"tr[data-subject='{subject['child']}']").count() == 0

    _open_with_reason(page, page.locator(f"tr[data-subject='{subject['adult']}']"), "age review")
    page.fill("#dismiss-reason", "an adult's account; the report was mistaken")
    page.click("button:has-text('Dismiss')")
    page.wait_for_url("**/admin/child-reports")
    assert page.locator(f"tr[data-subject='{subject['adult']}']").count() == 0
    assert _api(site, "GET", "/v1/me", adult)["id"] == subject["adult"]  # the review lifted: the account works
    shot(page, tmp_path, "child-reports-decided")


def test_a_support_agent_answers_and_closes_tickets_and_is_refused_the_rest(
    page: Any, site: Site, tmp_path: Path
) -> None:
    writer = _account(site, "staff.writer@example.com")
    tickets = {}
    for name in ("answered", "closed"):
        body = {"category": "other", "subject": f"Question {name}", "message": "How do I change my avatar?"}
        tickets[name] = _api(site, "POST", "/v1/support/tickets", writer, json=body)["id"]
    _staff(site, "staff.support@example.com", "support", tmp_path)

    sign_in(page, "/admin", "staff.support@example.com")
    page.wait_for_url("**/admin/queue")  # support may read the privacy request queue (as the API lets it)
    assert page.locator("nav >> text=Privacy tickets").count() == 0
    page.click("nav >> text=Support tickets")
    page.wait_for_url("**/admin/support-tickets")
    shot(page, tmp_path, "support-tickets")

    _open_with_reason(page, page.locator(f"tr[data-id='{tickets['answered']}']"), "answering the ticket")
    assert "How do I change my avatar?" in page.content()
    page.fill("#message-text", "Open Settings, then Profile, then Avatar.")
    assert page.is_checked("#close-after")
    shot(page, tmp_path, "support-ticket")
    page.click("button:has-text('Send the answer')")
    page.wait_for_url("**/admin/support-tickets")
    assert page.locator(f"tr[data-id='{tickets['answered']}']").count() == 0  # answered and closed

    _open_with_reason(page, page.locator(f"tr[data-id='{tickets['closed']}']"), "triage")
    page.fill("#close-reason", "a duplicate of the other question")
    page.click("button:has-text('Close')")
    page.wait_for_url("**/admin/support-tickets")
    assert page.locator(f"tr[data-id='{tickets['closed']}']").count() == 0

    answered = _api(site, "GET", f"/v1/support/tickets/{tickets['answered']}", writer)
    assert answered["status"] == "closed" and answered["answers"][0]["message"].startswith("Open Settings")
    closed = _api(site, "GET", f"/v1/support/tickets/{tickets['closed']}", writer)
    assert closed["status"] == "closed" and closed["answers"] == []

    # What the API refuses support: the privacy tickets, and every decision (the forms are not even shown).
    for path in ("/admin/privacy-tickets", f"/admin/privacy-tickets/{ZERO_ID}"):
        assert page.request.get(path).status == 403, path
    page.goto("/admin/privacy-tickets")
    assert page.title().startswith("Error 403")
    shot(page, tmp_path, "support-forbidden")
    subject = _account(site, "staff.supported@example.com")
    body = {"type": "rectification", "details": {"free_text": "wrong name"}}
    request_id = _api(site, "POST", "/v1/privacy/requests", subject, json=body)["id"]
    page.goto(f"/admin/requests/{request_id}?reason=support+looks")
    assert page.locator("#status").inner_text() == "in_review"
    assert page.locator("form[action$='/approve'], form[action$='/reject']").count() == 0
    token = page.locator("input[name=_csrf_token]").first.get_attribute("value")  # the sign-out form's token
    refused = page.request.post(
        f"/admin/requests/{request_id}/approve", form={"reason": "support tries", "_csrf_token": token}
    )
    assert refused.status == 403
    assert [r["status"] for r in _api(site, "GET", "/v1/privacy/requests", subject)["requests"]] == ["in_review"]


def test_an_account_without_a_staff_role_gets_403_on_every_console_page(page: Any, site: Site, tmp_path: Path) -> None:
    _account(site, "staff.nobody@example.com")
    sign_in(page, "/admin", "staff.nobody@example.com")
    page.wait_for_load_state()
    assert page.title().startswith("Error 403")
    for (method, template), audience in PAGES.items():
        if method != "GET" or not audience.startswith("page:staff:"):
            continue
        path = template.replace("{request_id}", ZERO_ID).replace("{report_id}", ZERO_ID).replace("{review_id}", ZERO_ID)
        path = path.replace("{ticket_id}", ZERO_ID)
        answer = page.request.get(path)
        assert answer.status == 403, path
        assert "<table" not in answer.text() and "Sign out" in answer.text()
    page.goto("/admin/child-reports")
    assert page.title().startswith("Error 403")
    shot(page, tmp_path, "nobody-forbidden")
