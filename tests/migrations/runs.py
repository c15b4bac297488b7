"""Running plain SQL against a migration test's database between upgrades and downgrades."""

from __future__ import annotations

from typing import Any

from dreamina.adapters.sql.database import migration_engine


async def run_sync(url: str, work: Any) -> Any:
    """``work(connection)`` in one committed transaction on a fresh engine for ``url``."""
    engine = migration_engine(url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()
