"""A pytest plugin: everything the whole suite logs is collected and scanned for personal data at the end (G12).

Every log line of every test (HTTP flows, workers, CLI runs in-process) passes through the redaction processor, at
the level the service runs at (INFO); servers and workers the tests start as processes write their logs to ``*.log``
files under the test's ``tmp_path``, and those are scanned too. This proves nothing slipped past the redaction: no
email address, IPv4 or IPv6 address, bearer token, card number, and none of the secrets and content the suite
itself handed to the service: every password hashed or checked, every random token issued (bearer tokens, mailed
link tokens, device ids) and every prompt submitted.
"""

from __future__ import annotations

import functools
import io
import ipaddress
import json
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dreamina.adapters.logs import add_log_sink, configure_logging

SUITE_LOG = io.StringIO()
KNOWN_SECRETS = {"correct horse battery staple", "hunter2hunter2"}  # grows with what the suite hands the service
PATTERNS = {
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+"),
    "ipv4": re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"),
    "bearer": re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]{8,}"),
}
_IPV6_CANDIDATE = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:.])")
_DIGIT_RUN = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_WORD = re.compile(r"[A-Za-z0-9_-]{8,}")
_OWN_REQUEST_ID = re.compile(r'"request_id": ?"[0-9a-f]{32}"')
"""A request id of the API's own making (16 random bytes in hex), which the logs keep as it is
(``logs.own_request_id``): its digits pass the card check one time in about 500, and it is no one's data."""


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def scan(text: str, secrets_seen: set[str] | None = None) -> list[str]:
    """Every leak in ``text`` (JSON lines; anything else counts as a leak too): what kind, and the match."""
    known = KNOWN_SECRETS if secrets_seen is None else secrets_seen
    words = {k for k in known if _WORD.fullmatch(k)}  # random tokens: looked up word by word, not searched for
    phrases = [k for k in known if k not in words]
    leaks: list[str] = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            json.loads(line)
        except ValueError:
            leaks.append(f"not JSON: {line[:120]}")
            continue
        line = _OWN_REQUEST_ID.sub('"request_id": ""', line)
        for name, pattern in PATTERNS.items():
            leaks.extend(f"{name}: {match}" for match in pattern.findall(line))
        for candidate in _IPV6_CANDIDATE.findall(line):
            try:
                if isinstance(ipaddress.ip_address(candidate), ipaddress.IPv6Address):
                    leaks.append(f"ipv6: {candidate}")
            except ValueError:
                continue
        for run in _DIGIT_RUN.findall(line):
            digits = re.sub(r"\D", "", run)
            if 13 <= len(digits) <= 19 and _luhn(digits):
                leaks.append(f"card number: {run}")
        leaks.extend(f"secret: {word[:12]}..." for word in _WORD.findall(line) if word in words)
        leaks.extend(f"secret: {value[:12]}..." for value in phrases if value in line)
    return leaks


def _remembering(function: Callable[..., Any], keep: Callable[..., str | None]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if (value := keep(result, *args, **kwargs)) and len(value) >= 8:
            KNOWN_SECRETS.add(value)
        return result

    return wrapper


def _remember_what_the_suite_hands_over() -> None:
    """Passwords through the hasher, random tokens as they are made, prompts as they are validated."""
    from dreamina.adapters.passwords import Argon2PasswordHasher
    from dreamina.domain.generation import generations

    hasher: Any = Argon2PasswordHasher
    hasher.hash = _remembering(hasher.hash, lambda _r, _self, password: password)
    hasher.verify = _remembering(hasher.verify, lambda _r, _self, _hash, password: password)
    setattr(  # noqa: B010 - the module attribute every caller reads at call time
        secrets,
        "token_urlsafe",
        _remembering(secrets.token_urlsafe, lambda token, nbytes=None: token if (nbytes or 32) >= 16 else None),
    )
    generations.validate = _remembering(generations.validate, lambda _r, request, _rules: request.prompt)  # type: ignore[assignment]


def pytest_configure(config: pytest.Config) -> None:
    add_log_sink(SUITE_LOG)
    configure_logging("INFO")
    _remember_what_the_suite_hands_over()


_LEVELDB_LOG = re.compile(r"\d{6}\.log")


def _process_logs(config: pytest.Config) -> str:
    """The log files of servers and workers the tests started as processes (``*.log`` under the temp dirs). A
    browser's profile under a test's temp dir holds LevelDB write-ahead logs (``000003.log``): binary records, not a
    process's log, which one test in a while wrote a record of that began like a JSON line (``not JSON: {n<...``)."""
    base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    texts = []
    for path in Path(base).rglob("*.log"):
        if _LEVELDB_LOG.fullmatch(path.name):
            continue
        try:
            texts.append(path.read_text(errors="replace"))
        except OSError:
            continue
    return "\n".join(texts)


@pytest.fixture(scope="session", autouse=True)
def suite_log_is_free_of_personal_data(pytestconfig: pytest.Config) -> Iterator[None]:
    yield
    leaks = scan(SUITE_LOG.getvalue() + "\n" + _process_logs(pytestconfig))
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
