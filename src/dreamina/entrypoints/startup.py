"""Start-up checks every process runs before it serves or works: the database answers (waiting a bounded time for
it, as a container started beside its database must), and its schema is the one this release needs.

A failure is one JSON line on stderr (``startup_failed``, what failed, a hint) and exit code 3, never a traceback.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from dreamina.adapters.sql.database import alembic_config, async_url
from dreamina.entrypoints.startup_failed import StartupFailed
from dreamina.settings import Settings

RETRY_SECONDS = 1.0


def _where(url: str) -> str:
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        return "the SQLite file"
    return f"PostgreSQL at {parsed.host}:{parsed.port or 5432}/{parsed.database}"  # no user, no password


async def _schema_revision(url: str, wait_seconds: float) -> str | None:
    """The database's alembic revision (None: never migrated), once it answers; waits up to ``wait_seconds``."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)  # the embedded profile makes its own file
    engine = create_async_engine(parsed, poolclass=NullPool)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
                    try:
                        found = await connection.execute(text("SELECT version_num FROM alembic_version"))
                    except SQLAlchemyError:
                        return None
                    return found.scalar()
            except (SQLAlchemyError, OSError, TimeoutError):
                if time.monotonic() >= deadline:
                    raise StartupFailed(
                        f"{_where(url)} did not answer within {wait_seconds:g} s",
                        "start the database, check DREAMINA_DATABASE_URL, or allow longer with "
                        "DREAMINA_STARTUP_WAIT_SECONDS",
                    ) from None
                await asyncio.sleep(RETRY_SECONDS)
    finally:
        await engine.dispose()


async def check_database(settings: Settings) -> None:
    """Wait for the database; unless this process migrates it itself, refuse a schema that is not the head."""
    url = settings.resolved_database_url
    revision = await _schema_revision(url, float(settings.startup_wait_seconds))
    if settings.resolved_auto_migrate:
        return  # the process upgrades it next
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision != head:
        raise StartupFailed(
            f"{_where(url)} has schema {revision or 'none (never migrated)'}, this release needs {head}",
            "run `dreamina db upgrade` (with the same DREAMINA_DATABASE_URL) before starting the service",
        )
