"""Outgoing mail to subjects (sign-up notices, one-time codes, policy-change notices)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MailMessage:
    to: str
    subject: str
    body: str
    kind: str  # a stable label for what the message is, e.g. "welcome", "duplicate_signup"


class Mailer(Protocol):
    async def send(self, message: MailMessage) -> None:
        """Deliver (or durably queue) one message; raises on failure."""
        ...
