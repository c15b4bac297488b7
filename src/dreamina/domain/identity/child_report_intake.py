"""Reports that an account belongs to a child, from anyone, signed in or not (policy section 9, G8).

The route does the same work whether or not the account exists, so neither its answer nor its timing says which:
the report is counted against its reporter and its target (keyed hashes; past either limit, 429 for any target),
sealed whole with a key of its own and put in the inbox. Nothing looks for the account before the answer; matching
(:mod:`~dreamina.domain.identity.child_report_matching`) does it seconds later and files the report or drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from dreamina.domain.identity.child_report_filing import ChildReportRules
from dreamina.domain.privacy.errors import InvalidInput
from dreamina.domain.privacy.sealed_inbox import ReportSeal, ReportThrottle
from dreamina.domain.privacy.validation import clean_text, normalise_email
from dreamina.ports.clock import Clock
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.security import AttemptCounter
from dreamina.ports.unit_of_work import UnitOfWorkFactory

RELATIONSHIPS = ("parent", "guardian", "other")
MAX_DETAILS = 2000
INBOX = "child_report_inbox"


@dataclass(frozen=True, slots=True)
class IncomingReport:
    """What a reporter sends: the account (its email or its id, exactly one) and how to reach them."""

    contact: str
    email: str | None = None
    account_id: UUID | None = None
    details: str | None = None
    relationship: str | None = None


class ChildReportIntake:
    """Receives reports about accounts; each call is one unit of work that commits itself."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        cipher: FieldCipher,
        clock: Clock,
        attempts: AttemptCounter,
        rules: ChildReportRules | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._throttle = ReportThrottle(vault, attempts, "child-report")
        self._seal = ReportSeal(vault, cipher, clock, INBOX)
        self.rules = rules or ChildReportRules()

    async def report(self, incoming: IncomingReport) -> None:
        """Receive a report. Returns nothing either way: whether the account exists is never revealed, and nothing
        here depends on it (validation, two counts, one seal, one insert)."""
        contact = normalise_email(incoming.contact, field="contact")
        relationship = incoming.relationship
        if relationship is not None and relationship not in RELATIONSHIPS:
            raise InvalidInput(f"relationship must be one of {', '.join(RELATIONSHIPS)}", field="relationship")
        details = None
        if incoming.details is not None:
            details = clean_text(incoming.details, field="details", max_length=MAX_DETAILS, multiline=True) or None
        if (incoming.email is None) == (incoming.account_id is None):
            raise InvalidInput("give the account's email or its id, not both", field="email")
        target = (
            "email:" + normalise_email(incoming.email) if incoming.email is not None else f"id:{incoming.account_id}"
        )

        rules = self.rules
        await self._throttle.admit("target", target, rules.per_target_limit, rules.per_target_window_seconds)
        await self._throttle.admit("reporter", contact, rules.per_reporter_limit, rules.per_reporter_window_seconds)

        now = self._clock.now()
        reporter = {"contact": contact, "relationship": relationship, "received_at": now.isoformat()}
        received = self._seal.seal({"target": target, "reporter": reporter, "details": details})
        async with self._uow() as uow:
            await uow.child_report_inbox.add(received)
            await uow.commit()
