"""A unit of work: the repositories of one transaction, committed or rolled back together."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from dreamina.ports.audit import AuditLog
from dreamina.ports.billing import BillingRepository
from dreamina.ports.disclosures import DisclosureLedger
from dreamina.ports.identity import AccountRepository, SessionRepository
from dreamina.ports.keys import SubjectKeyRepository
from dreamina.ports.policy import PolicyAcceptanceRepository, PolicyVersionRepository


class UnitOfWork(Protocol):
    """Use as ``async with uow_factory() as uow: ...; await uow.commit()``; leaving without commit rolls back."""

    accounts: AccountRepository
    sessions: SessionRepository
    subject_keys: SubjectKeyRepository
    policies: PolicyVersionRepository
    acceptances: PolicyAcceptanceRepository
    audit: AuditLog
    disclosures: DisclosureLedger
    billing: BillingRepository

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
