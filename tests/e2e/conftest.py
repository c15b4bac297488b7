"""HTTP tests: one app per test over the backend the root conftest's ``uow_factory`` names."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from litestar import Litestar

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.crypto import InMemoryKeyVault
from dreamina.adapters.logs import configure_logging, drain_access_log
from dreamina.adapters.memory.generation import ManualJobQueue, RecordingCharges
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.memory.throttle import InMemoryAttemptCounter
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import Container, build_container
from dreamina.entrypoints.http.app import APP_SETTINGS, create_app
from dreamina.settings import load_settings
from tests.http_client import AsyncTestClient
from tests.provenance import session_credentials

from . import web_site

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


# Generous limits for functional tests; tests/e2e/test_rate_limits.py exercises the real ones.
UNTHROTTLED = {
    "DREAMINA_RATE_LIMIT_SENSITIVE_PER_MINUTE": "1000000",
    "DREAMINA_RATE_LIMIT_CONTENT_PER_MINUTE": "1000000",
    "DREAMINA_RATE_LIMIT_GENERAL_PER_MINUTE": "1000000",
}


def test_overrides() -> dict[str, Any]:
    """Fakes for everything but the store: a movable clock, memory mail, cheap Argon2 parameters."""
    clock = MovableClock(START)
    return {
        "clock": clock,
        "vault": InMemoryKeyVault(),
        "mailer": InMemoryMailer(),
        "attempts": InMemoryAttemptCounter(clock),
        "passwords": Argon2PasswordHasher.fast(),
        "object_store": InMemoryObjectStore(),
        "job_queue": ManualJobQueue(),
        "charges": RecordingCharges(),
        "content_credentials": session_credentials(clock),
    }


test_overrides.__test__ = False  # type: ignore[attr-defined]


class _Logged(io.StringIO):
    """A log stream whose value includes the access lines the access log still holds (a running server writes them
    within 0.1 s: ``adapters/logs.py:_FlushedSoon``)."""

    def getvalue(self) -> str:
        drain_access_log()
        return super().getvalue()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything logged during the test, as the JSON lines production would write."""
    stream = _Logged()
    configure_logging("DEBUG", stream=stream)
    yield stream
    configure_logging("INFO")  # the level the service runs at, so the log audit sees what it would log


@pytest.fixture
async def container(uow_factory: Any, tmp_path: Any) -> AsyncIterator[Container]:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    wired = build_container(settings, uow=uow_factory, **test_overrides())
    yield wired
    await wired.aclose()


_APPS: dict[bytes, Litestar] = {}
KEPT_APPS = 8


def app_for(container: Container) -> Litestar:
    """The API over ``container``: one app per process and configuration, each test's own container in it.

    Building a Litestar app with every route costs more than most tests (each handler's signature is parsed and
    checked per app), and in one configuration nothing in the app but its state differs between tests: the
    container is put there and the in-process rate-limit counters are emptied. The configuration is the settings the
    app is built from (``APP_SETTINGS``): a test's own directory, vendor emulator or database make no other one.
    Redis counters (shared outside the process) always get a new app.
    """
    if container.settings.redis_url:
        return create_app(container=container)
    key = msgspec.json.encode([getattr(container.settings, name) for name in APP_SETTINGS], enc_hook=str)
    app = _APPS.pop(key, None) or create_app(container=container)
    _APPS[key] = app  # most recently used last
    while len(_APPS) > KEPT_APPS:
        del _APPS[next(iter(_APPS))]
    app.state.container = container
    app.state.rate_limit_counters.forget()
    return app


@pytest.fixture
async def client(container: Container, logs: io.StringIO) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app_for(container)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[web_site.Site]:
    """One real ``dreamina serve`` (embedded profile) for every browser test of this process."""
    yield from web_site.serve(tmp_path_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, driven by Playwright, for the module's browser tests. Not for the session: Playwright's
    sync API holds an event loop in this thread while it runs, and the async tests that a process runs in between
    need the thread free (chromium starts in about a second; the server is what is worth sharing)."""
    yield from web_site.launch()


@pytest.fixture
def page(browser: Any, site: web_site.Site) -> Iterator[Any]:
    """A fresh browser context (its own cookies) on ``site``."""
    yield from web_site.new_page(browser, site)
