"""Wiring unit of abuse reports (policy section 3, preventing abuse): reports about generations from anyone,
received sealed and matched seconds later, and the staff queue whose takedown removes a generation through the
generation module's own deletion path."""

from __future__ import annotations

from dataclasses import dataclass

from dreamina.adapters.memory import abuse_reports as memory_abuse_reports
from dreamina.adapters.output_links import StoreOutputLinks
from dreamina.adapters.sql import repositories_abuse_reports
from dreamina.domain.generation.abuse_intake import AbuseReportIntake
from dreamina.domain.generation.abuse_matching import AbuseReportMatching
from dreamina.domain.generation.abuse_report_data import ABUSE_REPORT_DATA
from dreamina.domain.generation.abuse_report_privacy import (
    AbuseReportPersonalData,
    ClosedAbuseReportContacts,
    ExpiredAbuseReports,
    UnmatchedAbuseReports,
)
from dreamina.domain.generation.abuse_review import AbuseReportReview
from dreamina.domain.generation.generations import Generations
from dreamina.wiring.infrastructure import Infrastructure
from dreamina.wiring.kit import Contributions, ModuleParts

PARTS = ModuleParts(
    name="abuse_reports",
    data=ABUSE_REPORT_DATA,
    sql=repositories_abuse_reports.REPOSITORIES,
    memory=(memory_abuse_reports.STORES,),
)


@dataclass(frozen=True, slots=True)
class AbuseModule:
    """Abuse reports: the public intake, the matcher, and the staff who decide."""

    intake: AbuseReportIntake
    matching: AbuseReportMatching  # run every few seconds (embedded: this process; production: the privacy worker)
    review: AbuseReportReview
    contributes: Contributions


def wire_abuse(infra: Infrastructure, *, generations: Generations) -> AbuseModule:
    return AbuseModule(
        intake=AbuseReportIntake(
            uow=infra.uow,
            vault=infra.vault,
            cipher=infra.cipher,
            clock=infra.clock,
            attempts=infra.attempts,
            links=StoreOutputLinks(infra.object_store),
        ),
        matching=AbuseReportMatching(uow=infra.uow, vault=infra.vault, cipher=infra.cipher, clock=infra.clock),
        review=AbuseReportReview(
            uow=infra.uow,
            vault=infra.vault,
            cipher=infra.cipher,
            keyrings=infra.keyrings,
            clock=infra.clock,
            mail=infra.mail,
            generations=generations,
        ),
        contributes=Contributions(
            holders=(
                AbuseReportPersonalData(uow=infra.uow, vault=infra.vault, cipher=infra.cipher, clock=infra.clock),
            ),
            retention=(
                ClosedAbuseReportContacts(infra.uow),
                ExpiredAbuseReports(infra.uow),
                UnmatchedAbuseReports(infra.uow),
            ),
        ),
    )
