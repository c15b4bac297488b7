"""The driver reads of read-only units of work on an embedded SQLite database: each statement in one call on a
reader thread, past SQLAlchemy's execution.

Through a session, a read on SQLite was many hand-offs between the event loop and aiosqlite's thread: the checkout,
the ``BEGIN`` our engine sends, then for the statement itself a cursor, its execution, its fetch and its close, then
the rollback at the end. Each hand-off costs about as much as the read itself: ``bench/identity.py`` measured a raw
indexed ``SELECT`` through SQLAlchemy at 1,537/s on SQLite against 2,305/s on PostgreSQL across a socket, and
``GET /v1/me`` at 864/s against 1,952/s. Here a read (``repository_kit.DriverRead``) is one hand-off: the statement,
compiled once for SQLite, is run and fetched whole on a thread of this pool's own, on a connection of that thread.

What holds:

- **The same answers.** The statement is SQLAlchemy's, compiled for the engine's own dialect; its arguments go through
  the bind processors and each column through the result processors SQLAlchemy's execution applies (GUIDs, UTC
  timestamps, booleans, JSON with the engine's decoder), so a row read here equals one read through a session (the
  read-only contract tests compare both, value for value and type for type). A statement that cannot be compiled
  once (an expanding ``IN`` list) still runs through the session.
- **What is committed, as on PostgreSQL.** The connections are in autocommit: each statement reads the last commit
  (WAL readers never wait for the writer), as each driver read on PostgreSQL does.
- **Never a write.** Every connection is ``PRAGMA query_only``: a statement that would write is refused by SQLite.
- **Busy is busy.** SQLite's "database is locked" (another process held a lock past the busy timeout) is
  ``StoreBusy``, as it is through the engine.
- **Nothing left open.** ``close`` waits for the reads in flight, then closes every thread's connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dreamina.domain.privacy.errors import StoreBusy

READER_THREADS = 4
"""Reads in flight at once: SQLite lets WAL readers run side by side, and a read releases the GIL while SQLite works;
on two cores, four keep them busy without a queue of threads."""

_Processor = Callable[[Any], Any] | None


class _Plan:
    """One ``DriverRead``'s statement as compiled for SQLite: its SQL, its arguments' names, fixed values and bind
    processors, and its columns' result processors."""

    __slots__ = ("binds", "columns", "fixed", "make", "names", "sql")

    def __init__(self, read: Any, dialect: Any, compiled: Any) -> None:
        statement = read.sqlite_statement
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.fixed = {name: value for name, value in compiled.params.items() if value is not None}
        self.binds: tuple[_Processor, ...] = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.names
        )
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in statement.selected_columns
        ]
        self.columns = tuple((index, process) for index, process in enumerate(processors) if process is not None)
        self.make = read.row_type._make

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        fixed = self.fixed
        values = (params[name] if name in params else fixed[name] for name in self.names)
        return [value if process is None else process(value) for process, value in zip(self.binds, values, strict=True)]

    def record(self, row: tuple[Any, ...]) -> Any:
        if not self.columns:
            return self.make(row)
        values = list(row)
        for index, process in self.columns:
            values[index] = process(values[index])
        return self.make(values)


class SqliteReads:
    """Reader threads and their connections for one SQLite database file (see the module)."""

    def __init__(self, path: Path, dialect: Any, *, busy_timeout_ms: int, threads: int = READER_THREADS) -> None:
        """``path``: the database file; ``dialect``: the engine's dialect (its processors, its JSON decoder)."""
        self._path = path
        self.dialect = dialect
        self._busy_timeout_ms = busy_timeout_ms
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dreamina-sqlite-read")
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._plans: dict[Any, _Plan | None] = {}  # by DriverRead (hashed by identity)
        self._closed = False

    def plan(self, read: Any) -> _Plan | None:
        """``read`` compiled for this database, or None where it cannot be compiled once (it runs in a session)."""
        if read in self._plans:
            return self._plans[read]
        compiled = read.sqlite_statement.compile(dialect=self.dialect)
        plan = self._plans[read] = None if "POSTCOMPILE" in compiled.string else _Plan(read, self.dialect, compiled)
        return plan

    async def rows(self, read: Any, params: Mapping[str, Any]) -> list[Any] | None:
        """The records of ``read`` (a ``repository_kit.DriverRead``) for ``params``, or None if it must run through
        a session instead."""
        plan = self.plan(read)
        if plan is None:
            return None
        if self._closed:
            raise RuntimeError("the database's readers are closed")
        loop = asyncio.get_running_loop()
        try:
            fetched = await loop.run_in_executor(self._executor, self._fetch, plan.sql, plan.args(params))
        except sqlite3.OperationalError as error:
            if "database is locked" in str(error):
                raise StoreBusy("the database is busy with another write; try again") from error
            raise
        record = plan.record
        return [record(row) for row in fetched]

    def _fetch(self, sql: str, args: list[Any]) -> list[Any]:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open()
        return connection.execute(sql, args).fetchall()

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            connection.execute("PRAGMA query_only = ON")
        except BaseException:
            connection.close()
            raise
        with self._lock:
            self._opened.append(connection)
        self._local.connection = connection
        return connection

    async def close(self) -> None:
        """Wait for the reads in flight, then close every connection."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
