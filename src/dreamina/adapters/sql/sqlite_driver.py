"""SQLAlchemy's aiosqlite adapter with each statement in one call on aiosqlite's thread (the embedded profile).

aiosqlite runs a connection's work on a thread of its own; every call is a hand-off from the event loop to that thread
and back. SQLAlchemy's adapter makes four per statement: a cursor, its ``execute``, its ``fetchall`` and its
``close`` (``sqlalchemy/dialects/sqlite/aiosqlite.py``, ``AsyncAdapt_aiosqlite_cursor.execute``, 2.0.58). Here its
cursor does all four in one function run on that thread (``aiosqlite.Connection._execute``, the queue every
aiosqlite call goes through, 0.22.1), and hands back what SQLAlchemy reads of a cursor: the description, the rows,
the row count and the last row id. Measured in process (``bench/generation.py``, SQLite): ``POST /v1/generations``
158-179/s with four hand-offs per statement, 273-328/s with one; each submission is a dozen statements.

Everything else is SQLAlchemy's adapter as it is (transactions, server-side cursors, errors, closing), and so are
the values: the same ``sqlite3`` cursor runs the same statement. The whole suite runs on it on SQLite. Both packages
are pinned (``pyproject.toml``); a release that renames what this reaches into fails at the first statement.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

_Outcome = tuple[Any, Any, int, list[Any] | None]  # description, last row id, row count, rows


def _execute(connection: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        if cursor.description:
            return cursor.description, -1, -1, cursor.fetchall()
        return None, cursor.lastrowid, cursor.rowcount, None
    finally:
        cursor.close()


def _executemany(connection: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return None, cursor.lastrowid, cursor.rowcount, None
    finally:
        cursor.close()


class _OneCallCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _run(self, function: Any, operation: str, parameters: Any) -> _Outcome:
        connection: Any = self._connection
        outcome: _Outcome = self.await_(connection._execute(function, connection._conn, operation, parameters))
        return outcome

    def execute(self, operation: Any, parameters: Any = None) -> None:
        try:
            description, lastrowid, rowcount, rows = self._run(_execute, operation, parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = description
        self.lastrowid = lastrowid
        self.rowcount = rowcount
        if rows is not None:
            self._rows = deque(rows)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        try:
            _, lastrowid, rowcount, _ = self._run(_executemany, operation, seq_of_parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = None
        self.lastrowid = lastrowid
        self.rowcount = rowcount


class _OneCallConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side=True)
        return _OneCallCursor(self)


class OneCallDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI SQLAlchemy's aiosqlite dialect is given (``create_async_engine(..., module=OneCallDbapi())``)."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        if type(adapted) is not AsyncAdapt_aiosqlite_connection:  # the sync fallback: left as it is
            return adapted
        return _OneCallConnection(self, adapted._connection)
