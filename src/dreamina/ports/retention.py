"""Retention tasks (guarantee G7): each module says how to find and act on records whose time is up."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

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
