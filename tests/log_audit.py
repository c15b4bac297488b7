"""A pytest plugin: everything the whole suite logs is collected and scanned for personal data at the end (G12).

Every log line of every test (HTTP flows, workers, CLI runs in-process) passes through the redaction processor; this
proves nothing slipped past it: no email address, IP address, bearer token, card number or test password.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest

from dreamina.adapters.logs import add_log_sink, configure_logging

SUITE_LOG = io.StringIO()
KNOWN_SECRETS = ("correct horse battery staple", "hunter2hunter2")
PATTERNS = {
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+"),
    "ipv4": re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"),
    "bearer": re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]{8,}"),
}


def pytest_configure(config: pytest.Config) -> None:
    add_log_sink(SUITE_LOG)
    configure_logging("INFO")


@pytest.fixture(scope="session", autouse=True)
def suite_log_is_free_of_personal_data() -> Iterator[None]:
    yield
    text = SUITE_LOG.getvalue()
    leaks: list[str] = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            json.loads(line)
        except ValueError:
            leaks.append(f"not JSON: {line[:120]}")
            continue
        for name, pattern in PATTERNS.items():
            for match in pattern.findall(line):
                leaks.append(f"{name}: {match}")
        leaks.extend(f"secret: {s}" for s in KNOWN_SECRETS if s in line)
    assert not leaks, f"{len(leaks)} personal-data leaks in the suite's logs, e.g. {leaks[:5]}"


WORKER_LINES: list[int] = []  # under pytest-xdist: what each worker process scanned (each audits its own log)


def _json_lines() -> int:
    return sum(1 for line in SUITE_LOG.getvalue().splitlines() if line.startswith("{"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: report its count to the controller
        workeroutput["log_audit_lines"] = _json_lines()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    WORKER_LINES.append(int(getattr(node, "workeroutput", {}).get("log_audit_lines", 0)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = _json_lines() + sum(WORKER_LINES)
    where = f" in {len(WORKER_LINES)} worker processes" if WORKER_LINES else ""
    terminalreporter.write_line(
        f"log audit: {lines} JSON log lines from the whole suite scanned for personal data{where}"
    )
