"""Wiring unit of the children's flow (policy section 9): reports that an account belongs to a child, received
sealed and matched seconds later (the account put under age review, its generations stopped; a staff account's
report escalated to admins), the holder's statement, and the staff decisions (a confirmation erases the account
through the data-rights saga)."""

from __future__ import annotations

from dataclasses import dataclass

from dreamina.adapters.memory import child_reports as memory_child_reports
from dreamina.adapters.sql import repositories_child_reports
from dreamina.domain.identity.child_report_data import CHILD_REPORT_DATA
from dreamina.domain.identity.child_report_intake import ChildReportIntake
from dreamina.domain.identity.child_report_matching import ChildReportMatching
from dreamina.domain.identity.child_report_review import ChildReportReview
from dreamina.domain.identity.child_report_statement import AgeReviewStatements
from dreamina.domain.identity.retention import ClosedChildReportContacts, ExpiredChildReports, UnmatchedChildReports
from dreamina.ports.child_reports import ChildErasure, GenerationStopper
from dreamina.wiring.infrastructure import Infrastructure
from dreamina.wiring.kit import Contributions, ModuleParts

PARTS = ModuleParts(
    name="children",
    data=CHILD_REPORT_DATA,
    sql=repositories_child_reports.REPOSITORIES,
    memory=(memory_child_reports.STORES,),
)


@dataclass(frozen=True, slots=True)
class ChildrenModule:
    """The children's flow: reports from anyone, and the staff who decide them."""

    intake: ChildReportIntake
    matching: ChildReportMatching  # run every few seconds (embedded: this process; production: the privacy worker)
    statements: AgeReviewStatements
    review: ChildReportReview
    contributes: Contributions


def wire_children(infra: Infrastructure, *, generations: GenerationStopper, erasure: ChildErasure) -> ChildrenModule:
    return ChildrenModule(
        intake=ChildReportIntake(
            uow=infra.uow,
            vault=infra.vault,
            cipher=infra.cipher,
            clock=infra.clock,
            attempts=infra.attempts,
        ),
        matching=ChildReportMatching(
            uow=infra.uow,
            vault=infra.vault,
            cipher=infra.cipher,
            keyrings=infra.keyrings,
            mail=infra.mail,
            clock=infra.clock,
            generations=generations,
        ),
        statements=AgeReviewStatements(uow=infra.uow, keyrings=infra.keyrings, clock=infra.clock),
        review=ChildReportReview(
            uow=infra.uow,
            vault=infra.vault,
            cipher=infra.cipher,
            clock=infra.clock,
            mail=infra.mail,
            erasure=erasure,
            keyrings=infra.keyrings,
            jurisdictions=infra.jurisdictions,
        ),
        contributes=Contributions(
            retention=(
                ClosedChildReportContacts(infra.uow),
                ExpiredChildReports(infra.uow),
                UnmatchedChildReports(infra.uow),
            ),
        ),
    )
