"""The redaction processor: sensitive keys dropped, free text scrubbed, stdlib loggers covered too."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dreamina.adapters.logs import configure_logging, get_logger, scrub, scrub_ungated
from tests import log_audit


@pytest.mark.parametrize(
    ("raw", "leak"),
    [
        ("user bob.smith+tag@mail.example.co.uk failed", "bob.smith"),
        ("from 192.168.10.200 via proxy", "192.168.10.200"),
        ("from 2001:db8:85a3::8a2e:370:7334", "2001:db8:85a3::8a2e:370:7334"),
        ("from ::ffff:10.0.0.1", "10.0.0.1"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz012345"),
        ("card 4242 4242 4242 4242 declined", "4242 4242 4242 4242"),
        ("card 4000-0566-5566-5556", "4000-0566-5566-5556"),
        ("pan=5555555555554444", "5555555555554444"),
    ],
)
def test_scrub_removes_personal_data(raw: str, leak: str) -> None:
    assert leak not in scrub(raw)


@pytest.mark.parametrize(
    "kept",
    [
        "took 12:30:45 on 2026-11-25T12:00:00+00:00",
        "request 3f2a6c1e9b0d4e7f8a1b2c3d4e5f6a7b",
        "order 1234567890123",  # 13 digits but not Luhn-valid
        "version 1.2.3",
    ],
)
def test_scrub_keeps_harmless_text(kept: str) -> None:
    assert scrub(kept) == kept


def test_sensitive_keys_and_nested_values_are_redacted() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    try:
        get_logger("t").info(
            "signup",
            email="a@example.com",
            password="hunter2hunter2",
            headers={"Authorization": "Bearer abcdefghijk12345", "Accept": "json"},
            detail={"who": "b@example.com", "nested": [{"ip": "10.1.2.3"}]},
            count=3,
        )
        logging.getLogger("some.library").warning("connecting to %s as %s", "10.9.8.7", "c@example.com")
    finally:
        configure_logging("INFO")  # the level the service runs at, so the log audit sees what it would log
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["email"] == "[redacted]"
    assert lines[0]["password"] == "[redacted]"
    assert lines[0]["headers"] == "[redacted]"
    assert lines[0]["detail"] == {"who": "[email]", "nested": [{"ip": "[redacted]"}]}
    assert lines[0]["count"] == 3
    assert lines[1]["logger"] == "some.library"
    text = stream.getvalue()
    for leak in (
        "a@example.com",
        "hunter2",
        "abcdefghijk12345",
        "b@example.com",
        "10.1.2.3",
        "10.9.8.7",
        "c@example",
    ):
        assert leak not in text


def test_the_keys_of_a_logged_mapping_are_scrubbed_like_its_values() -> None:
    """A mapping keyed by what it is about (counts per address, per client) must not carry those keys out."""
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    try:
        get_logger("t").info(
            "throttled",
            per_client={"10.1.2.3": 4, "d@example.com": 2, "2001:db8::7": 1},
            nested={"deeper": {"e@example.com": "x"}},
            numbered={3: "three"},
        )
    finally:
        configure_logging("INFO")
    line = json.loads(stream.getvalue().splitlines()[0])
    assert set(line["per_client"]) == {"[ip]", "[email]"}  # two addresses scrub alike: one key is kept
    assert line["nested"] == {"deeper": {"[email]": "x"}} and line["numbered"] == {"3": "three"}
    for leak in ("10.1.2.3", "d@example.com", "2001:db8::7", "e@example.com"):
        assert leak not in stream.getvalue()


def test_the_log_audit_fails_when_redaction_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's log audit can fail: with the redaction processor turned into a no-op, a line carrying each kind
    of personal data is found, kind by kind (and with redaction on, the same line passes)."""
    from dreamina.adapters import logs as log_module
    from tests.log_audit import scan

    token = "Zx9" + "q" * 40
    secrets_seen = {"correct horse battery staple", token, "a red fox at dawn over the hills"}
    values = {
        "contact": "ada@example.com",
        "peer": "203.0.113.7",
        "peer6": "2001:db8::8a2e:370:7334",
        "auth": "Bearer abcdefghijklmnop",
        "card": "4242 4242 4242 4242",
        "password": "correct horse battery staple",
        "token": token,
        "prompt": "a red fox at dawn over the hills",
    }

    monkeypatch.setattr(log_module, "_extra_sinks", [])  # these lines stay out of the suite's own audit

    def emit() -> str:
        stream = io.StringIO()
        configure_logging("INFO", stream=stream)
        try:
            get_logger("t").info("event", **values)
        finally:
            configure_logging("INFO")
        return stream.getvalue()

    assert scan(emit(), secrets_seen) == []  # redaction on: nothing to find
    monkeypatch.setattr(log_module, "redact", lambda _logger, _name, event: event)
    kinds = {leak.split(":", 1)[0] for leak in scan(emit(), secrets_seen)}
    assert kinds == {"email", "ipv4", "ipv6", "bearer", "card number", "secret"}


# Text made of what the patterns look for (and what could fool a gate): digits of several scripts, separators,
# hex letters, the bearer keywords in mixed case, the Kelvin sign (a "k" to case-insensitive matching), addresses.
_PIECES = st.sampled_from(
    [
        *"0123456789",
        "٣",
        "७",
        ".",
        ":",
        "::",
        "@",
        " ",
        "-",
        "=",
        *"abcdefABCDEF",
        "x",
        "é",
        "K",
        "\n",
        "Bearer ",
        "TOKEN ",
        "tOkEn=",
        "bearer: ",
        "user@example.com",
        "127.0.0.1",
        "2001:db8::1",
        "4242 4242 4242 4242",
        "6011 1111 1111 1117",
        "٦٠١١١١١١١١١١١١١٧",
        "2026-11-29T11:00:00.794545Z",
        "abcdefgh12345678",
    ]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_PIECES, max_size=24).map("".join))
def test_the_gated_scrub_changes_exactly_what_every_pattern_on_the_whole_text_changes(text: str) -> None:
    assert scrub(text) == scrub_ungated(text)


@given(st.text(max_size=80))
def test_the_gated_scrub_equals_the_ungated_one_on_any_text(text: str) -> None:
    assert scrub(text) == scrub_ungated(text)


def test_the_timestamp_is_left_as_the_stamper_wrote_it_and_a_callers_own_is_replaced() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    try:
        get_logger("t").info("stamped", timestamp="user@example.com 4242 4242 4242 4242")
    finally:
        configure_logging("INFO")
    line = json.loads(stream.getvalue())
    assert line["timestamp"].startswith("20") and "@" not in line["timestamp"]


def test_the_audit_reads_the_processes_logs_and_not_a_browser_profiles_leveldb_logs(tmp_path: Path) -> None:
    """``*.log`` under the tests' temp dirs: the servers' and workers' logs are scanned; the write-ahead logs of a
    browser profile's LevelDB stores (binary, named ``000003.log``) are not a process's log and are left alone."""
    (tmp_path / "serve.log").write_text('{"event": "request"}\n')
    leveldb = tmp_path / "profile" / "Default" / "Local Storage" / "leveldb"
    leveldb.mkdir(parents=True)
    (leveldb / "000003.log").write_bytes(b"{n<\xe9\x03\x01\x06\x00\x00\x00\x01")
    factory = SimpleNamespace(getbasetemp=lambda: tmp_path)
    read = log_audit._process_logs(SimpleNamespace(_tmp_path_factory=factory))  # type: ignore[arg-type]
    assert read == '{"event": "request"}\n'
    assert not log_audit.scan(read)


def test_the_access_line_is_redacted_stamped_and_written_where_the_other_lines_go() -> None:
    from dreamina.adapters.logs import access_log

    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    try:
        get_logger("t").info("stamped")
        access_log().info("request", method="GET", route="/v1/me", status=200, duration_ms=1.5, request_id="ab12")
        # misuse: a client's token as the method, a path with an address, a key that names personal data
        access_log().info("request", method="4242424242424242", route="/u/ada@example.com", status=404, email="x")
    finally:
        configure_logging("INFO")
    general, access, misused = (json.loads(line) for line in stream.getvalue().splitlines())
    assert access == {
        "event": "request",
        "method": "GET",
        "route": "/v1/me",
        "status": 200,
        "duration_ms": 1.5,
        "request_id": "ab12",
        "level": "info",
        "timestamp": access["timestamp"],
    }
    assert len(access["timestamp"]) == len(general["timestamp"]) and access["timestamp"].endswith("Z")
    assert access["timestamp"] >= general["timestamp"]  # the same clock and format as every other line
    assert misused["method"] == "OTHER" and misused["email"] == "[redacted]"
    assert "[email]" in misused["route"] and "ada" not in misused["route"]


def test_the_access_line_follows_the_configured_level() -> None:
    from dreamina.adapters.logs import access_log

    stream = io.StringIO()
    configure_logging("WARNING", stream=stream)
    try:
        access_log().info("request", method="GET", route="/v1/me", status=200, duration_ms=1.0, request_id="ab")
    finally:
        configure_logging("INFO")
    assert stream.getvalue() == ""


def test_every_line_a_request_logs_carries_its_id_and_the_id_ends_with_it() -> None:
    import asyncio

    import structlog

    from dreamina.entrypoints.http.middleware import request_context

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        get_logger("inner").info("working")
        await send({"type": "http.response.start", "status": 204, "headers": []})  # type: ignore[operator]

    async def send(message: object) -> None:
        return None

    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    try:
        scope = {"type": "http", "method": "DELETE", "path": "/v1/me", "path_template": "/v1/me"}

        async def one_request() -> dict[str, object]:
            await request_context(app)(scope, None, send)  # type: ignore[arg-type]
            return structlog.contextvars.get_contextvars()  # what the same task logs next

        assert asyncio.run(one_request()) == {}
    finally:
        configure_logging("INFO")
    inner, access = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inner["request_id"] == access["request_id"] and len(access["request_id"]) == 32
    assert (access["method"], access["route"], access["status"]) == ("DELETE", "/v1/me", 204)


CARD_LIKE_ID = "25465783169000698a156ef608b40210"
"""A request id as the service makes them (16 random bytes in hex) whose leading digits pass the Luhn check: about
one in 500 do (193 of 100,000 drawn), and scrubbing them as a card number broke the id's match with the
``X-Request-ID`` header the client got."""


def test_a_request_id_is_logged_as_it_was_given_even_where_its_digits_look_like_a_card() -> None:
    import asyncio

    from dreamina.adapters import logs
    from dreamina.entrypoints.http import middleware

    assert logs.scrub(CARD_LIKE_ID) != CARD_LIKE_ID  # the scrubber alone takes it for a card number

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        get_logger("inner").info("working", detail="card 4242 4242 4242 4242")
        await send({"type": "http.response.start", "status": 204, "headers": []})  # type: ignore[operator]

    async def send(message: object) -> None:
        return None

    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    drawn = middleware.os.urandom
    middleware.os.urandom = lambda n: bytes.fromhex(CARD_LIKE_ID)  # type: ignore[assignment]
    try:
        scope = {"type": "http", "method": "GET", "path": "/v1/me", "path_template": "/v1/me"}
        asyncio.run(request_context_call(middleware.request_context(app), scope, send))
        logs.drain_access_log()
    finally:
        middleware.os.urandom = drawn  # type: ignore[assignment]
        configure_logging("INFO")
    inner, access = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inner["request_id"] == access["request_id"] == CARD_LIKE_ID
    assert inner["detail"] == "card [card]"  # every other value is scrubbed as before


def test_only_a_request_id_of_the_services_own_form_is_left_unscrubbed() -> None:
    from dreamina.adapters.logs import redact, render_access_line

    for value in ("ada@example.com", "4242424242424242", CARD_LIKE_ID.upper(), CARD_LIKE_ID + "0", "10.1.2.3"):
        assert (
            json.loads(render_access_line(None, "info", {"event": "request", "request_id": value}))["request_id"]
            != value
        )
        assert redact(None, "info", {"event": "x", "request_id": value})["request_id"] != value
    assert redact(None, "info", {"event": "x", "id": CARD_LIKE_ID})["id"] != CARD_LIKE_ID  # only under its own key


def test_every_request_id_the_api_makes_is_of_the_form_the_logs_keep() -> None:
    from dreamina.adapters.logs import own_request_id
    from dreamina.entrypoints.http.middleware import new_request_id

    drawn = {new_request_id() for _ in range(2000)}
    assert len(drawn) == 2000 and all(own_request_id("request_id", value) for value in drawn)


def test_the_log_audit_passes_the_services_own_request_ids_and_nothing_else() -> None:
    from tests.log_audit import scan

    assert scan(json.dumps({"event": "request", "request_id": CARD_LIKE_ID})) == []
    assert scan(json.dumps({"event": "request", "request_id": CARD_LIKE_ID}, separators=(",", ":"))) == []
    for line in (
        json.dumps({"event": "request", "request_id": "4242424242424242"}),
        json.dumps({"event": "request", "id": CARD_LIKE_ID}),
        json.dumps({"event": "request", "request_id": CARD_LIKE_ID + "0"}),
    ):
        assert [leak.split(":", 1)[0] for leak in scan(line)] == ["card number"]


async def request_context_call(app: object, scope: dict[str, object], send: object) -> None:
    await app(scope, None, send)  # type: ignore[operator]


def test_the_access_lines_own_fields_name_no_personal_data() -> None:
    from dreamina.adapters.logs import ACCESS_FIELDS, SENSITIVE_KEYS

    assert not {name.lower().replace("-", "_") for name in ACCESS_FIELDS} & SENSITIVE_KEYS


class _CountedStream(io.StringIO):
    """A stream that remembers each write and counts its flushes."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_access_lines_are_written_at_once_outside_an_event_loop() -> None:
    from dreamina.adapters.logs import _FlushedSoon

    out = _CountedStream()
    stream = _FlushedSoon(out, 30.0)
    stream.write("a\n")
    stream.flush()
    assert out.getvalue() == "a\n" and out.flushes == 1


async def test_access_lines_on_an_event_loop_are_written_together_soon_after() -> None:
    """On the serving loop the lines are held and written within the delay, together (not a write system call per
    request)."""
    import asyncio

    from dreamina.adapters.logs import _FlushedSoon

    out = _CountedStream()
    stream = _FlushedSoon(out, 0.05)
    for line in ("a\n", "b\n", "c\n"):
        stream.write(line)
        stream.flush()
    assert out.getvalue() == "" and out.flushes == 0
    await asyncio.sleep(0.2)
    assert out.writes == ["a\nb\nc\n"] and out.flushes == 1
    stream.write("d\n")
    stream.flush()  # the next line schedules the next write
    await asyncio.sleep(0.2)
    assert out.getvalue() == "a\nb\nc\nd\n" and out.flushes == 2


async def test_each_write_is_whole_lines_a_pipe_writes_at_once() -> None:
    """The processes of ``serve --workers N`` share one stdout: every write below is whole lines of at most
    PIPE_BUF bytes (atomic on a pipe, so lines of two processes never interleave), a longer line alone, and
    nothing is lost or reordered."""
    from dreamina.adapters.logs import PIPE_BUF, _FlushedSoon

    out = _CountedStream()
    stream = _FlushedSoon(out, 30.0)
    lines = [f'{{"n": {i}, "pad": "{"x" * (i % 300)}", "é": "ü"}}\n' for i in range(200)]
    lines.insert(50, '{"long": "' + "y" * (2 * PIPE_BUF) + '"}\n')
    for line in lines:
        stream.write(line)
        stream.flush()
    stream.drain()
    assert "".join(out.writes) == "".join(lines)
    assert len(out.writes) > 10 and out.flushes == len(out.writes)
    for written in out.writes:
        assert written.endswith("\n")
        assert len(written.encode()) <= PIPE_BUF or written.count("\n") == 1


def test_lines_held_for_a_loop_that_is_gone_are_written_with_the_next_line() -> None:
    """A loop that closed before its write ran (a test's, a server that stopped) leaves nothing held for good:
    the next line, on another loop or on none, writes everything at once."""
    import asyncio

    from dreamina.adapters.logs import _FlushedSoon

    out = _CountedStream()
    stream = _FlushedSoon(out, 30.0)

    async def line(text: str) -> None:
        stream.write(text)
        stream.flush()

    asyncio.run(line("a\n"))  # its loop closes with the write still scheduled
    assert out.getvalue() == ""
    asyncio.run(line("b\n"))  # another loop: everything held is written at once
    assert out.getvalue() == "a\nb\n"
    stream.write("c\n")
    stream.flush()  # no loop: at once
    assert out.getvalue() == "a\nb\nc\n"


def test_a_process_that_exits_writes_the_access_lines_it_holds(tmp_path: Path) -> None:
    """Held lines are written at exit (the serving loop's scheduled write never runs once it has stopped)."""
    import subprocess
    import sys

    script = (
        "import asyncio\n"
        "from dreamina.adapters.logs import access_log, configure_logging\n"
        "configure_logging('INFO')\n"
        "async def main():\n"
        "    for i in range(3):\n"
        "        access_log().info('request', method='GET', route='/v1/me', status=200, duration_ms=1.0,"
        " request_id=str(i))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["request_id"] for line in lines] == ["0", "1", "2"]


def test_route_and_event_values_are_scrubbed_every_time_they_are_logged_though_remembered() -> None:
    from dreamina.adapters.logs import render_access_line

    for _ in range(2):  # the second time from what the first one remembered
        line = json.loads(
            render_access_line(
                None, "info", {"event": "ada@example.com", "route": "/v1/4242424242424242/10.1.2.3", "status": 200}
            )
        )
        assert line["event"] == "[email]"
        assert "4242424242424242" not in line["route"] and "10.1.2.3" not in line["route"]
        assert line["route"].startswith("/v1/[card]")
