"""Matching received child reports to accounts (policy section 9, G8), after the reporter has had their answer.

Each received report is taken out of the inbox in the unit of work that files it, so it is matched exactly once
(a second matcher finds it gone) and never lost (a failed match leaves it for the next pass). A report about an
account we do not have is dropped with nothing kept about it or about who sent it. Runs every few seconds: inside
the API process in the embedded profile, in ``dreamina privacy-worker`` in production.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Literal
from uuid import UUID

from dreamina.domain.identity.accounts import email_index_of
from dreamina.domain.identity.child_report_filing import WRITE_ATTEMPTS, ChildReportRules, Filed, ReportFiling
from dreamina.domain.identity.child_report_intake import INBOX
from dreamina.domain.privacy.errors import Conflict, StoreBusy
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.sealed_inbox import ReportSeal
from dreamina.ports.child_reports import GenerationStopper, ReportSource
from dreamina.ports.clock import Clock
from dreamina.ports.identity import Account
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


class ChildReportMatching:
    """Files what the intake received: the account under age review (or the report escalated), the holder told."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        cipher: FieldCipher,
        keyrings: Keyrings,
        mail: MailDelivery,
        clock: Clock,
        generations: GenerationStopper,
        rules: ChildReportRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._cipher = cipher
        self._mail = mail
        self._clock = clock
        self._generations = generations
        self._seal = ReportSeal(vault, cipher, clock, INBOX)
        self._filing = ReportFiling(vault, cipher, mail=mail, keyrings=keyrings)
        self.rules = rules or ChildReportRules()

    async def run_due(self) -> dict[str, int]:
        """One pass over the oldest waiting reports; returns how many were filed and how many named no account."""
        async with self._uow() as uow:
            waiting = await uow.child_report_inbox.oldest(self.rules.match_batch)
        filed = dropped = 0
        for received_id in waiting:
            outcome = await self._match(received_id)
            if outcome == "dropped":
                dropped += 1
            elif isinstance(outcome, Filed):
                filed += 1
                if outcome.review_opened:
                    await self._generations.stop_all(outcome.report.subject_id)
                await self._mail.flush(outcome.report.subject_id)
        return {"child_reports_filed": filed, "child_reports_dropped": dropped}

    async def _match(self, received_id: UUID) -> Filed | Literal["gone", "dropped"]:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                async with self._uow() as uow:
                    received = await uow.child_report_inbox.take(received_id)
                    if received is None:
                        return "gone"  # another matcher took it
                    payload = self._seal.open(received)
                    account = await self._account(uow, payload["target"])
                    if account is None:
                        await uow.commit()  # nothing is kept about an account we do not have, nor about who asked
                        return "dropped"
                    filed = await self._filing.file_and_tell(
                        uow,
                        account,
                        ReportSource.REPORT,
                        self._clock.now(),
                        reporter=payload["reporter"],
                        details=payload["details"],
                        report_id=uuid.uuid4(),
                    )
                    await uow.commit()
                    return filed
            except (Conflict, StoreBusy):
                # Another report about the same account wrote first (at most one report is open per account; on
                # SQLite a write after a stale read is refused): the next attempt finds it and merges into it.
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _account(self, uow: UnitOfWork, target: str) -> Account | None:
        if target.startswith("id:"):
            try:
                return await uow.accounts.get(UUID(target.removeprefix("id:")))
            except ValueError:
                return None
        return await uow.accounts.get_by_email_index(email_index_of(self._vault, target.removeprefix("email:")))
