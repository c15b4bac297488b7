"""The repository ports over one ``AsyncSession`` (SQLite or PostgreSQL), rows mapped to records explicitly.

Statements are written out rather than going through the ORM identity map or advanced-alchemy's generic
repository: every read goes to the database (no stale cached rows after a bulk update), deletes are single
bounded statements, and each write runs in a SAVEPOINT so a ``Conflict`` leaves the unit of work usable
(PostgreSQL otherwise aborts the whole transaction on the first failed statement); an append to a table whose only
constraints are unique ones (``_append``) gets the same from ``ON CONFLICT DO NOTHING``, without the SAVEPOINT's
two round trips.

Every adapter of these ports behaves identically on input the databases disagree about: strings holding NUL
(PostgreSQL rejects them, SQLite stores them) and naive datetimes are refused with ``ValueError`` before any
SQL runs.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, TextClause, and_, bindparam, insert, or_, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import Delete, Insert, Update

from dreamina.adapters.record_rules import check_time
from dreamina.adapters.sql.reader_pool import ReaderPool, gone
from dreamina.domain.privacy.errors import Conflict, NotFound

_FOREIGN_KEY_VIOLATION = "23503"  # PostgreSQL SQLSTATE


# No ORM instances are ever kept in the session, so bulk statements have no identity map to synchronise.
_NO_SYNC = {"synchronize_session": False}


def is_foreign_key_violation(error: IntegrityError) -> bool:
    origin = error.orig
    if getattr(origin, "sqlstate", None) == _FOREIGN_KEY_VIOLATION:
        return True
    return "FOREIGN KEY constraint failed" in str(origin)


class SqlRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _write(self, statement: Insert | Update | Delete, *, conflict: str) -> int:
        """Run one write in a SAVEPOINT: a unique violation becomes ``Conflict``, the transaction lives on."""
        try:
            async with self._session.begin_nested():
                result = await self._session.execute(statement, execution_options=_NO_SYNC)
        except IntegrityError as error:
            if is_foreign_key_violation(error):
                raise NotFound("the record refers to something that does not exist") from None
            raise Conflict(conflict) from None
        return rowcount(result)

    async def _append(self, row: type[Any], values: Mapping[str, Any], *, conflict: str) -> None:
        """``INSERT`` one row into a table whose only constraints are unique ones (no foreign keys): a duplicate is
        ``Conflict`` and the transaction lives on, as with :meth:`_write`, but through ``ON CONFLICT DO NOTHING``
        rather than a SAVEPOINT (two round trips fewer: a third of a consent choice's statements)."""
        statement = _appending(cast(Table, row.__table__), tuple(values))
        if rowcount(await self._session.execute(statement, dict(values))) == 0:
            raise Conflict(conflict)

    async def _append_many(self, row: type[Any], rows: Sequence[Mapping[str, Any]], *, conflict: str) -> None:
        """``INSERT`` several rows (the same columns) in one statement, in their order, as :meth:`_append` does one:
        if any was there already, ``Conflict``, and the others may be written (the caller's unit of work must not
        commit then)."""
        names = tuple(rows[0])
        statement = _appending(cast(Table, row.__table__), names, len(rows))
        params = {f"{name}_{i}": values[name] for i, values in enumerate(rows) for name in names}
        if rowcount(await self._session.execute(statement, params)) != len(rows):
            raise Conflict(conflict)

    async def _execute_count(self, statement: Update | Delete, params: Mapping[str, Any] | None = None) -> int:
        """Run an ``UPDATE`` or ``DELETE``; ``params``: the values of a statement built once with bind parameters
        (built per call, each value is coerced into the statement: most of a short write's CPU)."""
        return rowcount(await self._session.execute(statement, params, execution_options=_NO_SYNC))


@functools.cache
def _appending(table: Table, names: tuple[str, ...], count: int | None = None) -> TextClause:
    """``INSERT ... ON CONFLICT DO NOTHING`` (PostgreSQL and SQLite spell it alike), built once per table and columns,
    with each column's type for its parameter. Text, not the dialects' ``insert().on_conflict_do_nothing()``:
    SQLAlchemy 2.0 cannot cache those (no cache key), so each run would compile the statement again. ``count``: that
    many rows, their parameters named ``<column>_<row>``."""
    columns = ", ".join(f'"{name}"' for name in names)
    rows = [""] if count is None else [f"_{i}" for i in range(count)]
    values = ", ".join("(" + ", ".join(f":{name}{suffix}" for name in names) + ")" for suffix in rows)
    statement = text(f'INSERT INTO "{table.name}" ({columns}) VALUES {values} ON CONFLICT DO NOTHING')  # noqa: S608
    typed = (bindparam(f"{name}{suffix}", type_=table.c[name].type) for suffix in rows for name in names)
    return statement.bindparams(*typed)


def insert_into(row: type[Any]) -> Insert:
    """``INSERT`` into a mapped class's table as SQLAlchemy Core sees it. Given the class itself, SQLAlchemy takes its
    ORM bulk-insert path, which cost more than the statement: a sixth of ``PUT /v1/consent``'s CPU under load."""
    return insert(cast(Table, row.__table__))


def oldest_first(
    statement: Select[Any], at_column: Any, ident: Any, after: tuple[datetime, UUID] | None, limit: int
) -> Select[Any]:
    """Keyset paging, oldest first: rows after ``after`` (time, id), at most ``limit``."""
    if after is not None:
        at, last = after
        check_time("after", at)
        statement = statement.where(or_(at_column > at, and_(at_column == at, ident > last)))
    return statement.order_by(at_column, ident).limit(max(0, limit))


def retention_batch(statement: Select[Any], limit: int) -> Select[Any]:
    """The next batch of a retention sweep: at most ``limit`` rows, locked so that a second sweep running at the
    same time skips them instead of waiting (PostgreSQL; SQLite ignores FOR UPDATE and serialises writers)."""
    if limit < 0:
        raise ValueError("limit must not be negative")  # SQLite reads LIMIT -1 as "no limit"
    return statement.limit(limit).with_for_update(skip_locked=True)


def rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


DRIVER = "dreamina.driver"
"""The ``session.info`` key of a unit of work's :class:`DriverConnection` (PostgreSQL only)."""
READ_ONLY = "dreamina.read_only"
"""The ``session.info`` key marking a read-only unit of work's session: nothing it reads can change under it by its
own hand, so a read may bring along what a later read of the same unit of work will want."""
PREFETCHED_KEYS = "dreamina.prefetched_keys"
"""``session.info``: subject keys a read-only unit of work read along with their accounts, by subject (None: none)."""

_ASYNCPG = asyncpg_dialect()  # type: ignore[no-untyped-call]


class DriverConnection:
    """Where a unit of work's :class:`DriverRead` statements run (PostgreSQL).

    In a read-only unit of work with ``readers`` (a pooled database): each read on a connection of asyncpg's own
    pool, held for that one statement (``reader_pool.ReaderPool``), unless its session already holds a connection
    (it read through SQLAlchemy first), which the read then uses. Its session never takes a connection, begins, rolls
    back or closes for a driver read, and no SQLAlchemy connection is checked out for it: that was most of ``GET
    /v1/me``'s CPU.

    In a read-only unit of work without ``readers`` (``engine``: the read-only engine; an unpooled database): the
    connection its session holds if it holds one; else one the unit of work checks out of the pool for the rest of
    its life, which its session then uses too. Either way a unit of work never holds a connection while it waits for
    another, so a full pool cannot deadlock on units of work each waiting for a second one.

    In a unit of work that may write (no ``engine``): always its session's connection, so a read after a write sees
    it (the same transaction). A read before the first write runs before SQLAlchemy's driver adapter sends its
    ``BEGIN`` (it begins on the first statement it runs itself), as its own statement: at the writers' isolation,
    PostgreSQL's default READ COMMITTED, every statement sees what was committed when it began whether or not a
    transaction is open, and a plain ``SELECT`` takes no lock, so the answer is the same. No driver read locks
    (``FOR UPDATE`` reads stay with SQLAlchemy), and the sessions never autoflush, so nothing pending is missed."""

    def __init__(self, engine: AsyncEngine | None, readers: ReaderPool | None = None) -> None:
        self._engine = engine
        self._readers = readers if engine is not None else None
        self._connection: AsyncConnection | None = None
        self._held: tuple[object, AsyncConnection] | None = None  # the session's transaction and its connection

    @property
    def pooled_reads(self) -> bool:
        """Whether the driver reads run on the reader pool (a read-only unit of work on a pooled database)."""
        return self._readers is not None

    async def fetch(self, session: AsyncSession, sql: str, args: list[Any]) -> list[Any]:
        if self._readers is not None:
            made = session.made if isinstance(session, LazySession) else session
            if made is None or not _holds_connection(made):
                return await self._readers.fetch(sql, args)
        if self._connection is None and (self._engine is None or _holds_connection(session)):
            # The session's connection, asked of the session once per transaction of it (each ask is a trip through
            # the greenlet bridge: a submission's seven reads in one transaction made seven)
            transaction = session.sync_session.get_transaction()
            held = self._held
            if held is not None and transaction is not None and held[0] is transaction and transaction.is_active:
                connection = held[1]
            else:
                connection = await session.connection()
                self._held = (session.sync_session.get_transaction(), connection)
        else:
            if self._connection is None:
                assert self._engine is not None
                self._connection = await self._engine.connect()
                # the session has no connection yet (checked above): when it needs one, it takes this one
                session.sync_session.bind = self._connection.sync_connection
            connection = self._connection
        # The DBAPI connection of a connection that is checked out is an attribute (no I/O): read it here rather than
        # through ``get_raw_connection``, a trip through the greenlet bridge for every read (one that was invalidated
        # must check a new one out of the pool, which does I/O: that one goes through the bridge).
        sync = connection.sync_connection
        raw = await connection.get_raw_connection() if sync is None or sync.invalidated else sync.connection
        driver: Any = raw.driver_connection
        try:
            return list(await driver.fetch(sql, *args))
        except Exception as error:
            if not gone(error, driver):
                raise  # the statement's own error (or a misuse), not an outage
            self._held = None
            await connection.invalidate()  # the pool must not hand out a connection that is gone
            raise ConnectionError("the database connection was lost") from error  # an outage: 503

    async def close(self) -> None:
        """Return the connection to the pool (the unit of work's end, after its session closed)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


class LazySession:
    """A read-only unit of work's session on a pooled PostgreSQL database, made on first use other than its driver
    reads (which read only its ``info``): a unit of work whose reads are all driver reads never makes one (making an
    ``AsyncSession`` cost a twentieth of ``GET /v1/me``'s CPU)."""

    def __init__(self, factory: Callable[[], AsyncSession], info: dict[str, Any]) -> None:
        self.info = info
        self.made: AsyncSession | None = None
        self._factory = factory

    def __getattr__(self, name: str) -> Any:
        session = self.made
        if session is None:
            session = self.made = self._factory()
            session.info.update(self.info)
            self.info = session.info
        return getattr(session, name)


def _holds_connection(session: AsyncSession) -> bool:
    transaction = session.sync_session.get_transaction()
    return transaction is not None and bool(transaction._connections)


class DriverRead:
    """One ``SELECT`` that a unit of work on PostgreSQL runs straight on asyncpg (:class:`DriverConnection`).

    The hot reads (a page of generations, an account, a data key) cost several times more in SQLAlchemy's execution
    and row processing than in the database: 1.6-2.7 ms of CPU against 0.6 ms for a page of 21 generations on the
    benchmark machine. The statement is still written once in SQLAlchemy: it is compiled for asyncpg once, and run
    with asyncpg's own prepared-statement cache; each record becomes a named tuple with the statement's column
    names, so the repositories' row mappers read it as they read a SQLAlchemy row. On SQLite it runs through the
    session, and both paths answer the same (the read-only contract tests compare them, and both with SQLAlchemy's
    own execution of the statement on PostgreSQL, on every backend).

    Only what the column types leave alone on PostgreSQL may be read this way: UUIDs, timestamps with time zone
    (asyncpg answers them in UTC), bytes, numbers, strings and JSONB (decoded by the codec SQLAlchemy's dialect
    installs on every connection).
    """

    def __init__(self, statement: Select[Any], *, postgres: Select[Any] | None = None) -> None:
        """``postgres``: the same read spelled for PostgreSQL where ``statement`` cannot be compiled once (an
        expanding ``IN`` list: ``= ANY(:ids)`` instead), with the same columns and parameters."""
        compiled = (postgres if postgres is not None else statement).compile(dialect=_ASYNCPG)
        if not compiled.string.lstrip().upper().startswith("SELECT") or "POSTCOMPILE" in compiled.string:
            raise ValueError("only a SELECT compiled once reads past SQLAlchemy")
        self.statement = statement
        self._sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        self._fixed = {name: value for name, value in compiled.params.items() if value is not None}  # e.g. LIMIT 1
        self._row: Any = namedtuple("Row", [column.key for column in statement.selected_columns])  # type: ignore[misc]

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> list[Any]:
        driver: DriverConnection | None = session.info.get(DRIVER)
        if driver is None:
            return list(await session.execute(self.statement, params))
        fixed = self._fixed
        args = [params[name] if name in params else fixed[name] for name in self._names]
        records = await driver.fetch(session, self._sql, args)
        make = self._row._make
        return [make(record) for record in records]

    async def first(self, session: AsyncSession, params: Mapping[str, Any]) -> Any | None:
        rows = await self.rows(session, params)
        return rows[0] if rows else None


SqlRepositories = Mapping[str, Callable[[AsyncSession], object]]
"""A module's SQL repositories by their name in the unit of work, each made from the unit of work's session."""
