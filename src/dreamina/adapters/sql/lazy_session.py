"""A unit of work's session, made only when something other than its driver reads and deferred appends needs it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


class LazySession:
    """A unit of work's session on a pooled PostgreSQL database (or a reader's on SQLite), made on first use other
    than its driver reads and deferred appends (which read only its ``info``): a unit of work whose reads are all
    driver reads, and whose writes all waited for the commit, never makes one (making an ``AsyncSession`` cost a
    twentieth of ``GET /v1/me``'s CPU)."""

    def __init__(self, factory: Callable[[], AsyncSession], info: dict[str, Any]) -> None:
        self.info = info
        self.made: AsyncSession | None = None
        self._factory = factory

    def __getattr__(self, name: str) -> Any:
        session = self.made
        if session is None:
            session = self.made = self._factory()
            session.info.update(self.info)
            self.info = session.info
        return getattr(session, name)
