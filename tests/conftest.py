"""Shared fixtures: a unit of work and a database for every backend, migrated once per test session.

Backends: ``memory`` (the fakes), ``sqlite`` (a file per test, copied from a template migrated once) and
``postgres`` (one throwaway database per test session, migrated once, its tables truncated before each test).
PostgreSQL params carry the ``postgres`` marker and need ``DREAMINA_TEST_POSTGRES_URL`` (a server URL, e.g.
``postgresql+asyncpg://dreamina:dreamina@127.0.0.1:5432/postgres``); without it they are skipped, unless
``DREAMINA_REQUIRE_POSTGRES=1`` makes that a failure. Redis tests (``redis_url``) likewise need
``DREAMINA_TEST_REDIS_URL`` and fail instead of skipping under ``DREAMINA_REQUIRE_REDIS=1`` (the test command sets
both).
Each test uses keys or a queue of its own name: nothing shared with other tests is touched.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from dreamina import bootstrap
from dreamina.adapters.sql.database import Database, async_url, upgrade
from dreamina.adapters.sql.schema import metadata
from dreamina.bootstrap import memory_database
from dreamina.ports.unit_of_work import UnitOfWorkFactory

pytest_plugins = ["tests.log_audit", "tests.repository_bounds"]

T = TypeVar("T")

MEMORY = pytest.param("memory", id="memory")
SQLITE = pytest.param("sqlite", id="sqlite")
POSTGRES = pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C handled by a plain function rather than Python's default handler, with the same effect.

    ``asyncio.Runner.run`` (pytest-asyncio runs every async test and fixture step through one) installs a handler
    of its own only over the default one, and on its way out asks ``signal.getsignal`` whether that handler is still
    in place. ``getsignal`` tries to turn the handler into a ``signal.Handlers`` member; the failed lookup formats
    ``repr`` of it, and its repr holds the finished task's, whose result is the fixture's value: a whole container,
    repr'd field by field. That was an eighth of the CPU of an HTTP test (py-spy, tests/e2e/test_age_gate.py)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on a private event loop in a worker thread.

    Session-scoped setup runs here so no engine or connection stays bound to a pytest-asyncio loop that later
    tests do not run on.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _admin_execute(server_url: str, statement: str) -> None:
    engine = create_async_engine(async_url(server_url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _create_postgres_database(server_url: str) -> str:
    name = f"dreamina_test_{uuid.uuid4().hex[:16]}"
    await _admin_execute(server_url, f'CREATE DATABASE "{name}"')
    # A throwaway database needs no commit to reach the disk before it returns: the server is never killed in a test
    # (crash tests kill our processes, not PostgreSQL), and the suite spends much of its time waiting on commits.
    await _admin_execute(server_url, f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    return async_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(server_url: str, database_url: str) -> None:
    name = async_url(database_url).database
    await _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The PostgreSQL server to make throwaway databases on (``DREAMINA_TEST_POSTGRES_URL``)."""
    url = os.environ.get("DREAMINA_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("DREAMINA_REQUIRE_POSTGRES") == "1":
        pytest.fail("DREAMINA_REQUIRE_POSTGRES=1 but DREAMINA_TEST_POSTGRES_URL is not set", pytrace=False)
    pytest.skip("DREAMINA_TEST_POSTGRES_URL is not set")


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """The Redis database tests may use (``DREAMINA_TEST_REDIS_URL``), checked to answer."""
    from redis.asyncio import Redis

    url = os.environ.get("DREAMINA_TEST_REDIS_URL")
    if not url:
        if os.environ.get("DREAMINA_REQUIRE_REDIS") == "1":
            pytest.fail("DREAMINA_REQUIRE_REDIS=1 but DREAMINA_TEST_REDIS_URL is not set", pytrace=False)
        pytest.skip("DREAMINA_TEST_REDIS_URL is not set")
    client = Redis.from_url(url)
    try:
        await client.ping()
    finally:
        await client.aclose()
    yield url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "dreamina.db"
    run_blocking(upgrade(_sqlite_url(path)))
    return path


@pytest.fixture(scope="session")
def _postgres_session_database(postgres_server_url: str) -> Iterator[str]:
    """One database for the whole test session, migrated to head once and dropped at the end."""
    url = run_blocking(_create_postgres_database(postgres_server_url))
    try:
        run_blocking(upgrade(url))
        yield url
    finally:
        run_blocking(_drop_postgres_database(postgres_server_url, url))


_EMPTY_EVERY_TABLE = ";".join(
    f'DELETE FROM "{table.name}"'  # noqa: S608 - our own table names
    for table in reversed(metadata.sorted_tables)
)


async def _truncate_all(url: str) -> None:
    """Empty every table, dependants first, in one transaction and one round trip (a simple-query batch: 70 ms ->
    34 ms per test against one statement at a time). ``DELETE`` rather than ``TRUNCATE``: the tables hold a handful
    of rows, and ``TRUNCATE`` makes and syncs new files for all of them (measured: 230 ms against 26 ms per test)."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            await raw.driver_connection.execute(f"BEGIN;{_EMPTY_EVERY_TABLE};COMMIT")  # type: ignore[union-attr]
    finally:
        await engine.dispose()


async def _fresh_database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """A migrated, empty database of ``backend`` for one test."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        target = tmp_path / "db" / "dreamina.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
        return _sqlite_url(target)
    if backend == "postgres":
        url: str = request.getfixturevalue("_postgres_session_database")
        await _truncate_all(url)
        return url
    raise ValueError(f"unknown SQL backend {backend!r}")


@pytest.fixture(params=[SQLITE, POSTGRES])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a freshly migrated, empty database (SQLite file or the session's PostgreSQL database)."""
    return await _fresh_database_url(request, request.param, tmp_path)


@pytest.fixture
async def sql_database(database_url: str) -> AsyncIterator[Database]:
    """A :class:`Database` over ``database_url`` (sqlite and postgres params), disposed after the test."""
    database = bootstrap.sql_database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


RowCounter = Callable[[], Awaitable[dict[str, int]]]


@dataclass(frozen=True)
class _Store:
    unit_of_work: UnitOfWorkFactory
    row_counts: RowCounter


# Every table's row count in one statement (one round trip, not one per table).
_COUNT_EVERY_TABLE = select(
    *(select(func.count()).select_from(table).scalar_subquery().label(table.name) for table in metadata.sorted_tables)
)


async def _sql_row_counts(database: Database) -> dict[str, int]:
    async with database.engine.connect() as connection:
        return dict((await connection.execute(_COUNT_EVERY_TABLE)).one()._mapping)


@pytest.fixture(params=[MEMORY, SQLITE, POSTGRES])
async def _store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[_Store]:
    """One empty store per test, in memory, on SQLite or on PostgreSQL."""
    if request.param == "memory":
        memory = memory_database()

        async def memory_row_counts() -> dict[str, int]:
            return memory.row_counts()

        yield _Store(memory.unit_of_work, memory_row_counts)
        return
    # Pooled, as the service runs: the test, its fixtures and the app (tests/http_client.py) share one event loop.
    database = bootstrap.sql_database(await _fresh_database_url(request, request.param, tmp_path))
    try:
        yield _Store(database.unit_of_work, lambda: _sql_row_counts(database))
    finally:
        await database.dispose()


@pytest.fixture
def uow_factory(_store: _Store) -> UnitOfWorkFactory:
    """A callable returning a fresh unit of work over an empty store: in memory, SQLite or PostgreSQL."""
    return _store.unit_of_work


@pytest.fixture
def stored_rows(_store: _Store) -> RowCounter:
    """``await stored_rows()``: committed rows per table in the store ``uow_factory`` uses."""
    return _store.row_counts


@pytest.fixture(params=[SQLITE, POSTGRES])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a brand-new database with no tables at all (for migration tests); dropped afterwards."""
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path / "empty" / "dreamina.db")
        return
    server_url: str = request.getfixturevalue("postgres_server_url")
    url = await _create_postgres_database(server_url)
    try:
        yield url
    finally:
        await _drop_postgres_database(server_url, url)
