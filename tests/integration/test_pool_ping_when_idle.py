"""The PostgreSQL pool pings a connection only when it sat idle (``ping_when_idle``), not on every checkout: a
database restarted while the service was quiet is noticed before use and costs no request; the price, a restart
in the middle of busy traffic fails the requests already holding a connection once (503, Retry-After), after which
the pool is replaced."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from dreamina import bootstrap
from dreamina.adapters.sql import database as database_module
from dreamina.adapters.sql.database import PING_AFTER_IDLE_SECONDS, Database, async_url, upgrade
from dreamina.domain.privacy.errors import StoreUnavailable

from ..conftest import _create_postgres_database, _drop_postgres_database
from ..contract.consent_rows import consent_record
from ..contract.generation_records import AT


class Monotonic:
    def __init__(self, real: Any) -> None:
        self.real = real
        self.ahead = 0.0

    def monotonic(self) -> float:
        return self.real.monotonic() + self.ahead


@pytest.fixture
async def pooled(postgres_server_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Database, str]]:
    url = await _create_postgres_database(postgres_server_url)
    await upgrade(url)
    database = bootstrap.sql_database(url)
    try:
        yield database, url
    finally:
        await database.dispose()
        await _drop_postgres_database(postgres_server_url, url)


async def _restart(url: str) -> None:
    """What a server restart does to the pool's connections: every other backend of the database is ended."""
    parsed = async_url(url)
    connection = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password, database=parsed.database
    )
    try:
        ended = await connection.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert ended >= 1
    finally:
        await connection.close()


async def _read(database: Database) -> None:
    """A read through a session, on SQLAlchemy's pool (a unit of work's first driver read would take asyncpg's own
    pool instead: the last test here)."""
    async with database.unit_of_work() as uow:
        assert await uow.accounts.get_by_email_index(f"idx-{uuid.uuid4()}") is None


async def test_a_restart_while_idle_is_noticed_before_use(
    pooled: tuple[Database, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, url = pooled
    clock = Monotonic(database_module.time)
    monkeypatch.setattr(database_module, "time", clock)
    await _read(database)
    await _restart(url)
    clock.ahead = PING_AFTER_IDLE_SECONDS + 1
    await _read(database)  # pinged, found dead, replaced: the read succeeds


async def test_a_restart_under_load_fails_one_unit_of_work_then_the_pool_is_new(pooled: tuple[Database, str]) -> None:
    database, url = pooled
    await _read(database)
    await _restart(url)
    with pytest.raises(StoreUnavailable):
        await _read(database)  # used moments ago: not pinged; the failure answers 503 with Retry-After
    await _read(database)


async def test_a_restart_costs_a_read_only_unit_of_work_at_most_one_failure(pooled: tuple[Database, str]) -> None:
    """A reader's hot reads run straight on asyncpg's own pool (``driver_pool.DriverPool``): a connection the
    server ended is noticed when its socket closes and replaced before use, or else fails the one read that finds it
    gone (503) and is never handed out again (``tests/integration/test_driver_pool.py`` ends one mid-statement)."""

    async def read() -> None:
        async with database.reader() as uow:
            assert await uow.accounts.get(uuid.uuid4()) is None

    database, url = pooled
    await read()
    await _restart(url)
    failures = 0
    for _ in range(4):
        try:
            await read()
        except StoreUnavailable:
            failures += 1
    assert failures <= 1
    await read()


async def test_a_reader_holds_one_connection_whatever_the_order_of_its_reads(postgres_server_url: str) -> None:
    """A reader never holds a connection while it waits for another, whatever the order of its driver reads and its
    session's reads: with pools of one, a unit of work holding one and waiting for a second would wait for itself (a
    full pool, deadlocked). A driver read holds a reader connection for its one statement, or uses the connection
    the session already holds. A writer's reads before its session holds a connection, and its appends sent with
    its commit, take the driver pool's connection for one piece of work each, in every order with its session's."""
    url = await _create_postgres_database(postgres_server_url)
    await upgrade(url)
    database = bootstrap.sql_database(url, pool_size=1, max_overflow=0)
    try:
        for _ in range(3):
            async with asyncio.timeout(10), database.reader() as uow:
                assert await uow.accounts.get(uuid.uuid4()) is None  # a driver read first
                assert await uow.accounts.get_by_email_index("nobody") is None  # then the session's
                assert await uow.subject_keys.get(uuid.uuid4()) is None  # a driver read again
            async with asyncio.timeout(10), database.reader() as uow:
                assert await uow.accounts.get_by_email_index("nobody") is None  # the session's first
                assert await uow.accounts.get(uuid.uuid4()) is None
            async with asyncio.timeout(10), database.unit_of_work() as uow:  # and the pool's one connection is free
                assert await uow.accounts.get(uuid.uuid4()) is None
            subject = uuid.uuid4()
            async with asyncio.timeout(10), database.unit_of_work() as uow:  # a writer: a driver read, an append
                assert await uow.consent_records.latest_for_subject(subject) is None  # on the driver pool
                await uow.consent_records.add_many([consent_record(AT, subject_id=subject)])  # waits for the commit
                await uow.commit()  # sent on the driver pool
            async with asyncio.timeout(10), database.unit_of_work() as uow:  # the session's connection, then reads
                await uow.consent_records.add_many([consent_record(AT, subject_id=subject)])
                assert await uow.accounts.get_by_email_index("nobody") is None  # sends the append, then reads
                assert len(await uow.consent_records.page_for_subject(subject, 5)) == 2  # on the session's
                await uow.consent_records.add_many([consent_record(AT, subject_id=subject)])  # in its transaction
                await uow.commit()
            async with asyncio.timeout(10), database.reader() as uow:
                assert len(await uow.consent_records.history_for_subject(subject)) == 3
    finally:
        await database.dispose()
        await _drop_postgres_database(postgres_server_url, url)
