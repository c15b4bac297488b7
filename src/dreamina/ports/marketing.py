"""Marketing campaigns: a staff member's message, sent by a job in batches to the subjects who may receive it."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


class CampaignStatus(enum.StrEnum):
    PENDING = "pending"  # created: no batch has gone out yet
    SENDING = "sending"  # batches are going out (or a run was interrupted and the next pass resumes it)
    DONE = "done"  # every account of the audience was considered


@dataclass(slots=True)
class MarketingCampaign:
    """One marketing message and how far its sending has got. Counts only: nobody is named, and ``cursor`` (the
    last account a batch considered, accounts taken in id order) is only set while the campaign is sending."""

    id: UUID
    subject_line: str
    body: str
    status: CampaignStatus
    created_at: datetime  # the audience: accounts created up to this moment
    sent: int = 0  # mails queued so far (each counted in its batch's own unit of work)
    skipped: int = 0  # accounts considered that may not receive it (no consent, objection, restriction, ...)
    cursor: UUID | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def start(self, now: datetime) -> None:
        if self.status is CampaignStatus.PENDING:
            self.status, self.started_at = CampaignStatus.SENDING, now

    def finish(self, now: datetime) -> None:
        self.status, self.finished_at = CampaignStatus.DONE, now


class MarketingCampaignRepository(Protocol):
    async def add(self, campaign: MarketingCampaign) -> None: ...

    async def get(self, campaign_id: UUID) -> MarketingCampaign | None: ...

    async def unfinished(self, limit: int) -> list[MarketingCampaign]:
        """Campaigns not done yet, oldest first; at most ``limit``."""
        ...

    async def update(self, campaign: MarketingCampaign) -> None:
        """Store the status and times (not the counts or the cursor: see :meth:`advance`); a finished campaign's
        cursor is cleared."""
        ...

    async def audience(self, created_before: datetime, after: UUID | None, limit: int) -> list[UUID]:
        """Up to ``limit`` active accounts created at or before ``created_before`` whose id comes after ``after``
        (all of them when None), in id order (UUIDs ordered by their bytes)."""
        ...

    async def advance(self, campaign_id: UUID, expected: UUID | None, cursor: UUID, sent: int, skipped: int) -> bool:
        """Move the cursor from ``expected`` to ``cursor`` and add the counts, only if the cursor is still
        ``expected`` (compare-and-set); False when another sender moved it first."""
        ...

    async def step_off(self, subject_id: UUID) -> int:
        """Erasure: a cursor resting on ``subject_id`` moves to the id just before it (the same place in the
        audience, no longer the subject's id); returns how many campaigns changed."""
        ...


def id_before(subject_id: UUID) -> UUID:
    """The id just before ``subject_id`` in byte order: where a cursor resting on an erased subject moves to (the
    same place in the audience, since no account holds it)."""
    return uuid.UUID(int=max(subject_id.int - 1, 0))


class MarketingStores(Protocol):
    """The marketing campaigns' store in a unit of work."""

    marketing_campaigns: MarketingCampaignRepository
