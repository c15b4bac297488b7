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

import enum
import functools
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from sqlalchemy import Connection, Table, TextClause, and_, bindparam, event, func, insert, or_, select, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql import CompoundSelect, Select
from sqlalchemy.sql.dml import Delete, Insert, Update

from dreamina.adapters.record_rules import check_time
from dreamina.adapters.sql.driver_pool import DriverPool, gone
from dreamina.adapters.sql.lazy_session import LazySession
from dreamina.adapters.sql.sqlite_reads import SqliteReads
from dreamina.domain.privacy.errors import Conflict, NotFound

_FOREIGN_KEY_VIOLATION = "23503"  # PostgreSQL SQLSTATE
_UNIQUE_VIOLATION = "23505"


# No ORM instances are ever kept in the session, so bulk statements have no identity map to synchronise.
_NO_SYNC = {"synchronize_session": False}


def is_foreign_key_violation(error: IntegrityError) -> bool:
    origin = error.orig
    if getattr(origin, "sqlstate", None) == _FOREIGN_KEY_VIOLATION:
        return True
    return "FOREIGN KEY constraint failed" in str(origin)


def refusal(error: IntegrityError, conflict: str) -> Conflict | NotFound:
    """What a write the database refused means: a missing reference ``NotFound``, else (a duplicate) ``conflict``."""
    if is_foreign_key_violation(error):
        return NotFound("the record refers to something that does not exist")
    return Conflict(conflict)


class SqlRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _write(self, statement: Insert | Update | Delete, *, conflict: str) -> int:
        """Run one write in a SAVEPOINT: a unique violation becomes ``Conflict``, the transaction lives on."""
        try:
            async with self._session.begin_nested():
                result = await self._session.execute(statement, execution_options=_NO_SYNC)
        except IntegrityError as error:
            raise refusal(error, conflict) from None
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
        commit then). A :class:`DriverWrite`: on a pooled PostgreSQL database it may be sent at the commit, all rows
        or none, and its ``Conflict`` then comes from the commit."""
        names = tuple(rows[0])
        write = _appending_write(cast(Table, row.__table__), names, len(rows))
        params = {f"{name}_{i}": values[name] for i, values in enumerate(rows) for name in names}
        await write.append(self._session, params, expect=len(rows), conflict=conflict)

    async def _count(self, table: Any, *where: Any) -> int:
        """How many rows of ``table`` match ``where``: counted by the database, none loaded."""
        return int(await self._session.scalar(select(func.count()).select_from(table).where(*where)) or 0)

    async def _execute_count(self, statement: Update | Delete, params: Mapping[str, Any] | None = None) -> int:
        """Run an ``UPDATE`` or ``DELETE``; ``params``: the values of a statement built once with bind parameters
        (built per call, each value is coerced into the statement: most of a short write's CPU)."""
        return rowcount(await self._session.execute(statement, params, execution_options=_NO_SYNC))


@functools.cache
def _appending(table: Table, names: tuple[str, ...], count: int | None = None, *, skip: bool = True) -> TextClause:
    """``INSERT ... ON CONFLICT DO NOTHING`` (PostgreSQL and SQLite spell it alike), built once per table and columns,
    with each column's type for its parameter. Text, not the dialects' ``insert().on_conflict_do_nothing()``:
    SQLAlchemy 2.0 cannot cache those (no cache key), so each run would compile the statement again. ``count``: that
    many rows, their parameters named ``<column>_<row>``; ``skip=False``: a plain ``INSERT`` (a duplicate fails the
    whole statement)."""
    columns = ", ".join(f'"{name}"' for name in names)
    rows = [""] if count is None else [f"_{i}" for i in range(count)]
    values = ", ".join("(" + ", ".join(f":{name}{suffix}" for name in names) + ")" for suffix in rows)
    on_conflict = " ON CONFLICT DO NOTHING" if skip else ""
    statement = text(f'INSERT INTO "{table.name}" ({columns}) VALUES {values}{on_conflict}')  # noqa: S608
    typed = (bindparam(f"{name}{suffix}", type_=table.c[name].type) for suffix in rows for name in names)
    return statement.bindparams(*typed)


@functools.cache
def _appending_write(table: Table, names: tuple[str, ...], count: int) -> DriverWrite:
    """:func:`_appending` as a :class:`DriverWrite`: sent on its own (at a commit) it is a plain ``INSERT``, so a
    duplicate keeps none of the rows rather than the others."""
    return DriverWrite(_appending(table, names, count), postgres=_appending(table, names, count, skip=False))


_Member = TypeVar("_Member", bound=enum.Enum)


def by_value(kind: type[_Member]) -> dict[Any, _Member]:
    """Each member of ``kind`` by its stored value, for mapping rows on hot paths: a dictionary look-up, where
    ``kind(value)`` goes through the enum's metaclass (0.5 us a call: a page of twenty generations makes forty)."""
    return {member.value: member for member in kind}


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
SQLITE_READS = "dreamina.sqlite_reads"
"""The ``session.info`` key of a read-only unit of work's :class:`~.sqlite_reads.SqliteReads` (SQLite only)."""
PREFETCHED_KEYS = "dreamina.prefetched_keys"
"""``session.info``: subject keys a read-only unit of work read along with their accounts, by subject (None: none)."""

_ASYNCPG = asyncpg_dialect()  # type: ignore[no-untyped-call]


class DriverConnection:
    """Where a unit of work's :class:`DriverRead` statements run, and where its :class:`DriverWrite` appends wait for
    its commit (PostgreSQL).

    In a read-only unit of work with ``pool`` (a pooled database): each read on a connection of asyncpg's own pool,
    held for that one statement (``driver_pool.DriverPool``), unless its session already holds a connection (it
    read through SQLAlchemy first), which the read then uses. Its session never takes a connection, begins, rolls
    back or closes for a driver read, and no SQLAlchemy connection is checked out for it: that was most of ``GET
    /v1/me``'s CPU.

    In a read-only unit of work without ``pool`` (an unpooled database): the connection its session holds, else one
    it checks out of the read-only ``engine`` for the rest of its life, which its session then uses too. A unit of
    work never holds a connection while it waits for another: a full pool cannot deadlock.

    In a unit of work that may write (``may_write``): once its session holds a connection, always that connection,
    so a read after a write sees it (the same transaction). A read before that (before the first write) runs as a
    statement of its own: on the pool if there is one, else on the session's connection before SQLAlchemy's driver
    adapter sends its ``BEGIN`` (it begins on the first statement it runs itself). At the writers' isolation,
    PostgreSQL's default READ COMMITTED, every statement sees what was committed when it began whether or not a
    transaction is open, and a plain ``SELECT`` takes no lock, so the answer is the same. No driver read locks
    (``FOR UPDATE`` reads stay with SQLAlchemy), and the sessions never autoflush, so nothing pending is missed.

    With a ``pool``, an append (:class:`DriverWrite`) of a unit of work that may write and whose session holds no
    connection waits in ``pending``: at the commit, if nothing else was written, it is sent on the pool, one
    statement (or one transaction for several) without a session, ``BEGIN`` or ``COMMIT``; as soon as anything else
    needs the session's connection (a read, another write), it is sent first on that connection, in its transaction
    (:func:`_send_pending`), so every later statement sees it and a rollback drops it. A unit of work that ends
    without committing never sends it."""

    def __init__(self, engine: AsyncEngine | None, pool: DriverPool | None = None, *, may_write: bool = False) -> None:
        self._engine = None if may_write else engine
        self._pool = pool
        self._may_write = may_write
        self._connection: AsyncConnection | None = None
        self._held: tuple[object, AsyncConnection] | None = None  # the session's transaction and its connection
        self.pending: list[tuple[DriverWrite, Mapping[str, Any], int | Rows, str]] = []  # write, params, rows, conflict

    @property
    def pooled(self) -> bool:
        """Whether reads and held appends run on the driver pool (a pooled database): the session may never be
        needed."""
        return self._pool is not None

    def defers(self, session: AsyncSession) -> bool:
        """Whether an append now waits for the commit: a unit of work that may write, on a pooled database, whose
        session holds no connection (made, it would send what is pending as it began)."""
        if not self._may_write or self._pool is None:
            return False
        made = session.made if isinstance(session, LazySession) else session
        return made is None or not _holds_connection(made)

    async def send_pending(self) -> None:
        """The commit of a unit of work whose only writes are pending appends: all of them on the pool, all or none
        (its session holds no connection, so nothing else is in a transaction of it)."""
        pending, self.pending = self.pending, []
        assert self._pool is not None
        dialect = self._pool.dialect
        writes = [(write.sql, write.args(dialect, params)) for write, params, _, _ in pending]
        try:
            statuses = await self._pool.execute(writes)
        except Exception as error:  # an outage is a ConnectionError, which has no SQLSTATE: raised as it is
            state = getattr(error, "sqlstate", None)
            if state == _UNIQUE_VIOLATION:
                raise Conflict(pending[0][3]) from None
            if state == _FOREIGN_KEY_VIOLATION:
                raise NotFound("the record refers to something that does not exist") from None
            raise
        for (_, _, expect, conflict), status in zip(pending, statuses, strict=True):
            _check_rows(int(status.rsplit(" ", 1)[-1]), expect, conflict)  # sent on its own: skipped a duplicate?

    async def fetch(self, session: AsyncSession, sql: str, args: list[Any]) -> list[Any]:
        if self._pool is not None and not self.pending:  # with appends pending the read goes to the session (below)
            made = session.made if isinstance(session, LazySession) else session
            if made is None or not _holds_connection(made):
                return await self._pool.fetch(sql, args)
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
        """Return the connection to the pool (the unit of work's end, after its session closed); what is still
        pending was never committed, and is dropped."""
        self.pending.clear()
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


def on_postgres(session: AsyncSession) -> bool:
    """Whether ``session`` runs on PostgreSQL, without making a unit of work's lazy session to ask (its driver is
    there only on PostgreSQL)."""
    return DRIVER in session.info or session.get_bind().dialect.name == "postgresql"


def _holds_connection(session: AsyncSession) -> bool:
    transaction = session.sync_session.get_transaction()
    return transaction is not None and bool(transaction._connections)


class DriverRead:
    """One ``SELECT`` that a unit of work on PostgreSQL runs straight on asyncpg (:class:`DriverConnection`).

    The hot reads (a page of generations, an account, a data key) cost several times more in SQLAlchemy's execution
    and row processing than in the database: 1.6-2.7 ms of CPU against 0.6 ms for a page of 21 generations on the
    benchmark machine. The statement is still written once in SQLAlchemy: it is compiled for asyncpg once, and run
    with asyncpg's own prepared-statement cache; each record becomes a named tuple with the statement's column
    names, so the repositories' row mappers read it as they read a SQLAlchemy row. On SQLite a reader runs it on a
    reader thread (``sqlite_reads.SqliteReads``), anything else through the session; every path answers the same
    (the read-only contract tests compare them with SQLAlchemy's own execution of the statement, on every backend).

    Only what the column types leave alone on PostgreSQL may be read this way: UUIDs, timestamps with time zone
    (asyncpg answers them in UTC), bytes, numbers, strings and JSONB (decoded by the codec SQLAlchemy's dialect
    installs on every connection).
    """

    def __init__(
        self,
        statement: Select[Any] | CompoundSelect[Any],
        *,
        postgres: Select[Any] | None = None,
        sqlite: Select[Any] | None = None,
    ) -> None:
        """``postgres``: the same read spelled for PostgreSQL where ``statement`` cannot be compiled once (an
        expanding ``IN`` list: ``= ANY(:ids)`` instead), with the same columns and parameters; ``sqlite``: the same
        for an SQLite reader thread (``sqlite_reads``), where it may bring more along in one statement."""
        self.sqlite_statement = statement if sqlite is None else sqlite
        compiled = (postgres if postgres is not None else statement).compile(dialect=_ASYNCPG)
        if not compiled.string.lstrip().upper().startswith("SELECT") or "POSTCOMPILE" in compiled.string:
            raise ValueError("only a SELECT compiled once reads past SQLAlchemy")
        self.statement = statement
        self._sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        self._fixed = {name: value for name, value in compiled.params.items() if value is not None}  # e.g. LIMIT 1
        self.row_type: Any = namedtuple("Row", [column.key for column in statement.selected_columns])  # type: ignore[misc]

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> list[Any]:
        driver: DriverConnection | None = session.info.get(DRIVER)
        if driver is None:
            sqlite: SqliteReads | None = session.info.get(SQLITE_READS)  # a reader on SQLite: one call on a thread
            found = None if sqlite is None else await sqlite.rows(self, params)
            return list(await session.execute(self.statement, params)) if found is None else found
        fixed = self._fixed
        args = [params[name] if name in params else fixed[name] for name in self._names]
        records = await driver.fetch(session, self._sql, args)
        make = self.row_type._make
        return [make(record) for record in records]

    async def first(self, session: AsyncSession, params: Mapping[str, Any]) -> Any | None:
        rows = await self.rows(session, params)
        return rows[0] if rows else None


class DriverWrite:
    """One ``INSERT`` that a unit of work that may write, on a pooled PostgreSQL database, may send at its commit,
    straight on asyncpg (:class:`DriverConnection`), where it would otherwise begin a transaction through SQLAlchemy.

    A consent choice or an analytics batch is a unit of work whose only write is one append: through a session that
    was a checkout, ``BEGIN``, the statement, ``COMMIT`` and a check-in, each through SQLAlchemy's greenlet bridge,
    about 0.7 ms of CPU of an analytics batch's 1.7 (in process, 16 concurrent clients). Sent at the commit, it is one
    statement on the driver pool. Its values go through the bind processors SQLAlchemy's execution gives the same
    statement on the same dialect, so the rows are the same (the deferred-write contract tests compare them).

    Elsewhere (SQLite, an unpooled database, a session that already holds a connection) it runs through the session
    at once. Either way a duplicate is ``Conflict`` and a missing reference ``NotFound``: deferred, they come from
    whatever sends it (the commit, or the next statement of the unit of work).
    """

    def __init__(self, statement: TextClause, *, postgres: TextClause | None = None) -> None:
        """``statement``: what runs through a session; ``postgres``: the same write as sent on its own at a commit,
        where it must keep all of its rows or none (a plain ``INSERT`` where ``statement`` skips duplicates)."""
        compiled = (postgres if postgres is not None else statement).compile(dialect=_ASYNCPG)
        if not compiled.string.lstrip().upper().startswith("INSERT") or "POSTCOMPILE" in compiled.string:
            raise ValueError("only an INSERT compiled once waits for the commit")
        self.statement = statement
        self.sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        self._types = tuple(compiled.binds[name].type for name in self._names)
        self._processors: dict[Any, tuple[Callable[[Any], Any] | None, ...]] = {}  # by dialect

    def args(self, dialect: Any, params: Mapping[str, Any]) -> list[Any]:
        """The statement's arguments for asyncpg, each converted as SQLAlchemy's execution converts it."""
        processors = self._processors.get(dialect)
        if processors is None:
            processors = tuple(kind.dialect_impl(dialect).bind_processor(dialect) for kind in self._types)
            self._processors[dialect] = processors
        values = (params[name] for name in self._names)
        return [value if process is None else process(value) for process, value in zip(processors, values, strict=True)]

    async def append(
        self, session: AsyncSession, params: Mapping[str, Any], *, expect: int | Rows, conflict: str
    ) -> None:
        """Write ``expect`` rows, now or at the commit; fewer (a duplicate skipped) is ``Conflict`` (gated: or none)."""
        driver: DriverConnection | None = session.info.get(DRIVER)
        if driver is not None and driver.defers(session):
            driver.pending.append((self, params, expect, conflict))
            return
        await session.run_sync(self.write_now, params, expect, conflict)

    def write_now(self, on: Session | Connection, params: Mapping[str, Any], expect: int | Rows, conflict: str) -> None:
        """Run the write through ``on`` (a session, or the connection a session begins on) in its transaction."""
        try:
            result = on.execute(self.statement, params)
        except IntegrityError as error:
            raise refusal(error, conflict) from None
        _check_rows(rowcount(result), expect, conflict)


class Rows:
    """The rows a gated :class:`DriverWrite` (an ``INSERT ... SELECT ... WHERE`` its condition may refuse whole) may
    write, all ``expect`` or none; ``told`` hears how many once it was sent (by the commit at the latest)."""

    def __init__(self, expect: int, told: Callable[[int], None]) -> None:
        self.expect = expect
        self.told = told


def _check_rows(count: int, expect: int | Rows, conflict: str) -> None:
    if isinstance(expect, Rows):
        expect.told(count)
        expect = count and expect.expect  # none is an answer (the condition refused), not a duplicate skipped
    if count != expect:
        raise Conflict(conflict)


@event.listens_for(Session, "after_begin")
def _send_pending(session: Session, _transaction: Any, connection: Connection) -> None:
    """The appends a unit of work deferred (:class:`DriverWrite`), sent first on the connection its session begins
    on, in its transaction: a read or a write that needs that connection comes after them and sees them."""
    driver = session.info.get(DRIVER)
    if driver is None or not driver.pending:
        return
    pending, driver.pending = driver.pending, []
    for write, params, expect, conflict in pending:
        write.write_now(connection, params, expect, conflict)


SqlRepositories = Mapping[str, Callable[[AsyncSession], object]]
"""A module's SQL repositories by their name in the unit of work, each made from the unit of work's session."""
