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
from dreamina.adapters.sql.repositories_child_reports import SqlChildReportRepository
from dreamina.adapters.sql.repositories_consent import (
    SqlAnalyticsEventStore,
    SqlConsentRecordRepository,
    SqlObjectionRepository,
    SqlPolicyNoticeRepository,
    SqlStaffRepository,
)
from dreamina.adapters.sql.repositories_data_rights import (
    SqlErasureCompletionRepository,
    SqlPrivacyJobRepository,
    SqlPrivacyRequestRepository,
    SqlProcessingRestrictions,
    SqlRequestEventRepository,
)
from dreamina.adapters.sql.repositories_generation import (
    SqlGenerationRepository,
    SqlUploadRepository,
)
from dreamina.adapters.sql.repositories_support import SqlSupportTicketRepository
from dreamina.ports.audit import AuditLog
from dreamina.ports.billing import BillingRepository
from dreamina.ports.child_reports import ChildReportRepository
from dreamina.ports.consent import (
    AnalyticsEventStore,
    ConsentRecordRepository,
    ObjectionRepository,
    PolicyNoticeRepository,
)
from dreamina.ports.data_rights import (
    ErasureCompletionRepository,
    PrivacyJobRepository,
    PrivacyRequestRepository,
    RequestEventRepository,
)
from dreamina.ports.disclosures import DisclosureLedger
from dreamina.ports.generation import GenerationRepository, UploadRepository
from dreamina.ports.identity import AccountRepository, SessionRepository
from dreamina.ports.keys import SubjectKeyRepository
from dreamina.ports.policy import PolicyAcceptanceRepository, PolicyVersionRepository
from dreamina.ports.restrictions import ProcessingRestrictions
from dreamina.ports.staff import StaffRepository
from dreamina.ports.support import SupportTicketRepository


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
    consent_records: ConsentRecordRepository
    objections: ObjectionRepository
    policy_notices: PolicyNoticeRepository
    analytics_events: AnalyticsEventStore
    staff: StaffRepository
    privacy_requests: PrivacyRequestRepository
    privacy_request_events: RequestEventRepository
    privacy_jobs: PrivacyJobRepository
    erasure_completions: ErasureCompletionRepository
    uploads: UploadRepository
    generations: GenerationRepository
    restrictions: ProcessingRestrictions
    billing: BillingRepository
    child_reports: ChildReportRepository
    support_tickets: SupportTicketRepository

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
        self.consent_records = SqlConsentRecordRepository(session)
        self.objections = SqlObjectionRepository(session)
        self.policy_notices = SqlPolicyNoticeRepository(session)
        self.analytics_events = SqlAnalyticsEventStore(session)
        self.staff = SqlStaffRepository(session)
        self.privacy_requests = SqlPrivacyRequestRepository(session)
        self.privacy_request_events = SqlRequestEventRepository(session)
        self.privacy_jobs = SqlPrivacyJobRepository(session)
        self.erasure_completions = SqlErasureCompletionRepository(session)
        self.uploads = SqlUploadRepository(session)
        self.generations = SqlGenerationRepository(session)
        self.restrictions = SqlProcessingRestrictions(session)
        self.billing = SqlBillingRepository(session)
        self.child_reports = SqlChildReportRepository(session)
        self.support_tickets = SqlSupportTicketRepository(session)
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
