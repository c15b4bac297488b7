"""A unit of work: the repositories of one transaction, committed or rolled back together.

Each module's port file declares the stores it adds (``IdentityStores``, ``SupportStores``, ...); the unit of work is
all of them. The SQL and in-memory units of work attach the repositories each module's wiring unit contributes, and
a test proves every store named here is provided by both.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from dreamina.ports.abuse_reports import AbuseReportStores
from dreamina.ports.audit import AuditLog
from dreamina.ports.billing import BillingStores
from dreamina.ports.child_reports import ChildReportStores
from dreamina.ports.consent import ConsentStores
from dreamina.ports.data_rights import DataRightsStores
from dreamina.ports.disclosures import DisclosureLedger
from dreamina.ports.generation import GenerationStores
from dreamina.ports.idempotency import IdempotencyStores
from dreamina.ports.identity import IdentityStores
from dreamina.ports.keys import SubjectKeyRepository
from dreamina.ports.mail import OutboxStores
from dreamina.ports.marketing import MarketingStores
from dreamina.ports.moderation import ModerationStores
from dreamina.ports.payments import SandboxStores
from dreamina.ports.policy import PolicyStores
from dreamina.ports.processor_notices import ProcessorNotificationStores
from dreamina.ports.standing import StandingStores
from dreamina.ports.support import SupportStores
from dreamina.ports.tokens import TokenStores


class KernelStores(Protocol):
    """The privacy kernel's stores, written by every module: data keys, the audit trail, the disclosure ledger."""

    subject_keys: SubjectKeyRepository
    audit: AuditLog
    disclosures: DisclosureLedger


class UnitOfWork(
    KernelStores,
    OutboxStores,
    IdempotencyStores,
    IdentityStores,
    TokenStores,
    PolicyStores,
    SandboxStores,
    ConsentStores,
    MarketingStores,
    GenerationStores,
    ModerationStores,
    StandingStores,
    BillingStores,
    DataRightsStores,
    ProcessorNotificationStores,
    ChildReportStores,
    AbuseReportStores,
    SupportStores,
    Protocol,
):
    """Use as ``async with uow_factory() as uow: ...; await uow.commit()``; leaving without commit rolls back."""

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


def reader_of(units: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """The read-only units of work of the store ``units`` opens, where it has them (``Database.reader``: on SQLite
    they never wait for the writer, and their commit is refused); else ``units`` itself. For use cases that only
    read, on hot paths: ``GET /v1/me``, the generations list, the consent choice and history."""
    reader = getattr(getattr(units, "__self__", None), "reader", None)
    return reader if callable(reader) else units
