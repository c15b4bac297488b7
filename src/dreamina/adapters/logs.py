"""Structured JSON logs that carry no personal data (guarantee G12).

Two layers of defence: keys that name personal data or secrets are dropped to ``[redacted]`` whatever their value,
and every string value is scrubbed of email addresses, IP addresses, bearer tokens and card numbers, so a careless
``log.info("...", detail=str(exc))`` still cannot leak them. stdlib loggers (uvicorn, httpx, alembic) pass through
the same processors.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ipaddress
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec
import structlog

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "email",
        "password",
        "new_password",
        "token",
        "access_token",
        "refresh_token",
        "authorization",
        "cookie",
        "set_cookie",
        "ip",
        "client_ip",
        "remote_addr",
        "ip_address",
        "prompt",
        "secret",
        "master_key",
        "api_key",
        "card",
        "card_number",
        "pan",
        "cvc",
        "cvv",
        "stripe_signature",
        "display_name",
        "birth_date",
        "body",
        "headers",
        "query",
    }
)

_EMAIL = re.compile(r"[^\s@<>\"'(),;:]+@[^\s@<>\"'(),;:]+\.[A-Za-z0-9-]{2,}")
_BEARER = re.compile(r"(?i)\b(bearer|token)\s*[=:]?\s+[A-Za-z0-9._~+/=-]{8,}")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")
_DIGITS = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_BEARER_WORD = re.compile(r"(?i)bearer|token")  # the keywords _BEARER needs, under the same flags
_ANY_DIGIT = re.compile(r"\d")  # what _DIGITS needs: a digit, as its \d reads one (any script's)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _ip(match: re.Match[str]) -> str:
    try:
        ipaddress.ip_address(match.group(0))
    except ValueError:
        return match.group(0)
    return "[ip]"


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and _luhn(digits) else match.group(0)


def scrub(text: str) -> str:
    """Remove emails, IP addresses, bearer tokens and Luhn-valid card numbers from free text.

    Each pattern runs only where the text holds what any match of it must hold (an email an ``@``, an IPv4 address
    a ``.``, an IPv6 address a ``:``, a bearer token its keyword, a card number a digit): a log line's strings mostly
    hold none of them, and the patterns cost 10-16 us a string where they do not match (``tests/unit/test_logs.py``
    checks the gates against the patterns alone on generated text)."""
    if "@" in text:
        text = _EMAIL.sub("[email]", text)
    if _BEARER_WORD.search(text):
        text = _BEARER.sub(lambda m: f"{m.group(1)} [token]", text)
    if "." in text:
        text = _IPV4.sub(_ip, text)
    if ":" in text:
        text = _IPV6.sub(_ip, text)
    if _ANY_DIGIT.search(text):
        text = _DIGITS.sub(_card, text)
    return text


def scrub_ungated(text: str) -> str:
    """:func:`scrub` without its gates: every pattern on the whole text (the reference the gates are tested
    against)."""
    text = _EMAIL.sub("[email]", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} [token]", text)
    text = _IPV4.sub(_ip, text)
    text = _IPV6.sub(_ip, text)
    return _DIGITS.sub(_card, text)


def _clean(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if depth > 5:
        return REDACTED
    if isinstance(value, Mapping):
        # Keys are scrubbed like values: a mapping keyed by what it is about (counts per address) would carry them.
        return {
            scrub(str(k)): REDACTED if str(k).lower().replace("-", "_") in SENSITIVE_KEYS else _clean(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v, depth + 1) for v in value]
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    return value


REQUEST_ID = re.compile(r"[0-9a-f]{32}")
"""The form of the request ids the API makes (16 random bytes in lower-case hex)."""


def own_request_id(key: str, value: Any) -> bool:
    """Whether ``value`` under ``key`` is a request id of the API's own making, logged as it is: random hex is no
    personal data, but a run of its digits may pass the Luhn check (one id in about 500), and scrubbed as a card
    number the logged id no longer matched the ``X-Request-ID`` header the client was given."""
    return key == "request_id" and isinstance(value, str) and REQUEST_ID.fullmatch(value) is not None


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the last step before rendering, so nothing added earlier escapes it."""
    for key in list(event_dict):
        if key == "timestamp":  # TimeStamper's, set over whatever the caller passed: our clock, never theirs
            continue
        if own_request_id(key, event_dict[key]):
            continue
        if key.lower().replace("-", "_") in SENSITIVE_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _clean(event_dict[key])
    return event_dict


_extra_sinks: list[TextIO] = []


class _Tee:
    """Writes every line to the main stream and to each extra sink."""

    def __init__(self, streams: list[TextIO]) -> None:
        self._streams = streams

    def write(self, text: str) -> int:
        for stream in self._streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self._streams:
            stream.flush()


class _CurrentStdout:
    """``sys.stdout`` as it is at each write, not as it was when logging was configured (a replaced or closed
    stdout, e.g. after a test captured it, never swallows later log lines)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def add_log_sink(sink: TextIO) -> None:
    """Also write every log line to ``sink`` (a file or buffer), from the next :func:`configure_logging` on.

    The test suite uses it to scan everything the whole suite logged for personal data.
    """
    _extra_sinks.append(sink)


HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
ACCESS_FIELDS = frozenset({"event", "method", "route", "status", "duration_ms", "request_id"})
"""The access line's own fields: none of their names is in :data:`SENSITIVE_KEYS` (a unit test holds them apart)."""
_encode_json = msgspec.json.Encoder().encode


_FEW_VALUES = frozenset({"event", "route"})
"""The access line's fields whose values come from a small set (the event's name, the routes' path templates):
scrubbed once each (:func:`_scrub_remembered`), where the digit in every ``/v1/`` ran the card pattern on every line."""
_scrubbed: dict[str, str] = {}
_SCRUBBED_AT_MOST = 4096


def _scrub_remembered(value: str) -> str:
    """:func:`scrub`, remembered for the first :data:`_SCRUBBED_AT_MOST` values (the rest scrubbed each time)."""
    done = _scrubbed.get(value)
    if done is None:
        done = scrub(value)
        if len(_scrubbed) < _SCRUBBED_AT_MOST:
            _scrubbed[value] = done
    return done


def render_access_line(_: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
    """The access log's processor chain in one step: every string scrubbed as :func:`redact` scrubs it (the line's
    own fields, :data:`ACCESS_FIELDS`, name no personal data, so only their values need it; any other field goes
    through :func:`redact` whole), the level and an ISO timestamp in UTC as ``configure_logging``'s chain adds them,
    and the JSON, without the general chain's other steps (contexts to merge, exceptions to format, a stamper and a
    renderer for any value): the one access line of a request cost a sixth of ``GET /v1/me``'s CPU under load. The
    method is one of HTTP's own or ``OTHER`` (a client may send any token as its method); the route is the handler's
    path template, never the path the client sent."""
    if event_dict.get("method") not in HTTP_METHODS:
        event_dict["method"] = "OTHER"
    if event_dict.keys() <= ACCESS_FIELDS:  # its own fields: no key names personal data; every string is scrubbed
        for key, value in event_dict.items():
            if isinstance(value, str) and key != "method" and not own_request_id(key, value):
                event_dict[key] = _scrub_remembered(value) if key in _FEW_VALUES else scrub(value)
    else:
        redact(None, method_name, event_dict)
    event_dict["level"] = method_name
    event_dict["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return _encode_json(event_dict).decode()


ACCESS_FLUSH_SECONDS = 0.1
"""How long an access line may be held before it is written (:class:`_FlushedSoon`)."""
PIPE_BUF = 4096
"""The most bytes a write to a pipe makes atomically on Linux (POSIX guarantees at least 512)."""


class _FlushedSoon:
    """The access log's stream: its lines are held and written within ``delay`` seconds by the event loop they were
    logged on, several per write, rather than one write system call per request (5% of ``GET /v1/me``'s CPU in
    process, same run, alternating).

    Each write to the stream below is whole lines of at most ``PIPE_BUF`` bytes, flushed at once: the processes of
    ``dreamina serve --workers N`` share one stdout, and a pipe writes that much atomically, so their lines never
    interleave. A line logged outside a running event loop, or on another loop than the one a write is pending on
    (a loop that may be gone), is written at once with everything held. Every other logger writes each line at once,
    as before, so an access line may follow a later line of another logger by up to ``delay`` seconds (each carries
    its time). A process that exits writes what it holds; only a process killed outright (SIGKILL) can lose the
    access lines of its last ``delay`` seconds: the trade nginx's ``access_log ... flush=`` offers, and errors and
    warnings are never among them."""

    def __init__(self, out: Any, delay: float, chunk_bytes: int = PIPE_BUF) -> None:
        self._out = out
        self._delay = delay
        self._chunk = chunk_bytes
        self._held: list[tuple[str, int]] = []  # each line and its length in bytes
        self._held_bytes = 0
        self._pending: asyncio.AbstractEventLoop | None = None  # the loop a write is scheduled on

    def write(self, text: str) -> int:
        length = len(text) if text.isascii() else len(text.encode())
        self._held.append((text, length))
        self._held_bytes += length
        if self._held_bytes >= self._chunk:
            self.drain()
        return len(text)

    def flush(self) -> None:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None and self._pending is loop:
            return  # this loop writes them soon
        if loop is None or self._pending is not None:
            self.drain()
        self._pending = loop
        if loop is not None:
            loop.call_later(self._delay, self._drain_scheduled, loop)

    def _drain_scheduled(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._pending is loop:
            self._pending = None
        self.drain()

    def drain(self) -> None:
        """Write every line held, in writes of whole lines of at most ``chunk_bytes`` (a longer line alone)."""
        held, self._held, self._held_bytes = self._held, [], 0
        chunk: list[str] = []
        size = 0
        for line, length in held:
            if chunk and size + length > self._chunk:
                self._write("".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += length
        if chunk:
            self._write("".join(chunk))

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()


_access_stream: _FlushedSoon | None = None


@atexit.register
def drain_access_log() -> None:
    """Write the access lines still held now (:class:`_FlushedSoon`), as a process does at exit (its loop's
    scheduled write may never run) and a test does before it reads what was logged."""
    if _access_stream is not None:
        with contextlib.suppress(ValueError, OSError):  # a stream closed before exit
            _access_stream.drain()


class AccessLog:
    """The access log: one line per request through :func:`render_access_line` into the held stream
    (:class:`_FlushedSoon`), below the configured level nothing. Only ``info``, the one level access lines are
    logged at. Not a structlog bound logger: the line never needed its context or processor chain, and the
    wrapper's own steps (a bound method made per call, the event dictionary copied and passed down the chain, the
    logger's write and flush looked up) were 5% of ``GET /health``'s CPU under wrk (py-spy)."""

    __slots__ = ("_enabled", "_stream")

    def __init__(self, stream: _FlushedSoon, level: str) -> None:
        self._stream = stream
        self._enabled = logging.getLevelName(level) <= logging.INFO

    def info(self, event: str, **fields: Any) -> None:
        if self._enabled:
            fields["event"] = event  # last, where structlog put it
            self._stream.write(render_access_line(None, "info", fields) + "\n")
            self._stream.flush()


def _access_logger(out: Any, level: str) -> AccessLog:
    global _access_stream
    drain_access_log()  # what the stream being replaced still holds
    _access_stream = _FlushedSoon(out, ACCESS_FLUSH_SECONDS)
    return AccessLog(_access_stream, level)


_access = _access_logger(_CurrentStdout(), "INFO")


def access_log() -> AccessLog:
    """The access log, as the last :func:`configure_logging` made it (same sinks, same level)."""
    return _access


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """JSON lines on ``stream`` (stdout) for structlog and stdlib loggers alike, all through :func:`redact` (the
    access log through :func:`render_access_line`)."""
    global _access
    main: Any = stream or _CurrentStdout()
    out: Any = _Tee([main, *_extra_sinks]) if _extra_sinks else main
    _access = _access_logger(out, level)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, redact, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # start-up chatter, one line per plugin
    # Driver debug output carries statement parameters (object keys, ids): never below INFO, whatever the level.
    # SQLAlchemy's engine logs every statement at INFO: only its warnings and errors are wanted.
    for noisy in ("aiosqlite", "asyncpg"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLevelName(level)))
    logging.getLogger("sqlalchemy.engine").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # uvicorn's access log writes client addresses; our own middleware logs requests without them.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def get_logger(name: str = "dreamina") -> Any:
    return structlog.get_logger(name)
