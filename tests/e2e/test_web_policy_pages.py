"""The policy, analytics and audit pages in a real browser against the shared ``dreamina serve`` (web_site.py): an
admin previews and publishes a policy version with a future effective date, a visitor sees it coming and what
changes, the analytics chart is drawn, the audit trail filters and exports the filtered rows. Every page visited is
screenshotted under the test's ``tmp_path``."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests import processes
from tests.loopback import http

from .web_site import PASSWORD, Site, needs_chromium, shot, sign_in, sign_up

pytestmark = needs_chromium


def _staff(site: Site, tmp_path: Path, email: str, role: str) -> None:
    sign_up(site, email)
    with (tmp_path / f"staff-{role}.log").open("w") as out:
        assert processes.run(["staff", "create", email, role], site.env(), out) == 0


def test_an_admin_publishes_a_policy_version_and_a_visitor_sees_it_coming(
    browser: Any, page: Any, site: Site, tmp_path: Path
) -> None:
    _staff(site, tmp_path, "policy.admin@example.com", "admin")
    current = http.get(site.base + "/v1/privacy/policy", timeout=10).json()
    new_text = current["template"].replace("1. Introduction", "1. Introduction and scope", 1)
    new_text += "\nThis sentence is new in the next version.\n"
    effective = (datetime.now(UTC) + timedelta(days=45)).date().isoformat()

    sign_in(page, "/admin", "policy.admin@example.com")
    page.wait_for_url("**/admin/queue")
    page.click("nav >> text=Policy")
    page.wait_for_url("**/admin/policy")
    assert page.locator("#versions tbody tr").count() == 1
    shot(page, tmp_path, "admin-policy")
    page.fill("#text", new_text)
    page.fill("#effective_on", effective)
    page.click("button:has-text('Preview')")
    page.wait_for_selector("#publish")
    assert page.locator("h1").inner_text() == f"Preview: policy version {current['version'] + 1}"
    assert re.fullmatch(r"4[45] days", page.locator("#notice-days").inner_text())
    assert "at least 30 days" in page.locator("#minimum-notice").inner_text()
    assert page.locator("#diff ins").count() >= 1 and page.locator("#diff .diff-del").count() >= 1
    assert "This sentence is new" in page.locator("#diff").inner_text()
    shot(page, tmp_path, "admin-policy-preview")
    page.click("#publish")
    page.wait_for_url("**/admin/policy?published=*")
    row = page.locator(f"#versions tr[data-version='{current['version'] + 1}']")
    assert "upcoming" in row.inner_text() and effective in row.inner_text()
    assert row.locator(".notice-status").inner_text() in {"pending", "running", "done"}
    shot(page, tmp_path, "admin-policy-published")

    visitor = browser.new_context(base_url=site.base).new_page()  # nobody signed in
    visitor.goto("/privacy/policy")
    upcoming = visitor.locator(f"#upcoming-{current['version'] + 1}")
    assert upcoming.count() == 1 and effective in upcoming.inner_text()
    diff = visitor.locator("#diff")
    assert "This sentence is new in the next version." in diff.locator(".diff-ins").last.inner_text()
    assert diff.locator("ins").count() >= 1 and diff.locator("del").count() >= 1
    assert "Added:" in diff.inner_text()  # each change says what it is in words, not by colour alone
    shot(visitor, tmp_path, "privacy-policy")
    visitor.click(f"text=Read version {current['version'] + 1}")
    assert "Takes effect on" in visitor.locator("#version-status").inner_text()
    shot(visitor, tmp_path, "privacy-policy-version")
    visitor.context.close()


def test_the_analytics_chart_and_the_audit_trail(browser: Any, page: Any, site: Site, tmp_path: Path) -> None:
    # Something in the trail: a person's export request (its state changes are audited).
    sign_up(site, "audit.person@example.com")
    person = browser.new_context(base_url=site.base).new_page()
    sign_in(person, "/privacy", "audit.person@example.com")
    person.wait_for_url("**/privacy/data")
    person.click("text=Requests")
    person.fill("#export-password", PASSWORD)
    person.click("text=Request an export")
    person.wait_for_url("**/privacy/requests")
    person.context.close()

    # And something to count: a visitor who allowed analytics.
    consent = http.put(site.base + "/v1/consent", json={"functional": False, "analytics": True, "marketing": False})
    device = {"Cookie": consent.headers["set-cookie"].split(";")[0]}
    events = {"events": [{"name": "page_view", "page": "/"}] * 3 + [{"name": "feature_used", "feature": "upscale"}]}
    assert http.post(site.base + "/v1/analytics/events", json=events, headers=device).json()["recorded"] == 4

    _staff(site, tmp_path, "audit.officer@example.com", "privacy_officer")
    sign_in(page, "/admin", "audit.officer@example.com")
    page.wait_for_url("**/admin/queue")
    page.click("nav >> text=Analytics")
    page.wait_for_url("**/admin/analytics")
    chart = page.locator("svg#daily-chart[role=img]")
    assert chart.count() == 1
    assert chart.locator("title#daily-chart-title").count() == 1
    assert "4 events in all" in (chart.locator("desc").text_content() or "")
    heights = "bars => bars.map(b => b.getAttribute('height'))"
    drawn = [float(h) for h in chart.locator("rect.chart-bar").evaluate_all(heights)]
    assert len(drawn) == 30 and max(drawn) > 0
    assert "page_view" in page.locator("#counts").inner_text() and page.locator("#daily tbody tr").count() == 1
    shot(page, tmp_path, "admin-analytics")

    page.click("nav >> text=Audit trail")
    page.wait_for_url("**/admin/audit")
    assert page.locator("#events tbody tr").count() >= 1
    page.fill("#action", "privacy_request.")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**/admin/audit?*action=privacy_request.*")
    actions = page.locator("#events td.action").all_inner_texts()
    assert actions and all(a.startswith("privacy_request.") for a in actions)
    shot(page, tmp_path, "admin-audit")
    with page.expect_download() as download:
        page.click("#export")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:2] == ["occurred_at", "action"]
    assert len(rows) - 1 >= len(actions) and all(r[1].startswith("privacy_request.") for r in rows[1:])
    shown_ids = set(page.locator("#events tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)"))
    assert shown_ids <= {r[7] for r in rows[1:]}
    # The officer's reading is itself in the trail.
    page.fill("#action", "staff_viewed_audit_trail")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**/admin/audit?*action=staff_viewed_audit_trail*")
    assert page.locator("#events td.action").count() >= 1
