"""The holder's answer to an age review (policy section 9): a short statement the staff who decide read beside the
report (for instance "I mistyped my birth year"). It is the holder's data: sealed with their own data key, in their
export, gone with their erasure. A later statement replaces the earlier one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dreamina.domain.privacy.errors import Conflict
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.validation import clean_text
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.unit_of_work import UnitOfWorkFactory

MAX_STATEMENT = 2000
STATEMENT_FIELD = "age_review_statement"


class NoAgeReview(Conflict):
    """The holder answered a review that is not open."""

    code = "no_age_review"
    title = "No age review of your account is open"


@dataclass(frozen=True, slots=True)
class StatementReceived:
    report_id: UUID
    received_at: datetime


class AgeReviewStatements:
    """Stores the holder's statement on their open report; one unit of work that commits itself."""

    def __init__(self, *, uow: UnitOfWorkFactory, keyrings: Keyrings, clock: Clock) -> None:
        self._uow = uow
        self._keyrings = keyrings
        self._clock = clock

    async def answer(self, account_id: UUID, statement: str) -> StatementReceived:
        """Store ``statement`` (1 to :data:`MAX_STATEMENT` characters) on the account's open report; 409
        ``no_age_review`` when none is open. Audited by name only."""
        text = clean_text(statement, field="statement", min_length=1, max_length=MAX_STATEMENT, multiline=True)
        now = self._clock.now()
        async with self._uow() as uow:
            report = await uow.child_reports.open_for_subject(account_id)
            if report is None:
                raise NoAgeReview("no age review of your account is open", field="statement")
            sealed = await self._keyrings(uow.subject_keys).seal(account_id, STATEMENT_FIELD, text)
            report.record_statement(sealed, now)
            await uow.child_reports.update(report)
            await uow.audit.append(
                AuditEvent(
                    id=uuid.uuid4(),
                    subject_id=account_id,
                    actor_kind=ActorKind.SUBJECT,
                    actor_id=account_id,
                    action="age_review_statement",
                    fields=("statement",),
                    reason="the holder answered the age review",
                    occurred_at=now,
                )
            )
            await uow.commit()
        return StatementReceived(report.id, now)
