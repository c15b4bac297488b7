"""In-memory fake of :class:`~dreamina.ports.mail.Mailer`."""

from __future__ import annotations

from dreamina.adapters.mail.outbox import check_message
from dreamina.ports.mail import MailMessage


class InMemoryMailer:
    """Keeps every message it is asked to send in ``sent``, in order; rejects what the real mailers reject."""

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []

    async def send(self, message: MailMessage) -> None:
        check_message(message)
        self.sent.append(message)

    def sent_to(self, address: str) -> list[MailMessage]:
        """Messages sent to ``address`` (for assertions)."""
        return [message for message in self.sent if message.to == address]
