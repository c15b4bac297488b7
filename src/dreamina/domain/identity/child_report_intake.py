"""Reports that an account belongs to a child, from anyone, signed in or not (policy section 9, G8).

The answer is the same whether or not the account exists; when it does, the report is filed (the account suspended
at once) and its generations are stopped.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from uuid import UUID

from dreamina.domain.identity.accounts import email_index_of
from dreamina.domain.identity.child_report_filing import WRITE_ATTEMPTS, ChildReportRules, ReportFiling
from dreamina.domain.privacy.errors import Conflict, InvalidInput, StoreBusy
from dreamina.domain.privacy.validation import clean_text, normalise_email
from dreamina.ports.child_reports import GenerationStopper, ReportSource
from dreamina.ports.clock import Clock
from dreamina.ports.identity import Account
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.security import AttemptCounter
from dreamina.ports.unit_of_work import UnitOfWorkFactory

RELATIONSHIPS = ("parent", "guardian", "other")
MAX_DETAILS = 2000
TARGET_INDEX = "child-report-target"


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
        generations: GenerationStopper,
        rules: ChildReportRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._clock = clock
        self._attempts = attempts
        self._generations = generations
        self._filing = ReportFiling(vault, cipher)
        self.rules = rules or ChildReportRules()

    async def report(self, incoming: IncomingReport) -> None:
        """Receive a report. Returns nothing either way: whether the account exists is never revealed, and the same
        work (blind index, sealing, look-up) is done for an unknown account as for a known one."""
        contact = normalise_email(incoming.contact, field="contact")
        relationship = incoming.relationship
        if relationship is not None and relationship not in RELATIONSHIPS:
            raise InvalidInput(f"relationship must be one of {', '.join(RELATIONSHIPS)}", field="relationship")
        details = None
        if incoming.details is not None:
            details = clean_text(incoming.details, field="details", max_length=MAX_DETAILS, multiline=True) or None
        if (incoming.email is None) == (incoming.account_id is None):
            raise InvalidInput("give the account's email or its id, not both", field="email")
        if incoming.email is not None:
            target = "email:" + normalise_email(incoming.email)
            email_index = email_index_of(self._vault, target.removeprefix("email:"))
        else:
            target = f"id:{incoming.account_id}"
            email_index = email_index_of(self._vault, target)  # same work; matches no account

        throttle_key = "child-report:" + self._vault.blind_index(TARGET_INDEX, target)
        if await self._attempts.count(throttle_key) >= self.rules.per_target_limit:
            return  # enough reports about this account for now: the first ones already suspended it
        await self._attempts.hit(throttle_key, self.rules.per_target_window_seconds)

        now = self._clock.now()
        report_id = uuid.uuid4()
        reporter = {"contact": contact, "relationship": relationship, "received_at": now.isoformat()}
        sealed = self._filing.seal_new(report_id, reporter, details)
        account: Account | None = None
        for attempt in range(WRITE_ATTEMPTS):
            try:
                async with self._uow() as uow:
                    if incoming.account_id is not None:
                        account = await uow.accounts.get(incoming.account_id)
                    else:
                        account = await uow.accounts.get_by_email_index(email_index)
                    if account is None:
                        return  # nothing is kept about an account we do not have, nor about who asked
                    await self._filing.file(
                        uow,
                        account,
                        ReportSource.REPORT,
                        now,
                        reporter=reporter,
                        details=details,
                        sealed=sealed,
                        report_id=report_id,
                    )
                    await uow.commit()
                break
            except (Conflict, StoreBusy):
                # Another report about the same account wrote first (at most one report is open per account; on
                # SQLite a write after a stale read is refused): the next attempt finds it and merges into it.
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.02 * (attempt + 1))
        assert account is not None
        await self._generations.stop_all(account.id)
