"""Migrations on SQLite and PostgreSQL: every revision upgrades, downgrades and upgrades again ("stairway"),
and head matches the models exactly."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from dreamina.adapters.sql.database import (
    alembic_config,
    compare_type,
    downgrade,
    include_name,
    include_object_on,
    migration_engine,
    upgrade,
)
from dreamina.adapters.sql.schema import metadata


def revisions_oldest_first() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


async def _inspect(url: str, check: Any) -> Any:
    engine = migration_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(check)
    finally:
        await engine.dispose()


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": compare_type,
            "include_name": include_name,
            "include_object": include_object_on(connection.dialect.name),
        },
    )
    return list(compare_metadata(context, metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def test_there_is_one_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert revisions_oldest_first()


async def test_stairway(empty_database_url: str) -> None:
    url = empty_database_url
    for revision in revisions_oldest_first():
        await upgrade(url, revision)
        await downgrade(url, "-1")
        await upgrade(url, revision)
        assert await _inspect(url, _current_revision) == revision
    await upgrade(url, "head")
    assert await _inspect(url, _schema_differences) == []


async def test_downgrade_to_base_drops_every_table(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url)
    assert await _inspect(url, _table_names) >= {table.name for table in metadata.sorted_tables}
    await downgrade(url, "base")
    assert await _inspect(url, _table_names) == {"alembic_version"}
    assert await _inspect(url, _current_revision) is None
