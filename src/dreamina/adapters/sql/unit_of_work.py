"""The SQL unit of work: one ``AsyncSession`` (one transaction) shared by every repository."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dreamina.adapters.sql.repositories import (
    SqlAccountRepository,
    SqlAuditLog,
    SqlDisclosureLedger,
    SqlPolicyAcceptanceRepository,
    SqlPolicyVersionRepository,
    SqlSessionRepository,
    SqlSubjectKeyRepository,
)
from dreamina.adapters.sql.repositories_billing import SqlBillingRepository
from dreamina.ports.audit import AuditLog
from dreamina.ports.billing import BillingRepository
from dreamina.ports.disclosures import DisclosureLedger
from dreamina.ports.identity import AccountRepository, SessionRepository
from dreamina.ports.keys import SubjectKeyRepository
from dreamina.ports.policy import PolicyAcceptanceRepository, PolicyVersionRepository


class SqlUnitOfWork:
    """:class:`~dreamina.ports.unit_of_work.UnitOfWork` over SQL; leaving without ``commit()`` rolls back.

    Single use: each ``async with`` needs a fresh instance (``Database.unit_of_work()`` makes one).
    """

    accounts: AccountRepository
    sessions: SessionRepository
    subject_keys: SubjectKeyRepository
    policies: PolicyVersionRepository
    acceptances: PolicyAcceptanceRepository
    audit: AuditLog
    disclosures: DisclosureLedger
    billing: BillingRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None
        self._used = False

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._used:
            raise RuntimeError("a unit of work is single use; make a new one")
        self._used = True
        session = self._session_factory()
        self._session = session
        self.accounts = SqlAccountRepository(session)
        self.sessions = SqlSessionRepository(session)
        self.subject_keys = SqlSubjectKeyRepository(session)
        self.policies = SqlPolicyVersionRepository(session)
        self.acceptances = SqlPolicyAcceptanceRepository(session)
        self.audit = SqlAuditLog(session)
        self.disclosures = SqlDisclosureLedger(session)
        self.billing = SqlBillingRepository(session)
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
