"""The disclosure ledger (G10): every hand-off of a subject's personal data to a processor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Disclosure:
    id: UUID
    subject_id: UUID
    processor: str  # a ProcessorDeclaration.id from the data map
    categories: tuple[str, ...]  # DataCategory values
    purpose: str  # a Purpose value
    reference: str | None  # the processor's id for what it received, if any
    occurred_at: datetime
    # whether the subject allowed this content to be used to improve the service when it was handed over
    improvement_allowed: bool = False


@dataclass(frozen=True, slots=True)
class DisclosureGroup:
    """The subject's disclosures that share a processor, a purpose and a list of categories: how many, how many of
    them the subject had allowed to improve the service, the first and the last."""

    processor: str
    purpose: str
    categories: tuple[str, ...]
    count: int
    improvement_allowed: int
    first: datetime
    last: datetime


class DisclosureLedger(Protocol):
    async def record(self, disclosure: Disclosure) -> None: ...

    async def list_for_subject(self, subject_id: UUID) -> list[Disclosure]:
        """The subject's disclosures, oldest first."""
        ...

    async def page_for_subject(
        self, subject_id: UUID, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> list[Disclosure]:
        """At most ``limit`` of the subject's disclosures, oldest first, strictly after ``after`` (``occurred_at``,
        ``id``): :meth:`list_for_subject` a page at a time (an export streams them)."""
        ...

    async def groups_for_subject(self, subject_id: UUID) -> list[DisclosureGroup]:
        """The subject's disclosures grouped by processor, purpose and categories, in no particular order (summed
        by the store: none is loaded; an access report's list of recipients)."""
        ...

    async def pseudonymise_subject(self, subject_id: UUID, pseudonym: UUID) -> int:
        """Erasure: the ledger keeps who received what and when, under ``pseudonym``, without the processor's
        reference (it points at the subject); returns how many entries changed."""
        ...
