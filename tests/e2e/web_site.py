"""What the browser tests of the web pages share: one real ``dreamina serve`` per test process (the fixture
``site`` in ``tests/e2e/conftest.py``, session-scoped: each web test module starting its own would cost the suite a
server per module and process), Debian's chromium per module (``browser``), a fresh context per test (``page``), and
the steps every journey takes (sign up, sign in, screenshot).

Tests share the server, so each uses its own email addresses."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .test_serve_process import _sign_up, _start_serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (scripts/services)")


class Site:
    def __init__(self, base: str, data: Path) -> None:
        self.base = base
        self.data = data

    def env(self) -> dict[str, str]:
        """The server's own settings, for a CLI run against its data."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMINA_")}
        env.update({"DREAMINA_DATA_DIR": str(self.data), "DREAMINA_ARGON2_MEMORY_KIB": "8192"})
        return env


# Every browser test of the process comes from 127.0.0.1: the per-client budgets (a product rule, proven by
# tests/e2e/test_rate_limits.py) would answer 429 to a shared server partway through the journeys.
UNTHROTTLED = {
    "DREAMINA_RATE_LIMIT_SENSITIVE_PER_MINUTE": "100000",
    "DREAMINA_RATE_LIMIT_CONTENT_PER_MINUTE": "100000",
    "DREAMINA_RATE_LIMIT_GENERAL_PER_MINUTE": "100000",
}


def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("web")
    process, base, data, log_file = _start_serve(tmp, **UNTHROTTLED)
    try:
        yield Site(base, data)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log_file.close()


def launch() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (scripts/services)")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def new_page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context(base_url=site.base, accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def shot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def sign_in(page: Any, section: str, email: str, password: str = PASSWORD) -> None:
    page.goto(section)
    page.fill("input[type=email]", email)
    page.fill("input[type=password]", password)
    page.press("input[type=password]", "Enter")  # submits on Enter, no mouse needed


def sign_up(site: Site, email: str) -> None:
    _sign_up(site.base, email, site.data / "outbox")  # verified through the mailed link
