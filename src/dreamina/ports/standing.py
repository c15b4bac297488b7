"""What stops a subject from starting anything new, read together: an open age review (policy section 9, a child
report), an open moderation review, a restriction of processing (the right to restriction). A submission checks all
three twice, before its prompt is screened and again in the transaction that stores it: one read each time, not
three (they were a quarter of a submission's CPU on PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Standing:
    under_age_review: bool  # the account's status is ``age_review``
    under_moderation_review: bool  # a moderation review of the subject is open
    restricted: bool  # processing of the subject's data is restricted


class StandingReader(Protocol):
    async def of(self, subject_id: UUID) -> Standing:
        """The subject's standing as this unit of work sees it, what the three stores answer one by one:
        ``accounts.get(s).under_age_review`` (False without an account), ``moderation_reviews.open_for(s) is not
        None`` and ``restrictions.get(s) is not None``."""
        ...


class StandingStores(Protocol):
    """Read across the identity, moderation and data-rights stores; written by none of its own."""

    standing: StandingReader
