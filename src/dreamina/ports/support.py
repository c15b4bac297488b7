"""Support tickets (policy section 11, "contact us"): what the support module stores and how it is found."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from dreamina.domain.privacy.jurisdictions import DeadlineFlag


class TicketCategory(enum.StrEnum):
    PRIVACY = "privacy"  # the privacy contact (section 11): the privacy officers' queue, on the legal clock
    BILLING = "billing"
    OTHER = "other"


class TicketStatus(enum.StrEnum):
    OPEN = "open"  # waiting for our answer (a privacy ticket's legal clock runs)
    ANSWERED = "answered"  # answered and left open for a follow-up
    CLOSED = "closed"  # its retention period runs from here


@dataclass(slots=True)
class SupportTicket:
    """A message to us, from a signed-in subject (``subject_id``) or from anyone (``subject_id`` None).

    Free text and the reply-to address are sealed: with the subject's data key when there is a subject (erasure
    crypto-shreds them), else with the ticket's own data key, kept wrapped by the master key in ``wrapped_key``
    (deleting the row destroys it). Privacy tickets carry the legal clock of ``jurisdiction`` in ``due_at``.
    """

    id: UUID
    subject_id: UUID | None
    category: TicketCategory
    status: TicketStatus
    received_at: datetime
    updated_at: datetime
    subject_line_ciphertext: bytes
    message_ciphertext: bytes
    reply_to_ciphertext: bytes | None = None  # None: answer the signed-in subject's account email
    wrapped_key: bytes | None = None  # anonymous tickets only
    replies_ciphertext: bytes | None = None  # staff answers, a sealed JSON list
    jurisdiction: str | None = None  # privacy tickets only
    due_at: datetime | None = None  # privacy tickets only: the legal clock
    flag: DeadlineFlag | None = None  # set by the deadline monitor while the ticket is open
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    # anonymous tickets only: the blind index (keyed HMAC, the one accounts are found by) of the normalised reply-to
    # address, so a verified request by that address finds them; None until the start-up backfill set it
    reply_to_index: str | None = None

    @property
    def is_closed(self) -> bool:
        return self.status is TicketStatus.CLOSED

    def answer(self, replies_ciphertext: bytes, now: datetime, *, close: bool) -> None:
        """Staff answered (``replies_ciphertext`` holds every answer so far): the legal clock stops and any deadline
        flag goes; ``close`` closes the ticket too."""
        self.replies_ciphertext = replies_ciphertext
        self.status = TicketStatus.CLOSED if close else TicketStatus.ANSWERED
        self.answered_at = now
        self.flag = None
        if close:
            self.closed_at = now
        self.updated_at = now

    def close(self, now: datetime) -> None:
        """Closed without (another) answer; its retention period starts."""
        self.status = TicketStatus.CLOSED
        self.closed_at = now
        self.flag = None
        self.updated_at = now

    def raise_flag(self, flag: DeadlineFlag, now: datetime) -> None:
        """The deadline monitor's mark: ``near_due`` or ``overdue``."""
        self.flag = flag
        self.updated_at = now


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
        statuses: tuple[TicketStatus, ...],
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

    async def list_anonymous_for_address(self, reply_to_index: str) -> list[SupportTicket]:
        """Anonymous tickets (no subject) written from the address with this blind index, newest first."""
        ...

    async def delete_anonymous_for_address(self, reply_to_index: str) -> int:
        """Delete the anonymous tickets written from the address with this blind index; returns how many."""
        ...

    async def list_unindexed(self, limit: int) -> list[SupportTicket]:
        """At most ``limit`` anonymous tickets whose ``reply_to_index`` is not set yet (the start-up backfill)."""
        ...

    async def set_reply_to_index(self, ticket_id: UUID, reply_to_index: str) -> None: ...


class AddressRequestKind(enum.StrEnum):
    """What a person without an account may ask about the tickets written from their address."""

    ACCESS = "access"  # see them (and take them: the answer holds their full text and our answers)
    ERASURE = "erasure"  # delete them


@dataclass(slots=True)
class AddressRequest:
    """An access or erasure request by an email address, waiting for the link mailed to that address.

    Holds no address: only its blind index and a keyed hash of the mailed token (single use, short-lived).
    """

    id: UUID
    kind: AddressRequestKind
    address_index: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class AddressRequestRepository(Protocol):
    async def add(self, request: AddressRequest) -> None: ...

    async def redeem(self, token_hash: str, now: datetime) -> AddressRequest | None:
        """Mark the unused, unexpired request with this token hash used and return it (atomically: of two at once
        one wins); None for an unknown, used or expired token."""
        ...

    async def delete_expired_before(self, cutoff: datetime, limit: int) -> int:
        """Delete at most ``limit`` requests that expired before ``cutoff``; returns how many."""
        ...

    async def count_expired_before(self, cutoff: datetime) -> int: ...

    async def delete_for_address(self, address_index: str) -> int: ...

    async def count_for_address(self, address_index: str) -> int: ...


class SupportStores(Protocol):
    """The support module's stores in a unit of work."""

    support_tickets: SupportTicketRepository
    ticket_address_requests: AddressRequestRepository
