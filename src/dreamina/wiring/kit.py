"""What a wiring unit declares: the parts of its module the whole system is assembled from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dreamina.adapters.memory.tables import MemoryStores
from dreamina.adapters.sql.repository_kit import SqlRepositories
from dreamina.domain.privacy.datamap import DataDeclaration
from dreamina.ports.data_rights import PersonalDataHolder
from dreamina.ports.retention import RetentionTask

Hook = Callable[[], Awaitable[None]]
DeadlineMonitor = Callable[[], Awaitable[dict[str, int]]]
"""Flags work nearing or past its legal deadline; returns ``{"near_due": n, "overdue": m}``."""


@dataclass(frozen=True, slots=True)
class ModuleParts:
    """A module's stores, known before anything is built: what it keeps (data map) and its repositories by name."""

    name: str
    data: DataDeclaration
    sql: SqlRepositories
    memory: tuple[MemoryStores, ...]


@dataclass(frozen=True, slots=True)
class Contributions:
    """What a wired module adds to the whole: holders of personal data (erased in the stage each declares),
    retention tasks, deadline monitors, and hooks run when the process starts and stops."""

    holders: tuple[PersonalDataHolder, ...] = ()
    retention: tuple[RetentionTask, ...] = ()
    monitors: tuple[DeadlineMonitor, ...] = ()
    starters: tuple[Hook, ...] = ()
    workers: tuple[Hook, ...] = ()  # background work (job workers, reapers): not in one-shot commands
    closers: tuple[Hook, ...] = ()
