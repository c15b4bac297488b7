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


class DisclosureLedger(Protocol):
    async def record(self, disclosure: Disclosure) -> None: ...

    async def list_for_subject(self, subject_id: UUID) -> list[Disclosure]:
        """The subject's disclosures, oldest first."""
        ...

    async def pseudonymise_subject(self, subject_id: UUID, pseudonym: UUID) -> int:
        """Erasure: the ledger keeps who received what and when, under ``pseudonym``, without the processor's
        reference (it points at the subject); returns how many entries changed."""
        ...
