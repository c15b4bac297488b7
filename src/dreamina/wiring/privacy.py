"""Wiring of the privacy kernel: its own stores (data keys, audit trail, disclosure ledger), and the parts the
root joins from every module (the data map, the retention sweep), and the disclosure ledger as subjects read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dreamina.adapters.mail.outbox import ExpiredOutboxFiles
from dreamina.adapters.memory import idempotency as memory_idempotency
from dreamina.adapters.memory import kernel as memory_kernel
from dreamina.adapters.memory import outbox as memory_outbox
from dreamina.adapters.sql import repositories_idempotency, repositories_kernel, repositories_mail
from dreamina.domain.privacy.datamap import DataMap
from dreamina.domain.privacy.disclosures import DisclosureHistory
from dreamina.domain.privacy.idempotency import ExpiredKeptAnswers, KeptAnswers
from dreamina.domain.privacy.kernel_data import KERNEL_DATA
from dreamina.domain.privacy.mail import UndeliverableMail
from dreamina.domain.privacy.processors import PROCESSORS
from dreamina.domain.privacy.retention import RetentionSweep
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

    data_map: DataMap
    retention: RetentionSweep
    disclosures: DisclosureHistory
    kept_answers: KeptAnswers  # the answers retries with the same Idempotency-Key get


def kernel_contributions(infra: Infrastructure) -> Contributions:
    """The kernel's own retention tasks: mail the relay kept refusing is given up; outbox files are swept; kept
    Idempotency-Key answers expire."""
    outbox_files = ExpiredOutboxFiles(infra.settings.resolved_mail_outbox)
    return Contributions(retention=(UndeliverableMail(infra.uow), outbox_files, ExpiredKeptAnswers(infra.uow)))


def data_map_of(parts: Sequence[ModuleParts]) -> DataMap:
    """The data map every module's declaration adds up to (G1)."""
    return DataMap.compose(PROCESSORS, (part.data for part in parts))
