"""Wiring of the privacy kernel: its own stores (data keys, audit trail, disclosure ledger), and the parts the
root joins from every module (the data map, the retention sweep), and the disclosure ledger as subjects read it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dreamina.adapters.mail.outbox import ExpiredOutboxFiles
from dreamina.adapters.memory import idempotency as memory_idempotency
from dreamina.adapters.memory import kernel as memory_kernel
from dreamina.adapters.memory import outbox as memory_outbox
from dreamina.adapters.sql import repositories_idempotency, repositories_kernel, repositories_mail
from dreamina.domain.privacy.audit_trail import AuditTrail
from dreamina.domain.privacy.datamap import DataMap
from dreamina.domain.privacy.disclosures import DisclosureHistory
from dreamina.domain.privacy.idempotency import ExpiredKeptAnswers, KeptAnswers
from dreamina.domain.privacy.kernel_data import KERNEL_DATA
from dreamina.domain.privacy.mail import UndeliverableMail
from dreamina.domain.privacy.processors import EMAIL_DELIVERY, HOSTING, OBJECT_STORAGE, PROCESSORS
from dreamina.domain.privacy.retention import RetentionSweep
from dreamina.settings import Settings
from dreamina.wiring.infrastructure import Infrastructure
from dreamina.wiring.kit import Contributions, ModuleParts

PARTS = ModuleParts(
    name="privacy",
    data=KERNEL_DATA,
    sql={**repositories_kernel.REPOSITORIES, **repositories_mail.REPOSITORIES, **repositories_idempotency.REPOSITORIES},
    memory=(memory_kernel.STORES, memory_outbox.STORES, memory_idempotency.STORES),
)


@dataclass(frozen=True, slots=True)
class PrivacyKernel:
    """What every module declared, joined: the data map (with the retention schedule) and the sweep enforcing it."""

    data_map: DataMap  # as configured: only the processors this configuration hands data to (the public record)
    retention: RetentionSweep
    disclosures: DisclosureHistory
    kept_answers: KeptAnswers  # the answers retries with the same Idempotency-Key get
    audit_trail: AuditTrail  # the trail as staff search and export it (each read audited)


def kernel_contributions(infra: Infrastructure) -> Contributions:
    """The kernel's own retention tasks: mail the relay kept refusing is given up; outbox files are swept; kept
    Idempotency-Key answers expire."""
    outbox_files = ExpiredOutboxFiles(infra.settings.resolved_mail_outbox)
    return Contributions(retention=(UndeliverableMail(infra.uow), outbox_files, ExpiredKeptAnswers(infra.uow)))


def data_map_of(parts: Sequence[ModuleParts]) -> DataMap:
    """The data map every module's declaration adds up to (G1)."""
    return DataMap.compose(PROCESSORS, (part.data for part in parts))


def processors_in_use(settings: Settings, wired: Iterable[str | None]) -> frozenset[str]:
    """The processors this configuration hands personal data to: those the wired adapters name (model providers,
    the payment processor; None for one that keeps everything here), the SMTP relay, the S3 object store, and the
    production profile's hosting. The embedded profile's outbox, local files, sandbox and offline renderer: none."""
    in_use = {processor for processor in wired if processor is not None}
    if settings.mail_backend == "smtp":
        in_use.add(EMAIL_DELIVERY)
    if settings.object_store == "s3":
        in_use.add(OBJECT_STORAGE)
    if settings.profile == "production":
        in_use.add(HOSTING)
    return frozenset(in_use)
