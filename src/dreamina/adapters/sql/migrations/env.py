"""Alembic environment: plain async, one history for SQLite (batch mode) and PostgreSQL.

The URL comes from the Config's ``sqlalchemy.url`` or, failing that, ``DREAMINA_DATABASE_URL``. A caller that
already holds a connection can pass it as ``config.attributes["connection"]``.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from dreamina.adapters.sql.database import (
    async_url,
    compare_type,
    include_name,
    include_object_on,
    migration_engine,
)
from dreamina.adapters.sql.schema import metadata

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DREAMINA_DATABASE_URL")
    if not url:
        raise RuntimeError("set sqlalchemy.url in the alembic config or DREAMINA_DATABASE_URL")
    return url


def _configure(dialect: str, **options: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        include_name=include_name,
        include_object=include_object_on(dialect),
        compare_type=compare_type,
        **options,
    )


def run_migrations_offline() -> None:
    url = async_url(_database_url())
    _configure(
        url.get_backend_name(),
        url=url.render_as_string(hide_password=False),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    _configure(connection.dialect.name, connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = migration_engine(_database_url())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
