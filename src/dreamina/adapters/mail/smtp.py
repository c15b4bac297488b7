"""Mail over SMTP (production profile) with aiosmtplib.

Follows aiosmtplib's documented high-level API, ``aiosmtplib.send(message, hostname=, port=, username=,
password=, use_tls=, start_tls=, timeout=)`` (aiosmtplib 5.x docs, "Sending messages"): one connection per
message, implicit TLS (``use_tls``) or STARTTLS (``start_tls``), login only when a username is configured.
Messages are the same RFC 5322 documents the outbox writes, with the ``X-Dreamina-Kind`` header
(and, for marketing mail, RFC 8058's ``List-Unsubscribe`` and ``List-Unsubscribe-Post``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from dreamina.adapters.mail.outbox import add_headers, check_message, message_id
from dreamina.ports.clock import Clock
from dreamina.ports.mail import MailMessage


class SmtpMailer:
    """:class:`~dreamina.ports.mail.Mailer` delivering to an SMTP relay; raises on refusal or network failure."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        use_tls: bool = False,
        start_tls: bool | None = None,
        timeout: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username or None
        self._password = password or None
        self._use_tls = use_tls
        self._start_tls = start_tls
        self._timeout = timeout
        self._now = clock.now if clock else lambda: datetime.now(UTC)
        self._msgid_domain = sender.rsplit("@", 1)[-1].strip(" >") or "dreamina.invalid"
        self._envelope_sender = parseaddr(sender)[1] or sender

    def render(self, message: MailMessage) -> EmailMessage:
        email = EmailMessage(policy=policy.SMTP)
        email["From"] = self._sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = format_datetime(self._now())
        # the outbox message's own id: a redelivery after a crash is the same message to the recipient's system
        email["Message-ID"] = message_id(message, self._msgid_domain)
        add_headers(email, message)
        email.set_content(message.body + "\n")  # read back by stripping exactly one newline, as the outbox does
        return email

    async def send(self, message: MailMessage) -> None:
        check_message(message)
        email = self.render(message)
        # Flattened here under the message's own policy (aiosmtplib would flatten under ``policy.SMTP`` and fold a
        # marketing mail's unsubscribe link into RFC 2047 encoded words); SMTPUTF8 where an address needs it, as
        # aiosmtplib does for a message object.
        utf8 = not (message.to + self._envelope_sender).isascii()
        await aiosmtplib.send(
            email.as_bytes(policy=email.policy.clone(utf8=utf8)),  # type: ignore[call-arg]
            sender=self._envelope_sender,
            recipients=[message.to],
            mail_options=["SMTPUTF8"] if utf8 else None,
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            use_tls=self._use_tls,
            start_tls=self._start_tls,
            timeout=self._timeout,
        )
