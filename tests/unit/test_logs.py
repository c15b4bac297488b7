"""The redaction processor: sensitive keys dropped, free text scrubbed, stdlib loggers covered too."""

from __future__ import annotations

import io
import json
import logging

import pytest

from dreamina.adapters.logs import configure_logging, get_logger, scrub


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
        configure_logging("WARNING")
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
