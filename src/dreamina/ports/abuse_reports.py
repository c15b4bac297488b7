"""Abuse reports about generated content (policy section 3: data is used "to prevent fraud, abuse, and security
incidents"): anyone reports a generation, by its id or by one of our download links; staff take it down or dismiss
the report."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from dreamina.ports.child_reports import ChildReportInbox


class AbuseReason(enum.StrEnum):
    """The fixed categories a report names (free text beside it is optional)."""

    SEXUAL_CONTENT = "sexual_content"
    CHILD_SAFETY = "child_safety"
    VIOLENCE = "violence"
    HATE_OR_HARASSMENT = "hate_or_harassment"
    IMPERSONATION = "impersonation"  # a real person depicted without their consent (deepfake)
    MISINFORMATION = "misinformation"
    INTELLECTUAL_PROPERTY = "intellectual_property"
    PRIVACY = "privacy"
    OTHER = "other"


class AbuseReportStatus(enum.StrEnum):
    OPEN = "open"  # in the staff queue
    TAKEN_DOWN = "taken_down"  # staff removed the generation (or it was removed by another report's takedown)
    DISMISSED = "dismissed"  # staff found nothing to remove


@dataclass(slots=True)
class AbuseReport:
    """One matched report about one generation. The reporter's data (their contact address and what they wrote) is
    another person's than the owner's: it is sealed with a data key of the report's own (``reporter_key``, wrapped
    by the master key) and dropped after the declared period."""

    id: UUID
    generation_id: UUID
    owner_id: UUID  # the generation's owner; their erasure replaces it with their erasure pseudonym
    reporter_id: UUID | None  # the signed-in reporter, if any (their export holds the report; their erasure unlinks)
    reason: AbuseReason
    via_link: bool  # reported through one of our download links rather than by generation id
    status: AbuseReportStatus
    received_at: datetime
    updated_at: datetime
    reporter_key: bytes | None  # the report's data key, wrapped by the master key
    reporter_ciphertext: bytes | None  # JSON {contact, details}
    closed_at: datetime | None = None
    reporter_data_deleted_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is AbuseReportStatus.OPEN

    def close(self, status: AbuseReportStatus, now: datetime) -> None:
        self.status = status
        self.closed_at = now
        self.updated_at = now

    def forget_reporter(self, now: datetime) -> None:
        """The signed-in reporter's erasure: the report no longer names them, and what they sent goes."""
        self.reporter_id = None
        self.reporter_key = None
        self.reporter_ciphertext = None
        self.reporter_data_deleted_at = now
        self.updated_at = now

    def pseudonymise_owner(self, pseudonym: UUID, now: datetime) -> None:
        """The owner's erasure (their generations are gone with it): the record stays, naming a pseudonym, and an
        open report is closed as taken down (there is nothing left to review)."""
        self.owner_id = pseudonym
        if self.is_open:
            self.close(AbuseReportStatus.TAKEN_DOWN, now)
        self.updated_at = now


class AbuseReportRepository(Protocol):
    async def add(self, report: AbuseReport) -> None:
        """Store a new report; raises ``Conflict`` if the id exists."""
        ...

    async def get(self, report_id: UUID) -> AbuseReport | None: ...

    async def update(self, report: AbuseReport) -> None:
        """Persist every field; raises ``NotFound`` if the report is gone."""
        ...

    async def close_if_open(self, report_id: UUID, status: AbuseReportStatus, now: datetime) -> bool:
        """Close the report only if it is still open (compare-and-set); returns whether this call closed it."""
        ...

    async def list_open(self, limit: int) -> list[AbuseReport]:
        """Open reports, oldest first (the staff queue)."""
        ...

    async def list_for_generation(self, generation_id: UUID) -> list[AbuseReport]:
        """Every report about the generation, oldest first."""
        ...

    async def list_for_subject(self, subject_id: UUID) -> list[AbuseReport]:
        """Every report the subject filed signed in or that is about their generations, oldest first."""
        ...

    async def delete_reporter_data(self, closed_before: datetime, now: datetime, limit: int) -> int:
        """Retention: for at most ``limit`` reports closed before ``closed_before`` that still hold reporter data,
        drop the key and the sealed contact and details and stamp ``reporter_data_deleted_at``; returns how many."""
        ...

    async def count_reporter_data(self, closed_before: datetime) -> int: ...

    async def delete_closed(self, closed_before: datetime, limit: int) -> int:
        """Retention: delete at most ``limit`` reports closed before ``closed_before``; returns how many."""
        ...

    async def count_closed(self, closed_before: datetime) -> int: ...


class OutputLinks(Protocol):
    """Reads our own download links: which stored object a URL names."""

    async def object_key(self, url: str) -> str | None:
        """The object key ``url`` names if it is one of our signed download links (expired ones too: the content
        is what is reported), else ``None``. Where the store signs links itself the signature is checked."""
        ...


class AbuseReportStores(Protocol):
    """The abuse-report flow's stores in a unit of work (the inbox has the children's flow's shape)."""

    abuse_reports: AbuseReportRepository
    abuse_report_inbox: ChildReportInbox
