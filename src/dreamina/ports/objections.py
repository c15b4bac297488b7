"""Objections to processing for a purpose (policy section 7, GDPR Art. 21)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Objection:
    subject_id: UUID
    purpose: str  # a Purpose value
    objected_at: datetime


class ObjectionRegister(Protocol):
    """Which purposes each subject objected to. Writes take effect when their unit of work commits."""

    async def object(self, subject_id: UUID, purpose: str, at: datetime) -> None:
        """Record an objection; objecting twice to one purpose keeps the first record."""
        ...

    async def withdraw(self, subject_id: UUID, purpose: str, at: datetime) -> None:
        """Withdraw an objection (a no-op when there is none)."""
        ...

    async def list_for_subject(self, subject_id: UUID) -> list[Objection]:
        """The subject's objections, oldest first."""
        ...

    async def delete_for_subject(self, subject_id: UUID) -> int: ...
