"""The in-memory unit of work, with real commit and rollback, over every module's tables.

:class:`InMemoryDatabase` holds the committed rows in one dict per table. Each :class:`InMemoryUnitOfWork` stages its
writes over them, checks the same unique and foreign-key rules as the SQL schema on every write and again at commit,
and applies everything at once on commit; leaving without commit discards the staged writes. Records are copied on
the way in and out, so callers can never mutate stored state. Input the SQL adapters refuse (NUL characters, naive
datetimes) is refused here too.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Hashable, Iterable
from types import TracebackType
from typing import Any, cast

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec
from dreamina.domain.privacy.errors import Conflict
from dreamina.ports.unit_of_work import UnitOfWork


class InMemoryDatabase:
    """The committed state of every module's in-memory repositories; hands out units of work over it."""

    def __init__(self, stores: Iterable[MemoryStores]) -> None:
        self._stores = tuple(stores)
        self._specs: dict[str, TableSpec] = {}
        for module in self._stores:
            for spec in module.tables:
                if spec.name in self._specs:
                    raise ValueError(f"table {spec.name} is declared twice")
                self._specs[spec.name] = spec
        names = [name for module in self._stores for name in module.repositories]
        if len(names) != len(set(names)):
            raise ValueError("a repository name is declared twice")
        self._tables: dict[str, dict[Any, Any]] = {name: {} for name in self._specs}
        self._sequences: defaultdict[str, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._locks: defaultdict[Hashable, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def repository_names(self) -> tuple[str, ...]:
        return tuple(name for module in self._stores for name in module.repositories)

    def unit_of_work(self) -> UnitOfWork:
        # The stores are attached by name when the unit of work begins, which the type checker cannot follow.
        return cast(UnitOfWork, InMemoryUnitOfWork(self))

    def rows(self, table: str) -> dict[Any, Any]:
        """The committed rows of ``table`` (its SQL name), for assertions; never write through it."""
        return self._tables[table]

    def row_counts(self) -> dict[str, int]:
        """Committed rows per table, named as the SQL tables are (for "nothing was stored" assertions)."""
        counts = {name: len(rows) for name, rows in self._tables.items()}
        for module in self._stores:
            if module.derived_counts is not None:
                counts.update(module.derived_counts(self._tables))
        return counts


class InMemoryUnitOfWork:
    """:class:`~dreamina.ports.unit_of_work.UnitOfWork` over an :class:`InMemoryDatabase`. Single use."""

    def __init__(self, database: InMemoryDatabase) -> None:
        self._database = database
        self._opened: dict[str, Table[Any, Any]] = {}
        self._active = False
        self._used = False
        self._held: list[asyncio.Lock] = []

    # -- Staging: what repositories are built from --------------------------------------------------------------

    def table(self, name: str) -> Table[Any, Any]:
        opened = self._opened.get(name)
        if opened is None:
            opened = self._database._specs[name].open(self._database._tables[name])
            self._opened[name] = opened
        return opened

    def sequence(self, name: str) -> itertools.count[int]:
        return self._database._sequences[name]

    async def hold(self, key: Hashable) -> None:
        self._require_active()
        lock = self._database._locks[key]
        if lock not in self._held:
            await lock.acquire()
            self._held.append(lock)

    # -- the unit of work --------------------------------------------------------------------------------------

    async def __aenter__(self) -> InMemoryUnitOfWork:
        if self._used:
            raise RuntimeError("a unit of work is single use; make a new one")
        self._used = True
        self._active = True
        for module in self._database._stores:
            for name, make in module.repositories.items():
                setattr(self, name, make(self))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.rollback()
        finally:
            self._active = False
            while self._held:  # a row lock ends with its transaction
                self._held.pop().release()

    async def commit(self) -> None:
        self._require_active()
        # Check everything first, then apply everything: a commit is all or nothing.
        try:
            for table in self._opened.values():
                table.check_commit()
        except Conflict:
            await self.rollback()
            raise
        for table in self._opened.values():
            table.apply()
        while self._held:  # committed: the next holder sees it
            self._held.pop().release()

    async def rollback(self) -> None:
        self._require_active()
        for table in self._opened.values():
            table.discard()

    def _require_active(self) -> None:
        if not self._active:
            raise RuntimeError("the unit of work is not active; use it as `async with uow: ...`")
