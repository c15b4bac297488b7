"""The SMTP mailer against a local SMTP server (aiosmtpd on 127.0.0.1): the Mailer contract holds over SMTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from dreamina.adapters.mail.outbox import KIND_HEADER
from dreamina.adapters.mail.smtp import SmtpMailer
from dreamina.ports.mail import MailMessage


class _Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = _free_port()  # aiosmtpd's controller probes its own port after start, so it needs a real one
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _read_back(email: EmailMessage) -> MailMessage:
    body = email.get_content().replace("\r\n", "\n")
    return MailMessage(
        to=str(email["To"]),
        subject=str(email["Subject"]),
        body=body[:-1] if body.endswith("\n") else body,
        kind=str(email[KIND_HEADER]),
    )


@pytest.mark.parametrize(
    "message",
    [
        MailMessage("ada@example.com", "Welcome", "Hello Ada.", "welcome"),
        MailMessage("a@example.com", "Grüße — Ihr Konto", "Zeile 1\nZeile 2\n\n— Dreamina ✨", "policy_change"),
        MailMessage("a@example.com", "From me", "From the start of a line\n.\n..", "notice"),
    ],
    ids=["plain", "unicode", "smtp-dot-stuffing"],
)
async def test_messages_arrive_unchanged(smtp_server: tuple[_Inbox, int], message: MailMessage) -> None:
    inbox, port = smtp_server
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="Dreamina <no-reply@dreamina.test>", start_tls=False)
    await mailer.send(message)
    assert len(inbox.received) == 1
    mail_from, recipients, email = inbox.received[0]
    assert mail_from == "no-reply@dreamina.test" and recipients == [message.to]
    assert _read_back(email) == message


async def test_header_injection_is_refused_before_connecting(smtp_server: tuple[_Inbox, int]) -> None:
    inbox, port = smtp_server
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="no-reply@dreamina.test", start_tls=False)
    with pytest.raises(ValueError):
        await mailer.send(MailMessage("a@example.com", "Hi\nBcc: victim@example.com", "b", "welcome"))
    assert inbox.received == []


async def test_an_unreachable_server_raises() -> None:
    port = _free_port()  # nobody listens there
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="no-reply@dreamina.test", start_tls=False, timeout=2)
    with pytest.raises(Exception):
        await mailer.send(MailMessage("a@example.com", "Hi", "b", "welcome"))
