"""Wiring unit of the children's flow (policy section 9): reports that an account belongs to a child, which suspend
it at once (its generations stopped) and, once staff confirm, erase it through the data-rights saga."""

from __future__ import annotations

from dataclasses import dataclass

from dreamina.adapters.memory import child_reports as memory_child_reports
from dreamina.adapters.sql import repositories_child_reports
from dreamina.domain.identity.child_report_data import CHILD_REPORT_DATA
from dreamina.domain.identity.child_report_intake import ChildReportIntake
from dreamina.domain.identity.child_report_review import ChildReportReview
from dreamina.domain.identity.retention import ClosedChildReportContacts, ExpiredChildReports
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
            generations=generations,
        ),
        review=ChildReportReview(
            uow=infra.uow,
            vault=infra.vault,
            cipher=infra.cipher,
            clock=infra.clock,
            mail=infra.mail,
            erasure=erasure,
        ),
        contributes=Contributions(
            retention=(ClosedChildReportContacts(infra.uow), ExpiredChildReports(infra.uow)),
        ),
    )
