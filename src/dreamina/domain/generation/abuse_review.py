"""The staff side of abuse reports (roles support and admin): the queue of open reports, a report's view with the
reporter's contact and details, and the decisions, each audited.

A **takedown** removes the generation through the same path as the owner's own ``DELETE /v1/generations/{id}``
(:meth:`Generations.delete`: the row with its sealed prompt, the outputs, the references nothing else uses, the
provider asked to forget its copy), audited as the staff member's; every open report about it is closed with it,
the owner is mailed (which generation, which category; never who reported) and reporters who left an address are
told we acted. A **dismissal** closes the report; its reporter is told it was reviewed. Decisions are compare-and-set:
of two at once exactly one wins. Nobody sees or decides a report about their own generation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dreamina.domain.generation.abuse_intake import AbuseReportRules
from dreamina.domain.generation.abuse_matching import open_reporter_data
from dreamina.domain.generation.generations import Generations
from dreamina.domain.privacy.errors import Conflict, KeyDestroyed, NotFound
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.privacy.mail import MailDelivery
from dreamina.domain.privacy.validation import clean_text
from dreamina.ports.abuse_reports import AbuseReport, AbuseReportStatus
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.mail import MailMessage
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

MAX_REASON = 500
ACTED = "Thank you for your report. We reviewed it and removed the content.\n"
REVIEWED = "Thank you for your report. We reviewed it carefully and found nothing we had to remove.\n"


def takedown_notice(generation_id: UUID, category: str) -> str:
    return (
        f"We removed one of your Dreamina generations (id {generation_id}): it was reported to us and our staff "
        f"found that it breaks our rules (category: {category.replace('_', ' ')}).\n\nIts prompt, its outputs and "
        "the reference images nothing else uses are deleted, as when you delete a generation yourself. We never "
        "tell you who reported it. If you think this is a mistake, write to our support.\n"
    )


class AbuseReportClosed(Conflict):
    """Staff acted on a report that is no longer open."""

    code = "abuse_report_closed"
    title = "The report is already closed"


@dataclass(frozen=True, slots=True)
class AbuseReportView:
    """A report as staff see it when they open it (audited): what the reporter sent."""

    report: AbuseReport
    contact: str | None
    details: str | None
    generation_exists: bool


class AbuseReportReview:
    """The staff queue, takedown and dismissal. Each method commits its own units of work."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        cipher: FieldCipher,
        keyrings: Keyrings,
        clock: Clock,
        mail: MailDelivery,
        generations: Generations,
        rules: AbuseReportRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._cipher = cipher
        self._keyrings = keyrings
        self._clock = clock
        self._mail = mail
        self._generations = generations
        self.rules = rules or AbuseReportRules()

    async def queue(self, staff_id: UUID) -> list[AbuseReport]:
        """Open reports, oldest first (never one about the viewer's own generation); each listed is audited."""
        now = self._clock.now()
        async with self._uow() as uow:
            found = [r for r in await uow.abuse_reports.list_open(self.rules.queue_limit) if r.owner_id != staff_id]
            for report in found:
                await _staff_audit(uow, report, staff_id, "staff_viewed_abuse_report", "listed in the queue", now)
            await uow.commit()
        return found

    async def view(self, staff_id: UUID, report_id: UUID, reason: str) -> AbuseReportView:
        """One report with what its reporter sent; the view and its reason are audited."""
        reason = _reason(reason)
        async with self._uow() as uow:
            report = await _get(uow, report_id, staff_id)
            exists = await uow.generations.get(report.generation_id) is not None
            await _staff_audit(uow, report, staff_id, "staff_viewed_abuse_report", reason, self._clock.now())
            await uow.commit()
        sent = open_reporter_data(self._vault, self._cipher, report)
        return AbuseReportView(report, sent.get("contact"), sent.get("details"), exists)

    async def take_down(self, staff_id: UUID, report_id: UUID, reason: str) -> AbuseReport:
        """Remove the generation (the owner's own deletion path, audited as this staff member's) and close every
        open report about it; the owner and the reporters are told. If the removal fails, the report is open
        again for staff to retry."""
        reason = _reason(reason)
        report = await self._close(staff_id, report_id, AbuseReportStatus.TAKEN_DOWN)
        try:
            await self._generations.delete(report.owner_id, report.generation_id, taken_down_by=staff_id)
            removed = True
        except NotFound:
            removed = False  # already gone (its owner deleted it, or another report's takedown)
        except BaseException:
            await self._reopen(report)
            raise
        now = self._clock.now()
        async with self._uow() as uow:
            closed = [report]
            for other in await uow.abuse_reports.list_for_generation(report.generation_id):
                if other.id != report.id and await uow.abuse_reports.close_if_open(
                    other.id, AbuseReportStatus.TAKEN_DOWN, now
                ):
                    closed.append(other)
            for each in closed:
                await _staff_audit(uow, each, staff_id, "abuse_report_taken_down", reason, now)
                await self._tell_reporter(uow, each, ACTED)
            if removed:
                await self._tell_owner(uow, report)
            await uow.commit()
        await self._mail.flush()
        return await self._reread(report_id, staff_id)

    async def dismiss(self, staff_id: UUID, report_id: UUID, reason: str) -> AbuseReport:
        """Nothing to remove: the report is closed and its reporter told it was reviewed."""
        reason = _reason(reason)
        report = await self._close(staff_id, report_id, AbuseReportStatus.DISMISSED)
        async with self._uow() as uow:
            await _staff_audit(uow, report, staff_id, "abuse_report_dismissed", reason, self._clock.now())
            await self._tell_reporter(uow, report, REVIEWED)
            await uow.commit()
        await self._mail.flush()
        return await self._reread(report_id, staff_id)

    # -- internals ----------------------------------------------------------------------------------------------

    async def _close(self, staff_id: UUID, report_id: UUID, status: AbuseReportStatus) -> AbuseReport:
        async with self._uow() as uow:
            report = await _get(uow, report_id, staff_id)
            if not await uow.abuse_reports.close_if_open(report_id, status, self._clock.now()):
                raise AbuseReportClosed("the report is already closed")
            await uow.commit()
        return report

    async def _reopen(self, report: AbuseReport) -> None:
        async with self._uow() as uow:
            report.status = AbuseReportStatus.OPEN
            report.closed_at = None
            report.updated_at = self._clock.now()
            await uow.abuse_reports.update(report)
            await uow.commit()

    async def _reread(self, report_id: UUID, staff_id: UUID) -> AbuseReport:
        async with self._uow() as uow:
            return await _get(uow, report_id, staff_id)

    async def _tell_owner(self, uow: UnitOfWork, report: AbuseReport) -> None:
        account = await uow.accounts.get(report.owner_id)
        if account is None:
            return
        try:
            address = await self._keyrings(uow.subject_keys).open(account.id, "email", account.email_ciphertext)
        except KeyDestroyed:
            return  # being erased: nobody to tell
        await self._mail.queue(
            uow,
            MailMessage(
                to=address,
                subject="We removed one of your Dreamina generations",
                body=takedown_notice(report.generation_id, report.reason.value),
                kind="generation_taken_down",
            ),
            subject_id=account.id,
        )

    async def _tell_reporter(self, uow: UnitOfWork, report: AbuseReport, body: str) -> None:
        contact = open_reporter_data(self._vault, self._cipher, report).get("contact")
        if contact:
            await self._mail.queue(
                uow, MailMessage(to=contact, subject="Your report to Dreamina", body=body, kind="abuse_report_outcome")
            )


async def _get(uow: UnitOfWork, report_id: UUID, staff_id: UUID) -> AbuseReport:
    """The report, unless it is about the viewer's own generation (then, as for none, "no such report")."""
    report = await uow.abuse_reports.get(report_id)
    if report is None or report.owner_id == staff_id:
        raise NotFound("no such report")
    return report


async def _staff_audit(
    uow: UnitOfWork, report: AbuseReport, staff_id: UUID, action: str, reason: str, now: datetime
) -> None:
    await uow.audit.append(
        AuditEvent(
            id=uuid.uuid4(),
            subject_id=report.owner_id,
            actor_kind=ActorKind.STAFF,
            actor_id=staff_id,
            action=action,
            fields=("abuse_report",),
            reason=reason,
            occurred_at=now,
        )
    )


def _reason(reason: str) -> str:
    return clean_text(reason, field="reason", min_length=1, max_length=MAX_REASON, multiline=True)
