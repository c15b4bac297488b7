"""The consent banner (``/static/consent.js``) in a real browser (Debian's chromium driven by Playwright), embedded by
front ends on other origins than a real ``dreamina serve``.

The API runs on ``http://127.0.0.1:<port>`` with ``DREAMINA_CORS_ALLOWED_ORIGINS`` naming two front ends: the app on
``http://127.0.0.1:<other port>`` (another origin of the same site, as ``app.example.com`` beside
``api.example.com``) and one on ``http://localhost:<port>`` (another site: the device cookie comes back only as
``SameSite=None`` and only where the browser allows third-party cookies). Each page has a strict CSP (scripts and
styles from itself and the API only, no inline code) and embeds the README's snippet. A front end on an origin the API
does not list gets no credentials and no banner.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from axe_playwright_python.sync_playwright import Axe

from .test_serve_process import _start_serve
from .web_site import CHROMIUM, shot

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (scripts/services)")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>An app</title>
<link rel="stylesheet" href="{api}/static/consent.css">
<script src="{api}/static/consent.js" data-api="{api}" defer></script>
<script src="/app.js" defer></script>
</head><body><main><h1>An app</h1>
<button id="privacy-settings" type="button">Privacy settings</button>
<ol id="changes"></ol></main></body></html>
"""
APP_JS = """window.changes = [];
window.dreaminaConsent.onChange(function (choice) {
  window.changes.push(choice);
  var item = document.createElement("li");
  item.textContent = String(choice.method);
  document.getElementById("changes").appendChild(item);
});
document.getElementById("privacy-settings").addEventListener("click", function () {
  window.dreaminaConsent.open();
});
"""
GPC_INIT = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"


class Front(BaseHTTPRequestHandler):
    """A front end's page and script; the page's CSP allows the API's origin only for scripts, styles, fetches."""

    api: ClassVar[str] = ""

    def do_GET(self) -> None:
        if self.path == "/app.js":
            body, media_type = APP_JS, "text/javascript"
        else:
            body, media_type = PAGE.format(api=self.api), "text/html; charset=utf-8"
        encoded = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(encoded)))
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'none'; script-src 'self' {self.api}; style-src 'self' {self.api}; connect-src {self.api}",
        )
        self.end_headers()
        self.wfile.write(encoded)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Sites:
    def __init__(self, api: str, app: str, other_site: str, stranger: str, log: Path) -> None:
        self.api, self.app, self.other_site, self.stranger, self.log = api, app, other_site, stranger, log

    def consent_requests(self) -> list[tuple[str, int]]:
        """The API's access log of /v1/consent: (method, status) per request."""
        lines = [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]
        return [(line["method"], line["status"]) for line in lines if line.get("route") == "/v1/consent"]


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    fronts = [ThreadingHTTPServer(("127.0.0.1", 0), Front) for _ in range(3)]
    for front in fronts:
        threading.Thread(target=front.serve_forever, daemon=True).start()
    hosts = ["127.0.0.1", "localhost", "127.0.0.1"]  # the app's site, another site, the app's site
    app, other_site, stranger = (f"http://{h}:{f.server_address[1]}" for h, f in zip(hosts, fronts, strict=True))
    tmp = tmp_path_factory.mktemp("banner")
    process, base, _, log_file = _start_serve(tmp, DREAMINA_CORS_ALLOWED_ORIGINS=f"{app},{other_site}")
    Front.api = base
    try:
        yield Sites(base, app, other_site, stranger, tmp / "serve.log")
    finally:
        process.terminate()
        process.wait(timeout=20)
        log_file.close()
        for front in fronts:
            front.shutdown()
            front.server_close()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield launched
    launched.close()


class Visit:
    """A browser context on one front end, with what it asked of the API and the CSP violations it met."""

    def __init__(self, browser: Any, sites: Sites, *, gpc: bool = False, context: Any = None) -> None:
        self.context = context or browser.new_context(extra_http_headers={"Sec-GPC": "1"} if gpc else None)
        if gpc:
            self.context.add_init_script(GPC_INIT)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.api_calls: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self.page.on(
            "request",
            lambda r: self.api_calls.append((r.method, r.url)) if r.url.startswith(sites.api + "/v1/") else None,
        )
        self.page.on("console", lambda m: self.violations.append(m.text) if "Security Policy" in m.text else None)

    def load(self, url: str) -> Any:
        self.page.goto(url)
        return self.page.evaluate("window.dreaminaConsent.ready")

    def changes(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.page.evaluate("window.changes")
        return result

    def __enter__(self) -> Visit:
        return self

    def __exit__(self, *_: object) -> None:
        self.context.close()


def _axe_blocking(visit: Visit) -> list[str]:
    """axe-core's serious and critical violations inside the banner (the host page is this test's own). axe's own
    probes try inline styles, which the strict page CSP blocks: those reports are axe's, not the banner's."""
    before = len(visit.violations)
    result = Axe().run(visit.page, context="#dreamina-consent", options={"resultTypes": ["violations"]})
    del visit.violations[before:]
    blocking = [v for v in result.response["violations"] if v["impact"] in {"serious", "critical"}]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}" for v in blocking]


def test_first_visit_shows_the_banner_reject_all_is_kept_and_a_reload_shows_none(
    browser: Any, sites: Sites, tmp_path: Path
) -> None:
    with Visit(browser, sites) as visit:
        page = visit.page
        first = visit.load(sites.app)
        assert first["chosen"] is False and first["method"] is None
        dialog = page.get_by_role("dialog", name="Your privacy choices")
        dialog.wait_for()
        assert [b.inner_text() for b in dialog.get_by_role("button").all() if b.is_visible()] == [
            "Accept all",
            "Reject all",
            "Choose",
        ]
        assert page.evaluate("document.activeElement.id") == "dreamina-consent"  # focus moved to the banner
        shot(page, tmp_path, "banner")
        assert _axe_blocking(visit) == []
        for action in ("accept", "reject"):  # the buttons are reachable by keyboard, in order
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.dataset.action") == action
        with page.expect_response(lambda r: r.request.method == "PUT") as written:
            page.keyboard.press("Enter")
        assert written.value.status == 200
        assert written.value.request.post_data_json == {
            "functional": False,
            "analytics": False,
            "marketing": False,
            "method": "banner",
        }
        dialog.wait_for(state="detached")
        changes = visit.changes()
        assert [c["method"] for c in changes] == [None, "banner"]  # onChange: the choice loaded, then the one saved
        assert changes[-1]["chosen"] and not (changes[-1]["analytics"] or changes[-1]["marketing"])
        (device,) = [c for c in visit.context.cookies() if c["name"] == "dreamina_device"]
        assert device["domain"] == "127.0.0.1" and device["sameSite"] == "None"  # CORS origins are configured
        assert device["secure"] and device["httpOnly"]

        again = visit.load(sites.app)  # the device cookie came back: the choice is found, no banner
        assert again["method"] == "banner" and again["chosen"] is True
        assert page.get_by_role("dialog").count() == 0
        assert visit.changes()[0]["method"] == "banner"

        page.click("#privacy-settings")  # reopened over the choice in force
        dialog.wait_for()
        dialog.get_by_role("button", name="Choose").click()
        assert dialog.get_by_role("button", name="Choose").get_attribute("aria-expanded") == "true"
        assert _axe_blocking(visit) == []  # the per-purpose checkboxes too
        assert page.evaluate("document.activeElement.id") == "dreamina-consent-functional"
        for name in ("Strictly necessary", "Functional", "Analytics", "Marketing"):
            assert dialog.get_by_label(name).count() == 1  # every checkbox is labelled
        assert dialog.get_by_label("Strictly necessary").is_checked()
        assert dialog.get_by_label("Strictly necessary").is_disabled()
        assert not dialog.get_by_label("Analytics").is_checked()
        dialog.get_by_label("Analytics").check()
        shot(page, tmp_path, "banner-choose")
        with page.expect_response(lambda r: r.request.method == "PUT") as written:
            dialog.get_by_role("button", name="Save choices").click()
        assert written.value.json()["analytics"] is True
        dialog.wait_for(state="detached")
        assert page.evaluate("document.activeElement.id") == "privacy-settings"  # focus returns where it was
        last = visit.changes()[-1]
        assert (last["functional"], last["analytics"], last["marketing"]) == (False, True, False)
        page.click("#privacy-settings")
        dialog.wait_for()
        assert dialog.get_by_label("Analytics").is_checked()  # the choice in force, as it was saved
        page.keyboard.press("Escape")  # reopened over a choice: Escape dismisses it, writing nothing
        dialog.wait_for(state="detached")
        assert page.evaluate("document.activeElement.id") == "privacy-settings"
        assert [m for m, _ in visit.api_calls if m != "OPTIONS"] == ["GET", "PUT", "GET", "PUT"]
        assert visit.violations == []


def test_gpc_is_honoured_with_no_accept_all_and_marketing_kept_off(browser: Any, sites: Sites, tmp_path: Path) -> None:
    with Visit(browser, sites, gpc=True) as visit:
        page = visit.page
        first = visit.load(sites.app)
        # The API recorded the Sec-GPC signal (sale/share opt-out, marketing off), which is not the person's choice.
        assert first["gpc"] is True and first["method"] == "gpc" and first["chosen"] is False
        assert first["sale_share_opt_out"] is True and first["marketing"] is False
        dialog = page.get_by_role("dialog", name="Your privacy choices")
        dialog.wait_for()
        assert dialog.get_attribute("data-gpc") == "honoured"
        assert "Global Privacy Control detected and honoured" in dialog.inner_text()
        assert dialog.get_by_role("button", name="Accept all").count() == 0
        dialog.get_by_role("button", name="Choose").click()
        marketing = dialog.get_by_label("Marketing")
        assert marketing.is_disabled() and not marketing.is_checked()
        dialog.get_by_label("Functional").check()
        dialog.get_by_label("Analytics").check()
        shot(page, tmp_path, "banner-gpc")
        with page.expect_response(lambda r: r.request.method == "PUT") as written:
            dialog.get_by_role("button", name="Save choices").click()
        saved = written.value.json()
        assert (saved["functional"], saved["analytics"], saved["marketing"]) == (True, True, False)
        assert saved["gpc"] is True and saved["sale_share_opt_out"] is True
        dialog.wait_for(state="detached")
        assert visit.load(sites.app)["chosen"] is True
        assert page.get_by_role("dialog").count() == 0
        assert visit.violations == []


def test_an_origin_the_api_does_not_list_gets_no_credentials_and_no_banner(browser: Any, sites: Sites) -> None:
    with Visit(browser, sites) as visit:
        page = visit.page
        before = len(sites.consent_requests())
        assert visit.load(sites.stranger) is None  # the read was refused by CORS
        assert "fetch" in page.evaluate("window.dreaminaConsent.error").lower()
        assert page.get_by_role("dialog").count() == 0
        forged = page.evaluate(
            """(api) => fetch(api + '/v1/consent', {method: 'PUT', credentials: 'include',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({functional: true, analytics: true, marketing: true, method: 'banner'})})
              .then(() => 'sent', (e) => 'refused: ' + e.message)""",
            sites.api,
        )
        assert forged.startswith("refused")
        time.sleep(0.5)  # time for the access log's lines
        # The read was answered (without CORS headers, so the page could not read it); the write never got past its
        # refused preflight (answered by the CORS layer, before any route).
        assert sites.consent_requests()[before:] == [("GET", 200)]
        assert not [c for c in visit.context.cookies() if c["name"] == "dreamina_device"]


def _third_party_cookies_allowed(playwright: Any, tmp_path: Path) -> Any:
    """A browser profile that allows third-party cookies (this chromium blocks them by default, as Safari does)."""
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    preferences = {"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}}
    (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
    return playwright.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, args=["--no-sandbox"])


def test_a_front_end_on_another_site_keeps_the_choice_where_third_party_cookies_are_allowed(
    playwright: Any, browser: Any, sites: Sites, tmp_path: Path
) -> None:
    """``SameSite=None; Secure`` brings the device cookie back to the API from another site; a browser that blocks
    third-party cookies still records the choice, but cannot keep it for the next visit (README: deploy the API on the
    front end's site)."""
    context = _third_party_cookies_allowed(playwright, tmp_path)
    with Visit(browser, sites, context=context) as visit:
        assert visit.load(sites.other_site)["chosen"] is False
        dialog = visit.page.get_by_role("dialog", name="Your privacy choices")
        with visit.page.expect_response(lambda r: r.request.method == "PUT") as written:
            dialog.get_by_role("button", name="Reject all").click()
        assert written.value.status == 200
        dialog.wait_for(state="detached")
        again = visit.load(sites.other_site)
        assert again["chosen"] is True and again["method"] == "banner"
        assert visit.page.get_by_role("dialog").count() == 0
        assert visit.violations == []

    with Visit(browser, sites) as blocked:  # the default profile: third-party cookies blocked
        assert blocked.load(sites.other_site)["chosen"] is False
        dialog = blocked.page.get_by_role("dialog", name="Your privacy choices")
        with blocked.page.expect_response(lambda r: r.request.method == "PUT") as written:
            dialog.get_by_role("button", name="Reject all").click()
        assert written.value.status == 200  # recorded, but the browser refused the cookie that keys it
        dialog.wait_for(state="detached")  # the page has taken the answer in (the response alone may come first)
        assert blocked.changes()[-1]["chosen"] is True
        assert blocked.load(sites.other_site)["chosen"] is False
        assert not [c for c in blocked.context.cookies() if c["name"] == "dreamina_device"]
