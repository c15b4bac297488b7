"""A local SMTP server (aiosmtpd on 127.0.0.1) that keeps what it receives, as a pytest fixture."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from dreamina.adapters.mail.outbox import KIND_HEADER
from dreamina.ports.mail import MailMessage


class SmtpInbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    inbox = SmtpInbox()
    port = free_port()  # aiosmtpd's controller probes its own port after start, so it needs a real one
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def read_back(email: EmailMessage) -> MailMessage:
    body = email.get_content().replace("\r\n", "\n")
    return MailMessage(
        to=str(email["To"]),
        subject=str(email["Subject"]),
        body=body[:-1] if body.endswith("\n") else body,
        kind=str(email[KIND_HEADER]),
    )
