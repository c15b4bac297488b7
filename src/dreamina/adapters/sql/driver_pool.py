"""asyncpg's own pool for the statements units of work run past SQLAlchemy (PostgreSQL): the driver reads of
read-only units of work, and the deferred writes a unit of work that may write sends at its commit.

A read-only unit of work's hot reads (``repository_kit.DriverRead``: an account, a page of generations, a data key)
run straight on asyncpg. Checking their connection out of SQLAlchemy's pool and back (an ``AsyncConnection``, the
pool's events and characteristics, the greenlet bridge both ways) cost more than everything else the read did:
``GET /v1/me`` spent 0.6 ms of CPU per request with it and 0.38 ms with this pool (in process, 16 concurrent
clients, ``bench/http_vs_bare.py``'s subjects). A unit of work that may write and whose only writes are appends
(``repository_kit.DriverWrite``: a consent choice, an analytics batch) sends them here at its commit, in one
statement (or one transaction), instead of through a session, its connection, ``BEGIN`` and ``COMMIT``: that was
most of an analytics batch's CPU.

What holds, as with SQLAlchemy's pool:

- **One piece of work at a time, never a second connection while waiting.** A driver read takes a connection for
  its one statement and gives it back at once (each statement sees what is committed when it starts, so nothing
  ties two reads to one connection); a commit's writes take one for their statement or transaction. A connection of
  this pool is therefore never held while its unit of work waits for another one, and a full pool (of either kind)
  cannot deadlock on units of work each holding one and waiting for the other.
- **Nothing left behind.** A read leaves no session state; writes run as one statement (atomic on its own) or in a
  transaction that is committed or rolled back before the connection goes back. So connections are handed back
  without asyncpg's reset round trip (``reset``: nothing to undo).
- **The same values.** Each connection gets the JSON and JSONB codecs from SQLAlchemy's own dialect (the engine's
  ``json_deserializer``), so a record read here equals the one read through SQLAlchemy's pool (the read-only
  contract tests compare both with SQLAlchemy's own execution); a deferred write's values go through the same bind
  processors SQLAlchemy's execution applies (the deferred-write contract tests compare the rows).
- **Outages answer 503.** A connection that cannot be made, a pool that stays full past ``acquire_timeout``, or a
  connection lost under a statement raises ``ConnectionError`` (``unit_of_work.is_outage``); a lost connection is
  terminated, never handed out again. A connection the server ended while it sat idle is noticed when its socket
  closes and replaced on the next checkout. Idle connections stay open, as SQLAlchemy's pool keeps its own (closing
  those idle for a while, asyncpg arms and cancels a timer on every release: a timer per read).
- **Given back in front of asyncpg's pool.** A connection whose work is done goes on this pool's own stack of idle
  connections, and the next piece of work takes it from there: asyncpg's release shields itself in a task of its
  own and enters a timeout, and with its acquire cost 16 us a checkout (against 0.03 for the stack; a consent choice
  makes two). asyncpg's pool still makes, counts and ends every connection; a connection goes back to it when a
  piece of work of the same loop waits for one (so none sits idle while another waits), when it is lost, when
  idle ones are to be closed (``idle_seconds``), and when the pool closes. One that the server ended while it sat
  on the stack is noticed as closed and ended, and another taken.
- **One pool per event loop** (an asyncpg connection belongs to its loop), each made on first use.

Sized like SQLAlchemy's pool (``pool_size``): a process holds at most twice that many connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from types import SimpleNamespace
from typing import Any

import asyncpg  # type: ignore[import-untyped]

_DRIVER_GONE = (OSError, asyncpg.PostgresConnectionError, asyncpg.exceptions.InternalClientError)
_CANNOT_CONNECT = (OSError, asyncpg.PostgresConnectionError, asyncpg.exceptions.InternalClientError, TimeoutError)


async def _nothing_to_reset(_connection: Any) -> None:
    """A connection comes back after a ``SELECT``, a statement that ran on its own, or a transaction that ended:
    there is no session state to undo on release."""


def gone(error: BaseException, connection: Any) -> bool:
    """Whether ``error`` left ``connection`` unusable: closed, lost, or its protocol broken (a backend ended by the
    server mid-statement can answer ``InternalClientError``: "another operation is in progress"), or the server
    said so (SQLSTATE class 08, or 57P: shutting down)."""
    state = getattr(error, "sqlstate", None) or ""
    return (
        isinstance(error, _DRIVER_GONE)
        or _closed(connection)
        or (isinstance(state, str) and state.startswith(("08", "57P")))
    )


def _closed(connection: Any) -> bool:
    """Whether ``connection`` is closed; a pool's connection that closed was handed back by asyncpg itself, and its
    proxy then refuses every call."""
    try:
        return bool(connection.is_closed())
    except asyncpg.InterfaceError:
        return True


async def _discard(pool: Any, connection: Any) -> None:
    """End ``connection`` and give its place back. A connection that closed was already handed back by asyncpg
    (it releases a closed connection itself), and releasing it again does nothing."""
    if not _closed(connection):
        with contextlib.suppress(asyncpg.InterfaceError):  # released meanwhile
            connection.terminate()
    await pool.release(connection)


async def _fetch(connection: Any, sql: str, args: list[Any]) -> list[Any]:
    records: list[Any] = await connection.fetch(sql, *args)
    return records


async def _execute(connection: Any, writes: list[tuple[str, list[Any]]]) -> list[str]:
    if len(writes) == 1:  # one statement is atomic on its own: no BEGIN and COMMIT round trips
        sql, args = writes[0]
        return [await connection.execute(sql, *args)]
    async with connection.transaction():
        return [await connection.execute(sql, *args) for sql, args in writes]


class _Loop:
    """One event loop's use of its pool: work holding or taking a connection, work waiting on asyncpg's pool for one,
    and the connections given back to this pool's stack (see the module)."""

    __slots__ = ("busy", "closed", "idle", "waiting")

    def __init__(self) -> None:
        self.busy = 0
        self.waiting = 0
        self.idle: list[Any] = []
        self.closed = False  # the pool closed: work still running gives its connection back to asyncpg


class DriverPool:
    """Connections for the statements run past SQLAlchemy: ``fetch`` one read, ``execute`` a commit's writes."""

    def __init__(
        self,
        dsn: str,
        dialect: Any,
        *,
        size: int,
        acquire_timeout: float = 30.0,
        idle_seconds: float = 0.0,
    ) -> None:
        """``dsn``: a ``postgresql://`` URL for asyncpg; ``dialect``: the SQLAlchemy engine's dialect, whose codecs
        every connection gets; ``size``: the most connections per event loop; ``acquire_timeout``: how long a read
        waits for a connection of a full pool (SQLAlchemy's ``pool_timeout``); ``idle_seconds``: close connections
        idle that long (0: never)."""
        if size < 1:
            raise ValueError("a driver pool needs room for one connection")
        self._dsn = dsn
        self._dialect = dialect
        self._size = size
        self._acquire_timeout = acquire_timeout
        self._idle_seconds = idle_seconds
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._ready: tuple[asyncio.AbstractEventLoop, Any] | None = None  # the last loop's pool, once made
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Loop] = weakref.WeakKeyDictionary()

    @property
    def dialect(self) -> Any:
        """The SQLAlchemy dialect whose codecs (and, for a write, bind processors) the pool's statements use."""
        return self._dialect

    async def _codecs(self, connection: Any) -> None:
        adapted = SimpleNamespace(_connection=connection)  # what the dialect's codec set-up reads the connection from
        await self._dialect.setup_asyncpg_json_codec(adapted)
        await self._dialect.setup_asyncpg_jsonb_codec(adapted)

    async def _pool(self) -> Any:
        loop = asyncio.get_running_loop()
        ready = self._ready
        if ready is not None and ready[0] is loop:
            return ready[1]
        making = self._pools.get(loop)
        if making is None:
            making = self._pools[loop] = loop.create_task(self._make())
        try:
            pool = await asyncio.shield(making)
        except BaseException:
            if making.done() and self._pools.get(loop) is making:
                del self._pools[loop]  # a pool that could not be made is made anew by the next read
            raise
        self._ready = (loop, pool)
        return pool

    async def _make(self) -> Any:
        return await asyncpg.create_pool(
            self._dsn,
            min_size=0,
            max_size=self._size,
            init=self._codecs,
            reset=_nothing_to_reset,
            max_inactive_connection_lifetime=self._idle_seconds,
        )

    async def fetch(self, sql: str, args: list[Any]) -> list[Any]:
        """One statement's records, on a connection held for that statement only."""
        records: list[Any] = await self._on_connection(_fetch, sql, args)
        return records

    async def execute(self, writes: list[tuple[str, list[Any]]]) -> list[str]:
        """Run ``writes`` (each SQL and its arguments) in their order, all or none: one alone as a statement of its
        own, several in one transaction. Returns each statement's status (``INSERT 0 2``). A statement's own error
        (a unique violation) is raised as asyncpg raises it, after which nothing of ``writes`` is kept."""
        statuses: list[str] = await self._on_connection(_execute, writes)
        return statuses

    async def _on_connection(self, work: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        here = self._loops.get(loop)
        if here is None:
            here = self._loops[loop] = _Loop()
        taken = here.busy  # work of this loop holding or taking a connection: the pool is only ours
        here.busy = taken + 1
        try:
            try:
                pool = await self._pool()
                connection = None
                while here.idle:
                    connection = here.idle.pop()
                    if not _closed(connection):
                        break
                    await _discard(pool, connection)  # the server ended it while it sat on the stack
                    connection = None
                if connection is None:
                    # With the stack empty, at most ``taken`` connections are out of asyncpg's pool. A place free: no
                    # wait for another read (a new connection's has a timeout).
                    if taken < self._size:
                        connection = await pool.acquire()
                    else:  # asyncio.timeout rather than acquire's own, which runs the wait as a task of its own
                        here.waiting += 1
                        try:
                            async with asyncio.timeout(self._acquire_timeout):
                                connection = await pool.acquire()
                        finally:
                            here.waiting -= 1
            except _CANNOT_CONNECT as error:
                raise ConnectionError("no database connection") from error
            try:
                done = await work(connection, *args)
            except Exception as error:
                if not gone(error, connection):
                    await self._give_back(here, pool, connection)
                    raise  # the statement's own error (or a misuse), not an outage
                await _discard(pool, connection)  # never handed out again: the pool makes a new one
                raise ConnectionError("the database connection was lost") from error
            except BaseException:  # cancelled mid-statement: the connection's protocol state is unknown
                await _discard(pool, connection)
                raise
            await self._give_back(here, pool, connection)
            return done
        finally:
            here.busy -= 1

    async def _give_back(self, here: _Loop, pool: Any, connection: Any) -> None:
        if here.waiting or here.closed or self._idle_seconds:  # to work waiting on asyncpg's pool, or asyncpg's close
            await pool.release(connection)
        else:
            here.idle.append(connection)

    async def close(self) -> None:
        """Close this loop's pool (its connections are all back, or on the stack: each was held for one statement,
        and those on the stack go back first); another loop's, which cannot be awaited from here, is terminated."""
        pools, self._pools, self._ready = dict(self._pools), weakref.WeakKeyDictionary(), None
        loops, self._loops = dict(self._loops), weakref.WeakKeyDictionary()
        for state in loops.values():
            state.closed = True
        here = asyncio.get_running_loop()
        for loop, making in pools.items():
            if not making.done():
                making.cancel()
                continue
            if making.cancelled() or making.exception() is not None:
                continue
            pool = making.result()
            if loop is here:
                idle = loops[loop].idle if loop in loops else []
                try:
                    async with asyncio.timeout(5):
                        for connection in idle:  # back to asyncpg, which waits for every connection to come back
                            await pool.release(connection)
                        await pool.close()
                except TimeoutError:
                    pool.terminate()
            else:
                pool.terminate()
