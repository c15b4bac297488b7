"""The in-memory fakes' table toolkit: a table as one unit of work sees it, unique indexes, and what a module adds.

A :class:`Table` overlays the committed rows with one unit of work's staged writes (reads see committed rows plus
its own writes, like READ COMMITTED), checks unique indexes on every write and again at commit, and applies or
discards everything at once. Each module's fake declares its tables and repositories as :class:`MemoryStores`;
:class:`~dreamina.adapters.memory.database.InMemoryDatabase` serves every module's stores from one set of dicts.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from dreamina.domain.privacy.errors import Conflict

K = TypeVar("K")
V = TypeVar("V")


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def retention_batch(rows: Iterable[V], due: Callable[[V], bool], order: Callable[[V], Any], limit: int) -> list[V]:
    """The fakes' version of a sweep batch: at most ``limit`` due rows, oldest first."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    return sorted((row for row in rows if due(row)), key=order)[:limit]


class _Deleted:
    pass


_DELETED = _Deleted()


@dataclasses.dataclass(frozen=True, slots=True)
class Unique(Generic[V]):
    """A unique index: the column it covers and the ``Conflict`` message a duplicate gets."""

    column: Callable[[V], object]
    message: str


class Table(Generic[K, V]):
    """One table as a unit of work sees it: the committed rows overlaid with its own staged writes."""

    def __init__(self, committed: dict[K, V], unique: tuple[Unique[V], ...] = (), duplicate_key: str = "") -> None:
        self._committed = committed
        self._staged: dict[K, V | _Deleted] = {}
        self._inserted: set[K] = set()  # keys this unit of work created (a primary key to re-check at commit)
        self._unique = unique
        self._duplicate_key = duplicate_key or "this record already exists"

    def get(self, key: K) -> V | None:
        if key in self._staged:
            staged = self._staged[key]
            return None if isinstance(staged, _Deleted) else staged
        return self._committed.get(key)

    def rows(self) -> Iterator[tuple[K, V]]:
        for key, value in self._committed.items():
            if key not in self._staged:
                yield key, value
        for key, staged in self._staged.items():
            if not isinstance(staged, _Deleted):
                yield key, staged

    def insert(self, key: K, value: V) -> None:
        if self.get(key) is not None:
            raise Conflict(self._duplicate_key)
        self._check_unique(key, value, self.rows())
        self._staged[key] = value
        self._inserted.add(key)

    def replace(self, key: K, value: V) -> None:
        self._check_unique(key, value, self.rows())
        self._staged[key] = value

    def delete(self, key: K) -> bool:
        if self.get(key) is None:
            return False
        if key in self._inserted:  # created and removed here: nothing to apply
            self._inserted.discard(key)
            del self._staged[key]
        else:
            self._staged[key] = _DELETED
        return True

    def check_commit(self) -> None:
        """Re-check staged rows against what other units of work committed meanwhile."""
        if any(key in self._committed for key in self._inserted):
            raise Conflict(self._duplicate_key)
        merged = dict(self._committed)
        for key, staged in self._staged.items():
            if isinstance(staged, _Deleted):
                merged.pop(key, None)
            else:
                merged[key] = staged
        for key, staged in self._staged.items():
            if isinstance(staged, _Deleted):
                continue
            self._check_unique(key, staged, merged.items())

    def apply(self) -> None:
        for key, staged in self._staged.items():
            if isinstance(staged, _Deleted):
                self._committed.pop(key, None)
            else:
                self._committed[key] = staged
        self.discard()

    def discard(self) -> None:
        self._staged.clear()
        self._inserted.clear()

    def _check_unique(self, key: K, value: V, rows: Iterable[tuple[K, V]]) -> None:
        if not self._unique:
            return
        others = [other for other_key, other in rows if other_key != key]
        for index in self._unique:
            wanted = index.column(value)
            if any(index.column(other) == wanted for other in others):
                raise Conflict(index.message)


@dataclasses.dataclass(frozen=True, slots=True)
class TableSpec:
    """One table of a module's fake, named as its SQL table is (row counts and tests read it by that name)."""

    name: str
    unique: tuple[Unique[Any], ...] = ()
    duplicate_key: str = ""
    kind: type[Table[Any, Any]] = Table  # a subclass with more behaviour (e.g. the billing wallet's lock)

    def open(self, committed: dict[Any, Any]) -> Table[Any, Any]:
        if self.kind is Table:
            return Table(committed, self.unique, self.duplicate_key)
        return self.kind(committed)


class Staging(Protocol):
    """What a repository of one unit of work is built from: that unit of work's view of every table."""

    def table(self, name: str) -> Table[Any, Any]:
        """The named table as this unit of work sees it (one instance per unit of work)."""
        ...

    def sequence(self, name: str) -> itertools.count[int]:
        """An ever-increasing counter shared by every unit of work (like a SQL sequence)."""
        ...

    async def hold(self, key: Hashable) -> None:
        """Hold ``key`` until this unit of work ends, as a row lock is held: another unit of work holding the same
        key waits until then."""
        ...


RepositoryFactory = Callable[[Staging], object]
DerivedCounts = Callable[[Mapping[str, dict[Any, Any]]], dict[str, int]]


@dataclasses.dataclass(frozen=True, slots=True)
class MemoryStores:
    """What one module's fake adds to the in-memory database: its tables, and its repositories by unit-of-work name.

    ``derived_counts`` names tables SQL has and the fake folds into another's rows (a generation's references).
    """

    tables: tuple[TableSpec, ...]
    repositories: Mapping[str, RepositoryFactory]
    derived_counts: DerivedCounts | None = None
