"""Retention tasks (guarantee G7): each module says how to find and act on records whose time is up."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from dreamina.domain.privacy.vocabulary import DataCategory


class RetentionTask(Protocol):
    """One rule of the retention schedule, enforced in bounded batches by indexed statements."""

    name: str  # "<store>.<what>", e.g. "auth_sessions.expired"
    category: DataCategory  # what the rule applies to
    description: str

    async def due(self, now: datetime) -> int:
        """How many records are past their time at ``now`` (what a dry run reports)."""
        ...

    async def apply(self, now: datetime, limit: int) -> int:
        """Delete, anonymise or truncate at most ``limit`` of them in one transaction; returns how many."""
        ...


@runtime_checkable
class WholePeriodRetention(Protocol):
    """What a retention task adds when its store may keep records by time period (a day, a month) and remove a
    whole period at once: the sweep prepares the periods ahead, then removes whole expired periods, then runs the
    task's bounded batches for what is left past due (a period only partly expired, records outside any period).
    A store without periods answers "nothing" and everything goes by batches."""

    async def prepare_periods(self, now: datetime) -> None:
        """Make room for the records of the current and the coming periods (idempotent)."""
        ...

    async def drop_whole_periods(self, now: datetime) -> int | None:
        """In one transaction, remove a bounded run of whole periods past due at ``now`` with every record in them;
        returns how many records went, or None when no whole period is left to remove."""
        ...
