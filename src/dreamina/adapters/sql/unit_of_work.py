"""The SQL unit of work: one ``AsyncSession`` (one transaction) shared by every module's repositories."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dreamina.adapters.sql.repository_kit import SqlRepositories


class SqlUnitOfWork:
    """:class:`~dreamina.ports.unit_of_work.UnitOfWork` over SQL; leaving without ``commit()`` rolls back.

    Single use: each ``async with`` needs a fresh instance (``Database.unit_of_work()`` makes one). The repositories
    are the ones every module contributes (``REPOSITORIES`` of each ``repositories_<module>.py``), attached by name
    when the unit of work begins; ``tests/unit/test_unit_of_work_stores.py`` proves they cover every store the
    port names.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], repositories: SqlRepositories) -> None:
        self._session_factory = session_factory
        self._repositories = repositories
        self._session: AsyncSession | None = None
        self._used = False

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._used:
            raise RuntimeError("a unit of work is single use; make a new one")
        self._used = True
        session = self._session_factory()
        self._session = session
        for name, make in self._repositories.items():
            setattr(self, name, make(session))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session = self._require_session()
        self._session = None
        try:
            await session.rollback()  # a no-op after commit; discards anything written since
        finally:
            await session.close()

    async def commit(self) -> None:
        await self._require_session().commit()

    async def rollback(self) -> None:
        await self._require_session().rollback()

    def _require_session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not active; use it as `async with uow: ...`")
        return self._session
