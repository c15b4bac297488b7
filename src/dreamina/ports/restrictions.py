"""Restriction of processing (policy section 7, guarantee G4): a restricted subject's data is kept, not processed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class ProcessingRestriction:
    subject_id: UUID
    restricted_at: datetime
    reason: str | None


class ProcessingRestrictions(Protocol):
    """The register every outbound port consults before processing or disclosing a subject's data.

    Writes take effect when the unit of work they belong to commits.
    """

    async def is_restricted(self, subject_id: UUID) -> bool: ...

    async def restrict(self, subject_id: UUID, reason: str | None, at: datetime) -> None:
        """Restrict processing; restricting an already restricted subject keeps the first record."""
        ...

    async def lift(self, subject_id: UUID, at: datetime) -> None:
        """Lift the restriction (a no-op when there is none)."""
        ...

    async def get(self, subject_id: UUID) -> ProcessingRestriction | None: ...

    async def delete_for_subject(self, subject_id: UUID) -> int:
        """Erasure: forget the subject's restriction record; returns how many rows went."""
        ...
