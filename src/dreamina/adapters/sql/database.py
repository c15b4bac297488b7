"""The database handle (engine + session factory) and the programmatic alembic commands.

One URL picks the backend: ``sqlite+aiosqlite:///path/to/file.db`` (embedded profile) or
``postgresql+asyncpg://user:password@host/db`` (production). Plain ``sqlite:///`` and ``postgresql://`` URLs
are accepted too and get the async driver.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any, cast

import msgspec
from advanced_alchemy.types import GUID
from alembic import command
from alembic.config import Config
from sqlalchemy import BINARY, NUMERIC, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from dreamina.adapters.sql.driver_pool import DriverPool
from dreamina.adapters.sql.partitions import is_partition
from dreamina.adapters.sql.principal_cache import INFO_KEY as CACHE_INFO_KEY
from dreamina.adapters.sql.principal_cache import NOTIFY_KEY, PrincipalCache, RevocationListener
from dreamina.adapters.sql.repository_kit import SqlRepositories
from dreamina.adapters.sql.sqlite_driver import OneCallDbapi
from dreamina.adapters.sql.sqlite_reads import SqliteReads
from dreamina.adapters.sql.unit_of_work import SqliteWriterTurns, SqlUnitOfWork
from dreamina.domain.privacy.errors import StoreBusy
from dreamina.ports.unit_of_work import UnitOfWork

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""The migration scripts ship inside the package, so a non-editable install can upgrade its database too."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite write waits for another *process's* write (the CLI, a privacy worker) before giving up."""
PING_TIMEOUT_SECONDS = 5.0

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def async_url(url: str | URL) -> URL:
    """``url`` with the async driver this project uses for its backend."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(database)


def _prepare_sqlite_file(url: URL) -> None:
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool, immediate: bool = False) -> None:
    """WAL, a busy timeout and real transactions (SAVEPOINT, transactional DDL) on every SQLite connection.

    The driver's own transaction handling is switched off and ``BEGIN`` emitted by us instead, so SAVEPOINT works.
    ``immediate``: the engine's transactions are write transactions and take SQLite's write lock when they begin
    (``BEGIN IMMEDIATE``), so a transaction never reads a snapshot it later cannot upgrade to a write — the cause of
    "database is locked" under concurrent writes; another process's writer is waited for up to the busy timeout.
    Migrations run with foreign keys off: batch mode recreates tables, and with the pragma on, dropping a parent
    table would cascade into its children.
    """
    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: Any) -> None:
        # Another process held the write lock past the busy timeout: nothing was written, callers may retry.
        original = context.original_exception
        if isinstance(original, sqlite3.OperationalError) and "database is locked" in str(original):
            raise StoreBusy("the database is busy with another write; try again") from original


# SQLite: each statement one call on aiosqlite's thread, not four (sqlite_driver.py).
_ONE_CALL: dict[str, Any] = {"module": OneCallDbapi()}


def migration_engine(url: str | URL) -> AsyncEngine:
    """A throwaway engine for alembic (no pool; on SQLite the whole upgrade is one transaction)."""
    target = async_url(url)
    _prepare_sqlite_file(target)
    sqlite = target.get_backend_name() == "sqlite"
    engine = create_async_engine(target, poolclass=NullPool, **(_ONE_CALL if sqlite else {}))
    if sqlite:
        configure_sqlite(engine, foreign_keys=False)
    return engine


PING_AFTER_IDLE_SECONDS = 5.0

# JSON columns (and asyncpg's JSONB codec, which SQLAlchemy's dialect installs) are read with msgspec's decoder: the
# same values as the standard library's for any JSON (arbitrary integers, floats, escapes, a repeated key's last
# value), six times faster; a page of 20 generations decodes 40 documents. Writing stays with ``json.dumps``.
_JSON: dict[str, Any] = {"json_deserializer": msgspec.json.decode}


def ping_when_idle(engine: AsyncEngine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Pessimistic disconnect handling without a round trip per unit of work: a pooled connection is pinged on
    checkout only if it sat idle for ``idle_seconds`` (a database restarted meanwhile is noticed before use, and the
    pool replaces the connection: SQLAlchemy's "Disconnect Handling - Pessimistic" with a custom ping in the
    ``checkout`` event). ``pool_pre_ping`` pinged every checkout: under load, a third of a read's round trips."""

    @event.listens_for(engine.sync_engine, "checkin")
    def idle_since(_dbapi_connection: Any, record: Any) -> None:
        record.info["dreamina_idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("dreamina_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # just connected, or in use moments ago
        try:
            dbapi_connection.ping()
        except Exception as error:  # the pool discards it and connects anew (up to three times)
            raise DisconnectionError() from error


class Database:
    """Owns the async engine and the session factory; hands out units of work."""

    def __init__(
        self,
        url: str,
        repositories: SqlRepositories,
        echo: bool = False,
        *,
        pooled: bool = True,
        pool_size: int = 20,
        max_overflow: int = 0,
        principal_cache_seconds: float = 5.0,
    ) -> None:
        """``repositories``: every module's, by name in the unit of work (the composition root joins them).

        ``pooled=False`` (PostgreSQL) opens a connection per unit of work: for an external pooler such
        as PgBouncer, or for callers on several event loops (an asyncpg connection is bound to its loop).
        """
        self.url = async_url(url)
        self._repositories = repositories
        self._readers: DriverPool | None = None
        self._sqlite_reads: SqliteReads | None = None
        self._writer_turns: SqliteWriterTurns | None = None
        if self.url.get_backend_name() == "sqlite":
            _prepare_sqlite_file(self.url)
            # ``engine``: reads outside units of work (health checks, tests) and nested units of work, deferred.
            # Sized as PostgreSQL's pool: with SQLAlchemy's default (5, and 10 more made and closed on demand), a
            # busy reader path made a connection, its thread and its pragmas for every request past the fifth.
            self.engine = create_async_engine(
                self.url,
                echo=echo,
                hide_parameters=True,
                pool_size=pool_size,
                max_overflow=max_overflow,
                **_JSON,
                **_ONE_CALL,
            )
            configure_sqlite(self.engine, foreign_keys=True)
            # Units of work take turns (SqliteWriterTurns) on one connection that begins IMMEDIATE.
            writer = create_async_engine(
                self.url, echo=echo, hide_parameters=True, pool_size=1, max_overflow=0, **_JSON, **_ONE_CALL
            )
            configure_sqlite(writer, foreign_keys=True, immediate=True)
            self._writer_turns = SqliteWriterTurns()
            path = _sqlite_file(self.url)
            if path is not None:  # readers' driver reads, one call each on a thread (not for an in-memory database)
                self._sqlite_reads = SqliteReads(path, writer.dialect, busy_timeout_ms=SQLITE_BUSY_TIMEOUT_MS)
        elif not pooled:
            self.engine = writer = create_async_engine(
                self.url, echo=echo, poolclass=NullPool, hide_parameters=True, **_JSON
            )
        else:
            self.engine = writer = create_async_engine(
                self.url,
                echo=echo,
                hide_parameters=True,  # error messages must not carry personal data into logs
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_recycle=1800,
                **_JSON,
            )
            ping_when_idle(writer)
            # Read-only units of work's driver reads: asyncpg's own pool, as large as this one (driver_pool.py).
            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._readers = DriverPool(dsn, writer.dialect, size=pool_size + max_overflow)
        self._writer = writer
        # Shared by every unit of work of this process (see principal_cache.py).
        postgres = self.url.get_backend_name() != "sqlite"
        self.principal_cache = PrincipalCache(principal_cache_seconds, needs_listener=postgres)
        info: dict[str, Any] = {CACHE_INFO_KEY: self.principal_cache, NOTIFY_KEY: postgres}
        self.session_factory = async_sessionmaker(writer, expire_on_commit=False, autoflush=False, info=info)
        self._nested_factory = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False, info=info)
        # Read-only units of work: on SQLite a deferred reader beside the writer; on PostgreSQL the same pool in
        # autocommit (no BEGIN and ROLLBACK round trips around a read), where anything but a read is refused.
        self._reading = self.engine if not postgres else read_only_engine(writer)
        self._reader_factory = async_sessionmaker(self._reading, expire_on_commit=False, autoflush=False, info=info)

    def revocation_listener(self) -> RevocationListener | None:
        """On PostgreSQL, what lets this process's token cache work: started and closed by the process's owner."""
        if self.url.get_backend_name() == "sqlite" or self.principal_cache.ttl <= 0:
            return None
        dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return RevocationListener(dsn, self.principal_cache)

    @property
    def unit_of_work_engine(self) -> AsyncEngine:
        """The engine units of work run on (on SQLite the writer's; elsewhere ``engine`` itself)."""
        return self._writer

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    def unit_of_work(self) -> UnitOfWork:
        # The stores are attached by name (see SqlUnitOfWork), which the type checker cannot follow.
        return cast(
            UnitOfWork,
            SqlUnitOfWork(
                self.session_factory,
                self._repositories,
                turns=self._writer_turns,
                nested_factory=self._nested_factory,
                driver_engine=None if self.backend == "sqlite" else self._reading,
                readers=self._readers,
            ),
        )

    def reader(self) -> UnitOfWork:
        """A read-only unit of work: on SQLite it reads beside the writer (no writer turn), so reads never queue
        behind writes; on PostgreSQL each read is its own statement (autocommit: no BEGIN/ROLLBACK round trips) and
        a write is refused before it is sent; its ``commit`` is refused (:func:`~dreamina.ports.unit_of_work.
        reader_of`)."""
        return cast(
            UnitOfWork,
            SqlUnitOfWork(
                self.session_factory,
                self._repositories,
                nested_factory=self._reader_factory,
                read_only=True,
                driver_engine=None if self.backend == "sqlite" else self._reading,
                readers=self._readers,
                sqlite_reads=self._sqlite_reads,
            ),
        )

    async def ping(self) -> bool:
        """True if the database answers ``SELECT 1`` within a few seconds."""
        try:
            async with asyncio.timeout(PING_TIMEOUT_SECONDS), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True

    async def dispose(self) -> None:
        if self._readers is not None:
            await self._readers.close()
        if self._sqlite_reads is not None:
            await self._sqlite_reads.close()
        await self.engine.dispose()
        if self._writer is not self.engine:
            await self._writer.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"


def compare_type(
    context: Any, inspected_column: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """Alembic's type comparison minus one false alarm: SQLite reflects GUID's ``BINARY(16)`` as NUMERIC."""
    if (
        isinstance(metadata_type, GUID)
        and context.dialect.name == "sqlite"
        and isinstance(inspected_type, NUMERIC | BINARY)
    ):
        return False
    return None  # alembic's default comparison


_IGNORED_TABLE_PREFIXES = ("saq_",)  # SAQ's PostgreSQL queue manages its own tables


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic filter: leave tables we do not own (SAQ's) and the partitions of the partitioned tables (PostgreSQL,
    ``partitions.py``: made by the retention sweep, not by the models) out of autogenerate and comparisons."""
    return not (
        type_ == "table" and name is not None and (name.startswith(_IGNORED_TABLE_PREFIXES) or is_partition(name))
    )


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return include_name(name, type_, None)


def made_on(item: Any, dialect: str) -> bool:
    """Whether the models make ``item`` (an index, a constraint) on ``dialect``: yes, unless its ``ddl_if`` names
    other dialects (``ix_analytics_events_day``: SQLite only)."""
    condition = getattr(item, "_ddl_if", None)
    wanted = None if condition is None else condition.dialect
    if wanted is None:
        return True
    return dialect == wanted if isinstance(wanted, str) else dialect in wanted


def include_object_on(dialect: str) -> Any:
    """Alembic filter for a database of ``dialect``: :func:`include_object`, and no model index or constraint that
    the models do not make on ``dialect`` (alembic's comparison does not read ``ddl_if``; ``create_all`` does)."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if not reflected and type_ in ("index", "unique_constraint") and not made_on(obj, dialect):
            return False
        return include_object(obj, name, type_, reflected, compare_to)

    return include


def alembic_config(url: str | URL | None = None) -> Config:
    """An alembic ``Config`` built in code: the packaged migrations, and ``url`` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = async_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))  # ConfigParser interpolation
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    # alembic's env.py runs its own event loop, so the command runs in a worker thread.
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)


async def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (e.g. ``"-1"`` or ``"base"``)."""
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


def read_only_engine(engine: AsyncEngine) -> AsyncEngine:
    """``engine``'s pool in autocommit, for read-only units of work: every statement that is not a read is refused
    before it reaches the database (in autocommit it would be kept at once, and a reader's commit is refused)."""
    reading = engine.execution_options(isolation_level="AUTOCOMMIT")

    def refuse_writes(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip()[:6].upper().startswith(("SELECT", "WITH")):
            raise RuntimeError("a read-only unit of work cannot write; use a unit of work that may write")

    event.listen(reading.sync_engine, "before_cursor_execute", refuse_writes)
    return reading
