"""Errors of the support module (each maps to a problem-details status in the HTTP adapter)."""

from __future__ import annotations

from dreamina.domain.privacy.errors import DomainError


class TicketClosed(DomainError):
    """The ticket is closed: it takes no more answers and cannot be closed again."""

    code = "ticket_closed"
    title = "The ticket is closed"
