"""Every web page audited by axe-core in Debian's chromium: 0 serious or critical violations, each page screenshotted.

The pages are found, not listed: a crawler follows every same-origin link (and submits every GET form, e.g. the
reason a staff view asks for) from the landing pages of an anonymous browser, a person with data and an admin.
Which pages exist is the authorization table's business (``PAGES``, itself checked against the app's routes): a GET
page route the crawl never reached fails the test, so a new page cannot escape the audit by being left out of a
list. axe-core is the copy bundled by ``axe-playwright-python`` (MPL-2.0), injected through the DevTools protocol
(the pages' CSP allows no script but their own, and needs not change for the audit).

Screenshots go to ``DREAMINA_TEST_ARTIFACTS`` (default ``test-artifacts/``, git-ignored) under ``web/``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe  # a pinned test dependency: missing, the suite fails

from tests import processes
from tests.loopback import http

from .authorization_audiences import PAGES
from .test_generation_api import png_bytes
from .web_site import PASSWORD, Site, needs_chromium, sign_in, sign_up

ARTIFACTS = Path(os.environ.get("DREAMINA_TEST_ARTIFACTS", "test-artifacts")) / "web"
BLOCKING = {"serious", "critical"}
NOT_PAGES = ("/download", "/sign-out", ".csv", "format=csv", "/static/")

pytestmark = needs_chromium


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


PAGE_ROUTES = {
    template: _pattern(template)
    for (method, template), _ in PAGES.items()
    if method == "GET" and not any(skip in template for skip in NOT_PAGES)
}


def route_of(path: str) -> str | None:
    return next((t for t, pattern in PAGE_ROUTES.items() if pattern.match(path)), None)


class Audit:
    def __init__(self) -> None:
        self.axe = Axe()
        self.reached: dict[str, list[str]] = {}
        # One page per route and set of query fields: a queue of 50 rows is one page, not 50, while a staff view
        # before and after its reason (?reason=...) or a filtered list are pages of their own.
        self.shown: set[tuple[str, frozenset[str]]] = set()
        self.failures: list[str] = []
        shutil.rmtree(ARTIFACTS, ignore_errors=True)  # this run's pages only
        ARTIFACTS.mkdir(parents=True)

    def check(self, page: Any, who: str) -> None:
        """axe on the page as shown; the page's screenshot kept as an artifact."""
        path = urlsplit(page.url).path
        result = self.axe.run(page, options={"resultTypes": ["violations"]})
        for violation in result.response["violations"]:
            if violation["impact"] in BLOCKING:
                targets = [n["target"] for n in violation["nodes"]][:3]
                self.failures.append(f"{who} {page.url}: {violation['id']} ({violation['impact']}) {targets}")
        name = re.sub(r"[^a-z0-9]+", "-", f"{who}-{path}-{len(self.reached.get(route_of(path) or '', []))}")
        page.screenshot(path=str(ARTIFACTS / f"{name.strip('-')}.png"), full_page=True)

    def crawl(self, page: Any, who: str, start: str, base: str) -> None:
        """Breadth first from ``start``, through links and GET forms, staying on the site's pages."""
        queue: deque[str] = deque([urljoin(base, start)])
        seen: set[str] = set()
        while queue:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            path = urlsplit(url).path
            route = route_of(path)
            variant = (route or "", frozenset(parse_qs(urlsplit(url).query)))
            if route is None or variant in self.shown:
                continue
            answer = page.goto(urljoin(base, url))
            assert answer is not None and answer.status < 500, (who, url)
            if urlsplit(page.url).path != path:
                continue  # redirected (signed out, or a page that is a form's answer)
            self.shown.add(variant)
            self.reached.setdefault(route, []).append(url)
            self.check(page, who)
            queue.extend(self._links(page, base))

    @staticmethod
    def _links(page: Any, base: str) -> list[str]:
        found: list[str] = []
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urljoin(page.url, href)
            if urlsplit(target).netloc == urlsplit(base).netloc and not any(s in target for s in NOT_PAGES):
                found.append(target.split("#")[0])
        forms = page.eval_on_selector_all(
            "form[method=get], form:not([method])",
            """forms => forms.map(f => [f.getAttribute('action') || '',
                 [...f.elements].filter(e => e.name && e.type !== 'submit')
                   .map(e => [e.name, e.tagName === 'SELECT' ? (e.options[0] || {}).value || '' :
                              (e.type === 'date' ? '2026-01-01' : (e.value || 'accessibility audit'))])])""",
        )
        for action, fields in forms:
            target = urljoin(page.url, action or page.url)
            if urlsplit(target).netloc == urlsplit(base).netloc and not any(s in target for s in NOT_PAGES):
                found.append(target.split("?")[0] + "?" + urlencode([(name, value) for name, value in fields]))
        return found


@pytest.fixture
def audit() -> Audit:
    return Audit()


def _seed(site: Site, email: str) -> None:
    """A person with something on every page of theirs: a consent choice, an access and an erasure request, a
    generation and an upload."""
    bearer = http.post(site.base + "/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=10)
    headers = {"Authorization": f"Bearer {bearer.json()['access_token']}"}
    choices = {"functional": True, "analytics": False, "marketing": False}
    assert http.put(site.base + "/v1/consent", json=choices, headers=headers, timeout=10).status_code == 200
    # A generation and an upload: the content page lists them, and links their deletion's confirmation pages.
    made = {"kind": "image", "prompt": "an accessible lighthouse"}
    assert http.post(site.base + "/v1/generations", json=made, headers=headers, timeout=10).status_code == 202
    image = ("ref.png", png_bytes(), "image/png")
    assert http.post(site.base + "/v1/uploads", files={"file": image}, headers=headers, timeout=10).status_code == 201
    access = {"type": "access", "password": PASSWORD}  # answered at once: the requests page links its report
    assert http.post(site.base + "/v1/privacy/requests", json=access, headers=headers, timeout=10).status_code < 300
    erasure = {"type": "erasure", "password": PASSWORD}
    assert http.post(site.base + "/v1/privacy/requests", json=erasure, headers=headers, timeout=10).status_code < 300


def _seed_console(site: Site, person: str, admin: str) -> None:
    """Something in every staff queue with a page per item: a child report, a privacy and a support ticket, and an
    abuse report (the reported account is another person's); waits until the worker has filed the reports."""
    reported = "a11y.reported@example.com"
    sign_up(site, reported)
    tokens = {
        who: http.post(site.base + "/v1/auth/token", json={"email": who, "password": PASSWORD}, timeout=10).json()
        for who in (person, reported, admin)
    }
    bearer = {who: {"Authorization": f"Bearer {t['access_token']}"} for who, t in tokens.items()}
    for category in ("privacy", "other"):
        ticket = {"category": category, "subject": f"A {category} question", "message": "What do you keep about me?"}
        assert http.post(site.base + "/v1/support/tickets", json=ticket, headers=bearer[person], timeout=10).is_success
    made = http.post(
        site.base + "/v1/generations", json={"kind": "image", "prompt": "a lighthouse"}, headers=bearer[reported]
    )
    assert made.status_code == 202, made.text
    abuse = {"reason": "impersonation", "generation_id": made.json()["id"]}
    assert http.post(site.base + "/v1/abuse-reports", json=abuse, timeout=10).status_code == 202
    child = {"email": reported, "contact": "a11y.parent@example.org"}
    assert http.post(site.base + "/v1/privacy/child-reports", json=child, timeout=10).status_code == 202
    deadline = time.monotonic() + 30
    for queue, key in (("/v1/admin/child-reports", "reports"), ("/v1/admin/abuse-reports", "reports")):
        while not http.get(site.base + queue, headers=bearer[admin], timeout=10).json()[key]:
            assert time.monotonic() < deadline, f"nothing in {queue} after 30 s"
            time.sleep(0.5)


@pytest.fixture
def contexts(browser: Any, site: Site) -> Iterator[dict[str, Any]]:
    made = {who: browser.new_context(base_url=site.base) for who in ("anonymous", "person", "admin")}
    for context in made.values():
        context.set_default_timeout(15_000)
    yield {who: context.new_page() for who, context in made.items()}
    for context in made.values():
        context.close()


def test_every_page_has_no_serious_or_critical_accessibility_violation(
    site: Site,
    contexts: dict[str, Any],
    audit: Audit,
    tmp_path: Path,
) -> None:
    person, admin = "a11y.person@example.com", "a11y.admin@example.com"
    for email in (person, admin):
        sign_up(site, email)
    _seed(site, person)
    with (tmp_path / "staff.log").open("w") as out:
        assert processes.run(["staff", "create", admin, "admin"], site.env(), out) == 0
    _seed_console(site, person, admin)

    anonymous = contexts["anonymous"]
    # The sign-in pages, and the pages the mailed links open (no link on the site leads to them).
    for start in (
        "/privacy",
        "/admin",
        "/account/verify-email",
        "/account/confirm-email",
        "/account/undo-email-change",
    ):
        audit.crawl(anonymous, "anonymous", start, site.base)
    anonymous.goto("/privacy")
    anonymous.fill("input[type=email]", person)
    anonymous.fill("input[type=password]", "not the password")
    anonymous.press("input[type=password]", "Enter")  # the sign-in form again, with its error
    anonymous.wait_for_selector("[role=alert]")
    audit.check(anonymous, "anonymous-refused")

    sign_in(contexts["person"], "/privacy", person)
    contexts["person"].wait_for_url("**/privacy/**")
    audit.crawl(contexts["person"], "person", "/privacy/data", site.base)
    contexts["person"].goto("/admin/queue")  # the console refuses the person: the error page is a page too
    audit.check(contexts["person"], "person-refused")

    sign_in(contexts["admin"], "/admin", admin)
    contexts["admin"].wait_for_url("**/admin/**")
    audit.crawl(contexts["admin"], "admin", "/admin/queue", site.base)

    missed = sorted(set(PAGE_ROUTES) - {route for route, urls in audit.reached.items() if urls})
    assert missed == [], f"pages the crawl never reached (link them, or seed what they show): {missed}"
    assert audit.failures == [], "\n".join(audit.failures)
