"""Support tickets (policy section 11, "contact us"): what the support module stores and how it is found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(slots=True)
class SupportTicket:
    """A message to us, from a signed-in subject (``subject_id``) or from anyone (``subject_id`` None).

    Free text and the reply-to address are sealed: with the subject's data key when there is a subject (erasure
    crypto-shreds them), else with the ticket's own data key, kept wrapped by the master key in ``wrapped_key``
    (deleting the row destroys it). Privacy tickets carry the legal clock of ``jurisdiction`` in ``due_at``.
    """

    id: UUID
    subject_id: UUID | None
    category: str  # privacy | billing | other
    status: str  # open | answered | closed
    received_at: datetime
    updated_at: datetime
    subject_line_ciphertext: bytes
    message_ciphertext: bytes
    reply_to_ciphertext: bytes | None = None  # None: answer the signed-in subject's account email
    wrapped_key: bytes | None = None  # anonymous tickets only
    replies_ciphertext: bytes | None = None  # staff answers, a sealed JSON list
    jurisdiction: str | None = None  # privacy tickets only
    due_at: datetime | None = None  # privacy tickets only: the legal clock
    flag: str | None = None  # near_due | overdue, set by the deadline monitor while the ticket is open
    answered_at: datetime | None = None
    closed_at: datetime | None = None


class SupportTicketRepository(Protocol):
    async def add(self, ticket: SupportTicket) -> None:
        """Raises ``Conflict`` if a ticket with this id exists."""
        ...

    async def get(self, ticket_id: UUID) -> SupportTicket | None: ...

    async def update(self, ticket: SupportTicket) -> None:
        """Persist changed fields; raises ``NotFound`` if gone."""
        ...

    async def list_for_subject(self, subject_id: UUID) -> list[SupportTicket]:
        """The subject's tickets, newest first."""
        ...

    async def list_open(
        self,
        *,
        categories: tuple[str, ...],
        statuses: tuple[str, ...],
        due_before: datetime | None = None,
        limit: int,
    ) -> list[SupportTicket]:
        """Tickets of ``categories`` in ``statuses`` (optionally due before a time): soonest due first, tickets
        without a due date after those with one, then oldest first."""
        ...

    async def count_closed_before(self, categories: tuple[str, ...], cutoff: datetime) -> int: ...

    async def delete_closed_before(self, categories: tuple[str, ...], cutoff: datetime, limit: int) -> int:
        """Delete at most ``limit`` tickets of ``categories`` closed before ``cutoff``; returns how many."""
        ...

    async def delete_for_subject(self, subject_id: UUID) -> int: ...


class SupportStores(Protocol):
    """The support module's store in a unit of work."""

    support_tickets: SupportTicketRepository
