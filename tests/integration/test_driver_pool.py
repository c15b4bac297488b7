"""The statements units of work run past SQLAlchemy, on asyncpg's own pool (``adapters/sql/driver_pool.py``),
against a real PostgreSQL: a connection lost mid-statement is an outage (503) and never handed out again, a
statement's own error is not, a commit's writes keep all or nothing and leave no transaction open, a full pool
waits at most its timeout, a pool that could not be made is made anew, the codecs are SQLAlchemy's, and closing
leaves no connection behind."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from dreamina.adapters.sql.database import async_url
from dreamina.adapters.sql.driver_pool import DriverPool, _closed

from ..conftest import _create_postgres_database, _drop_postgres_database


@pytest.fixture
async def database_url(postgres_server_url: str) -> AsyncIterator[str]:
    url = await _create_postgres_database(postgres_server_url)
    try:
        yield url
    finally:
        await _drop_postgres_database(postgres_server_url, url)


def _dsn(url: str) -> str:
    return async_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pool(url: str, size: int = 2, acquire_timeout: float = 30.0) -> DriverPool:
    engine = create_async_engine(async_url(url))  # only its dialect is used: the codecs every connection gets
    return DriverPool(_dsn(url), engine.dialect, size=size, acquire_timeout=acquire_timeout)


async def _backends(url: str) -> int:
    connection = await asyncpg.connect(_dsn(url))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return count
    finally:
        await connection.close()


async def _end_backend_once_asleep(url: str, pid: int) -> None:
    """End backend ``pid`` once it runs ``SELECT pg_sleep(30)``: a connection lost mid-statement."""
    admin = await asyncpg.connect(_dsn(url))
    try:
        for _ in range(200):
            if await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'"):
                break
            await asyncio.sleep(0.01)
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_connection_lost_mid_statement_is_an_outage_and_is_not_handed_out_again(database_url: str) -> None:
    readers = _pool(database_url, size=1)
    try:
        [(first,)] = await readers.fetch("SELECT pg_backend_pid()", [])
        slow = asyncio.create_task(readers.fetch("SELECT pg_sleep(30)", []))
        await _end_backend_once_asleep(database_url, first)
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(slow, 10)
        [(second,)] = await readers.fetch("SELECT pg_backend_pid()", [])  # the pool of one made a new connection
        assert second != first
    finally:
        await readers.close()


async def test_a_statements_own_error_is_not_an_outage_and_keeps_the_connection(database_url: str) -> None:
    readers = _pool(database_url, size=1)
    try:
        [(first,)] = await readers.fetch("SELECT pg_backend_pid()", [])
        with pytest.raises(asyncpg.UndefinedTableError):
            await readers.fetch("SELECT * FROM no_such_table", [])
        [(again,)] = await readers.fetch("SELECT pg_backend_pid()", [])
        assert again == first
    finally:
        await readers.close()


async def test_a_commits_writes_keep_all_or_nothing_and_leave_no_transaction_open(database_url: str) -> None:
    """``execute``: one write on its own, several in one transaction; a refused one (a duplicate) keeps none of
    its transaction's writes and is raised as asyncpg raises it; the connection goes back with no transaction open
    and serves the next read (a pool of one: the same connection)."""
    pool = _pool(database_url, size=1)
    try:
        await pool.execute([("CREATE TABLE kept (id int PRIMARY KEY)", [])])
        add = "INSERT INTO kept (id) SELECT * FROM unnest($1::int[])"
        assert await pool.execute([(add, [[1, 2]])]) == ["INSERT 0 2"]
        assert await pool.execute([(add, [[3]]), (add, [[4, 5]])]) == ["INSERT 0 1", "INSERT 0 2"]
        with pytest.raises(asyncpg.UniqueViolationError):
            await pool.execute([(add, [[6]]), (add, [[7, 1]])])  # 1 is there: 6 and 7 are not kept either
        with pytest.raises(asyncpg.UniqueViolationError):
            await pool.execute([(add, [[8, 2]])])  # one statement: neither row
        [(status,)] = await pool.fetch("SELECT pg_current_xact_id_if_assigned() IS NULL", [])
        assert status  # no transaction left open on the connection
        assert [r[0] for r in await pool.fetch("SELECT id FROM kept ORDER BY id", [])] == [1, 2, 3, 4, 5]
    finally:
        await pool.close()


async def test_a_connection_lost_under_a_commits_writes_is_an_outage_keeps_nothing_and_the_next_works(
    database_url: str,
) -> None:
    pool = _pool(database_url, size=1)
    try:
        await pool.execute([("CREATE TABLE kept (id int PRIMARY KEY)", [])])
        add = "INSERT INTO kept (id) VALUES ($1)"
        [(first,)] = await pool.fetch("SELECT pg_backend_pid()", [])
        slow = asyncio.create_task(pool.execute([(add, [1]), ("SELECT pg_sleep(30)", [])]))
        await _end_backend_once_asleep(database_url, first)
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(slow, 10)
        assert await pool.execute([(add, [2])]) == ["INSERT 0 1"]  # on a new connection
        assert [r[0] for r in await pool.fetch("SELECT id FROM kept", [])] == [2]  # 1 was never committed
    finally:
        await pool.close()


async def test_a_full_pool_waits_at_most_its_timeout_then_answers_an_outage(database_url: str) -> None:
    readers = _pool(database_url, size=1, acquire_timeout=0.3)
    try:
        holding = asyncio.create_task(readers.fetch("SELECT pg_sleep(1.5)", []))
        await asyncio.sleep(0.2)
        with pytest.raises(ConnectionError):
            await readers.fetch("SELECT 1", [])
        await holding
        assert [tuple(r) for r in await readers.fetch("SELECT 1", [])] == [(1,)]  # and serves again once free
    finally:
        await readers.close()


async def test_a_database_that_cannot_be_reached_is_an_outage_until_it_can(database_url: str) -> None:
    """The reads go through a port on loopback that at first nothing listens on (the database is down: 503), then a
    forwarder to the database (it is back: the next read works, no restart of the process needed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = async_url(database_url)

    async def forward(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(target.host, target.port)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    readers = _pool(async_url(database_url).set(port=port).render_as_string(hide_password=False))
    try:
        with pytest.raises(ConnectionError):
            await readers.fetch("SELECT 1", [])
        server = await asyncio.start_server(forward, "127.0.0.1", port)
        try:
            assert [tuple(r) for r in await readers.fetch("SELECT 1", [])] == [(1,)]
            await readers.close()  # before the forwarder stops: the pool's connection ends through it
        finally:
            server.close()
    finally:
        await readers.close()


async def test_json_reads_as_sqlalchemy_decodes_it_and_closing_leaves_no_connection(database_url: str) -> None:
    readers = _pool(database_url, size=3)
    document = '{"n": 12345678901234567890, "x": [1.5, "\\u00e9"], "k": 1, "k": 2}'
    await asyncio.gather(*(readers.fetch("SELECT pg_sleep(0.1)", []) for _ in range(3)))
    [(jsonb, json)] = await readers.fetch(f"SELECT '{document}'::jsonb, '{document}'::json", [])
    assert jsonb == {"n": 12345678901234567890, "x": [1.5, "é"], "k": 2}
    assert json == {"n": 12345678901234567890, "x": [1.5, "é"], "k": 2}
    assert await _backends(database_url) == 3
    await readers.close()
    assert await _backends(database_url) == 0


async def test_work_waiting_on_a_full_pool_gets_each_connection_given_back(database_url: str) -> None:
    """A connection whose work is done goes on the pool's own stack, except while other work waits on asyncpg's
    pool for one: then it goes back to asyncpg, which hands it to the waiting work (none sits idle while work waits
    and times out)."""
    readers = _pool(database_url, size=2, acquire_timeout=5.0)
    try:
        pids = await asyncio.gather(*(readers.fetch("SELECT pg_backend_pid(), pg_sleep(0.05)", []) for _ in range(12)))
        assert len({rows[0][0] for rows in pids}) <= 2
        assert await _backends(database_url) == 2
        [(again, _)] = await readers.fetch("SELECT pg_backend_pid(), 1", [])  # from the stack, no new connection
        assert again in {rows[0][0] for rows in pids}
    finally:
        await readers.close()
    assert await _backends(database_url) == 0


async def test_a_connection_the_server_ended_while_idle_is_replaced_on_the_next_read(database_url: str) -> None:
    readers = _pool(database_url, size=1)
    admin = await asyncpg.connect(_dsn(database_url))
    try:
        [(first,)] = await readers.fetch("SELECT pg_backend_pid()", [])
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        for _ in range(200):  # until the server has ended it
            if not await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", first):
                break
            await asyncio.sleep(0.01)
        for _ in range(500):  # and its socket's end has reached the pool's connection (a loaded machine: a while)
            if all(_closed(connection) for state in readers._loops.values() for connection in state.idle):
                break
            await asyncio.sleep(0.01)
        [(second,)] = await readers.fetch("SELECT pg_backend_pid()", [])
        assert second != first
    finally:
        await admin.close()
        await readers.close()


async def test_closing_gives_the_stacked_connections_back_without_terminating(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing gives the connections on the stack back to asyncpg first, so its graceful close does not wait (5 s)
    for them and fall back to terminating the pool."""
    terminated: list[object] = []
    monkeypatch.setattr(asyncpg.Pool, "terminate", lambda pool: terminated.append(pool))
    readers = _pool(database_url, size=3)
    await asyncio.gather(*(readers.fetch("SELECT pg_sleep(0.05)", []) for _ in range(3)))
    assert await _backends(database_url) == 3
    await readers.close()
    assert terminated == []
    assert await _backends(database_url) == 0


async def test_work_running_when_the_pool_closes_gives_its_connection_to_the_close(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement still running when the pool closes finishes, and its connection goes back to asyncpg, whose close
    waits for it, not onto the stack (where the close would wait 5 s for it and then terminate the pool)."""
    terminated: list[object] = []
    monkeypatch.setattr(asyncpg.Pool, "terminate", lambda pool: terminated.append(pool))
    readers = _pool(database_url, size=1)
    running = asyncio.create_task(readers.fetch("SELECT 7, pg_sleep(0.3)", []))
    await asyncio.sleep(0.1)
    await readers.close()
    assert [r[0] for r in await running] == [7]
    assert terminated == []
    assert await _backends(database_url) == 0
