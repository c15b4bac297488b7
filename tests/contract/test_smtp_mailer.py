"""The SMTP mailer against a local SMTP server (aiosmtpd on 127.0.0.1): the Mailer contract holds over SMTP."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from dreamina.adapters.mail.smtp import SmtpMailer
from dreamina.ports.mail import MailMessage
from tests.contract.smtp_server import SmtpInbox, free_port, read_back, smtp_server

__all__ = ["smtp_server"]  # the fixture


@pytest.mark.parametrize(
    "message",
    [
        MailMessage("ada@example.com", "Welcome", "Hello Ada.", "welcome"),
        MailMessage("a@example.com", "Grüße — Ihr Konto", "Zeile 1\nZeile 2\n\n— Dreamina ✨", "policy_change"),
        MailMessage("a@example.com", "From me", "From the start of a line\n.\n..", "notice"),
    ],
    ids=["plain", "unicode", "smtp-dot-stuffing"],
)
async def test_messages_arrive_unchanged(smtp_server: tuple[SmtpInbox, int], message: MailMessage) -> None:
    inbox, port = smtp_server
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="Dreamina <no-reply@dreamina.test>", start_tls=False)
    await mailer.send(message)
    assert len(inbox.received) == 1
    mail_from, recipients, email = inbox.received[0]
    assert mail_from == "no-reply@dreamina.test" and recipients == [message.to]
    assert read_back(email) == message


async def test_a_redelivery_carries_the_same_message_id(smtp_server: tuple[SmtpInbox, int]) -> None:
    """SMTP cannot take a message back: a deliverer killed after the relay accepted it sends it again (issue 18),
    and the copy carries the same Message-ID, which the recipient's mail system may fold into one."""
    inbox, port = smtp_server
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="Dreamina <no-reply@dreamina.test>", start_tls=False)
    delivery = uuid.uuid4()
    message = MailMessage("ada@example.com", "Your export is ready", "Download it.", "export_ready", delivery)
    await mailer.send(message)
    await mailer.send(message)
    await mailer.send(replace(message, delivery_id=None))
    ids = [email["Message-ID"] for _, _, email in inbox.received]
    assert ids[:2] == [f"<{delivery.hex}@dreamina.test>"] * 2
    assert ids[2] != ids[0] and ids[2].endswith("@dreamina.test>")


async def test_header_injection_is_refused_before_connecting(smtp_server: tuple[SmtpInbox, int]) -> None:
    inbox, port = smtp_server
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="no-reply@dreamina.test", start_tls=False)
    with pytest.raises(ValueError):
        await mailer.send(MailMessage("a@example.com", "Hi\nBcc: victim@example.com", "b", "welcome"))
    assert inbox.received == []


async def test_an_unreachable_server_raises() -> None:
    port = free_port()  # nobody listens there
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="no-reply@dreamina.test", start_tls=False, timeout=2)
    with pytest.raises(Exception):
        await mailer.send(MailMessage("a@example.com", "Hi", "b", "welcome"))


async def test_marketing_mail_carries_the_one_click_unsubscribe_headers(smtp_server: tuple[SmtpInbox, int]) -> None:
    """RFC 8058: ``List-Unsubscribe: <https://...>`` as a bare URL (not RFC 2047 encoded words, which no mail client
    reads as a link) and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``; other mail carries neither."""
    inbox, port = smtp_server
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="Dreamina <no-reply@dreamina.test>", start_tls=False)
    link = "https://dreamina.test/v1/marketing/unsubscribe?token=" + "A" * 32 + "." + "0" * 64
    await mailer.send(MailMessage("ada@example.com", "News", "New styles.", "marketing", list_unsubscribe=link))
    await mailer.send(MailMessage("ada@example.com", "Welcome", "Hello Ada.", "welcome"))
    (_, _, marketing), (_, _, welcome) = inbox.received
    raw = dict(marketing.raw_items())
    assert raw["List-Unsubscribe"].strip() == f"<{link}>"
    assert raw["List-Unsubscribe-Post"].strip() == "List-Unsubscribe=One-Click"
    assert "List-Unsubscribe" not in welcome and "List-Unsubscribe-Post" not in welcome
