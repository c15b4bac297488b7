"""The SQL unit of work: one ``AsyncSession`` (one transaction) shared by every module's repositories."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import socket
import weakref
from types import TracebackType
from typing import cast

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dreamina.adapters.sql.driver_pool import DriverPool
from dreamina.adapters.sql.lazy_session import LazySession
from dreamina.adapters.sql.principal_cache import apply_committed
from dreamina.adapters.sql.repository_kit import (
    DRIVER,
    READ_ONLY,
    SQLITE_READS,
    DriverConnection,
    SqlRepositories,
)
from dreamina.adapters.sql.sqlite_reads import SqliteReads
from dreamina.domain.privacy.errors import StoreBusy, StoreUnavailable

_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")  # PostgreSQL: connection exception, insufficient resources, shutdown


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) means the database cannot be reached now, rather than a bug or bad
    data: a refused or lost connection, an exhausted pool or server, a server shutting down."""
    seen: BaseException | None = error
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, ConnectionError | socket.gaierror | sa_exc.TimeoutError):
            return True
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            return True
        state = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        seen = seen.__cause__ or seen.__context__ or getattr(seen, "orig", None)
    return False


SQLITE_WRITER_WAIT_SECONDS = 60.0
"""How long a unit of work waits for this process's writer turn before answering ``StoreBusy`` (an overload)."""


class SqliteWriterTurns:
    """One writer at a time in this process, first come first served, for an embedded SQLite database.

    SQLite allows one writer; with several connections each beginning its own transaction, concurrent writers
    either spin in the busy handler or fail outright (a deferred transaction that read first). Instead every unit of
    work of this process waits its turn here (an ``asyncio.Lock`` per event loop, FIFO), then begins ``IMMEDIATE`` on
    the writer engine: writes queue instead of being refused. A unit of work opened while the same task already holds
    the turn (nested) would wait for itself: it reads instead, on a connection of its own with a deferred ``BEGIN``
    (it sees what is committed, as any reader in WAL mode does).
    """

    def __init__(self, wait_seconds: float = SQLITE_WRITER_WAIT_SECONDS) -> None:
        self._wait_seconds = wait_seconds
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        # The holding turn, seen by the task that took it and by the tasks it starts while holding it; a task it
        # started that outlives the turn sees a stale value and waits for a turn of its own.
        self._holder: contextvars.ContextVar[object | None] = contextvars.ContextVar(
            f"sqlite-writer-{id(self)}", default=None
        )
        self._current: set[object] = set()

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def held(self) -> bool:
        """Whether the current task (or the task that started it) holds the writer turn right now."""
        return self._holder.get() in self._current

    async def acquire(self) -> contextvars.Token[object | None]:
        try:
            async with asyncio.timeout(self._wait_seconds):
                await self._lock().acquire()
        except TimeoutError:
            raise StoreBusy("the database is busy with other writes; try again") from None
        turn = object()
        self._current.add(turn)
        return self._holder.set(turn)

    def release(self, token: contextvars.Token[object | None]) -> None:
        self._current.discard(self._holder.get())
        self._holder.reset(token)
        self._lock().release()


def _never_made(session: object) -> bool:
    return isinstance(session, LazySession) and session.made is None


class SqlUnitOfWork:
    """:class:`~dreamina.ports.unit_of_work.UnitOfWork` over SQL; leaving without ``commit()`` rolls back.

    Single use: each ``async with`` needs a fresh instance (``Database.unit_of_work()`` makes one). The repositories
    are the ones every module contributes (``REPOSITORIES`` of each ``repositories_<module>.py``), attached by name
    when the unit of work begins; ``tests/unit/test_unit_of_work_stores.py`` proves they cover every store the
    port names.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        repositories: SqlRepositories,
        *,
        turns: SqliteWriterTurns | None = None,
        nested_factory: async_sessionmaker[AsyncSession] | None = None,
        read_only: bool = False,
        driver_engine: AsyncEngine | None = None,
        readers: DriverPool | None = None,
        sqlite_reads: SqliteReads | None = None,
    ) -> None:
        """``turns``: on SQLite, the process's writer turns, held from entry to exit (one writer at a time);
        ``nested_factory``: the sessions of a unit of work opened while its task holds the turn (a reader);
        ``read_only``: a reader that never waits for the writer turn (WAL readers see the last commit) and whose
        ``commit`` is refused, so nothing it might write is ever kept; ``driver_engine`` (PostgreSQL): the driver
        reads run on asyncpg (``repository_kit.DriverConnection``), a reader's on a connection it checks out of this
        pool, a writer's on its session's connection; ``readers`` (a pooled PostgreSQL database): the driver reads
        before a session holds a connection run on asyncpg's own pool instead, a connection per statement
        (``driver_pool.DriverPool``), and a writer's appends wait for its commit, where they are sent on that pool
        if nothing else was written (``repository_kit.DriverWrite``); ``sqlite_reads`` (a reader on an SQLite file):
        its driver reads run one call each on a reader thread (``sqlite_reads.SqliteReads``)."""
        self._read_only = read_only
        self._sqlite_reads = sqlite_reads if read_only else None
        self._driver = (
            None
            if driver_engine is None
            else DriverConnection(driver_engine, readers)
            if read_only
            else DriverConnection(None, readers, may_write=True)
        )
        self._session_factory = session_factory
        self._repositories = repositories
        self._turns = turns
        self._nested_factory = nested_factory
        self._turn: contextvars.Token[object | None] | None = None
        self._session: AsyncSession | None = None
        self._used = False

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._used:
            raise RuntimeError("a unit of work is single use; make a new one")
        self._used = True
        factory = self._session_factory
        if self._read_only and self._nested_factory is not None:
            factory = self._nested_factory
        elif self._turns is not None:
            if self._turns.held() and self._nested_factory is not None:
                factory = self._nested_factory
            else:
                self._turn = await self._turns.acquire()
        driver = self._driver
        if (driver is not None and driver.pooled) or self._sqlite_reads is not None:
            # every read may be a driver read and every append wait for the commit: the session is made only if
            # something else needs it
            info = {**factory.kw.get("info", {})}
            if driver is not None:
                info[DRIVER] = driver
            if self._sqlite_reads is not None:
                info[SQLITE_READS] = self._sqlite_reads
            if self._read_only:
                info[READ_ONLY] = True
            self._session = cast(AsyncSession, LazySession(factory, info))
            return self
        self._session = factory()
        if driver is not None:
            self._session.info[DRIVER] = driver
        if self._read_only:
            self._session.info[READ_ONLY] = True
        return self

    def __getattr__(self, name: str) -> object:
        """A repository, made on first use in this unit of work (most use two or three of the forty)."""
        make = self.__dict__.get("_repositories", {}).get(name)
        session = self.__dict__.get("_session")
        if make is None or session is None:
            raise AttributeError(name)
        repository = make(session)
        setattr(self, name, repository)
        return repository

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session = self._require_session()
        self._session = None
        # A unit of work whose session never began (a cache answered, or every read was a driver read) has nothing
        # to roll back or release: it is neither rolled back nor closed (each a trip through SQLAlchemy's greenlet
        # bridge, a tenth of GET /v1/me's CPU). Without a transaction the session holds no connection and, since
        # only a transaction loads objects, an empty identity map: closing it would only empty what is empty.
        began = not _never_made(session) and session.sync_session.get_transaction() is not None
        try:
            if began:
                with contextlib.suppress(Exception):  # a lost connection cannot roll back; closing discards it
                    await session.rollback()  # a no-op after commit; discards anything written since
        finally:
            try:
                try:
                    if began:
                        await session.close()
                finally:
                    if self._driver is not None:
                        with contextlib.suppress(Exception):  # a lost connection is discarded by the pool
                            await self._driver.close()
            finally:
                if self._turns is not None and self._turn is not None:
                    self._turns.release(self._turn)
                    self._turn = None
        if exc is not None and not isinstance(exc, StoreBusy) and is_outage(exc):
            raise StoreUnavailable("the database is unavailable; try again shortly") from exc

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit; use a unit of work that may write")
        session = self._require_session()
        driver = self._driver
        if driver is not None and driver.pending:
            # Appends that waited for the commit (repository_kit.DriverWrite): the session holds no connection (it
            # would have sent them as it began), so they are all this unit of work wrote: one statement on the pool.
            await driver.send_pending()
        elif not _never_made(session):
            await session.commit()
        apply_committed(session.info)  # what the committed writes ended is forgotten by the principal cache

    async def rollback(self) -> None:
        session = self._require_session()
        if self._driver is not None:
            self._driver.pending.clear()
        if not _never_made(session):
            await session.rollback()

    def _require_session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not active; use it as `async with uow: ...`")
        return self._session
