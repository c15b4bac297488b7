"""A unit of work: the repositories of one transaction, committed or rolled back together."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol

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


class UnitOfWork(Protocol):
    """Use as ``async with uow_factory() as uow: ...; await uow.commit()``; leaving without commit rolls back."""

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

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
