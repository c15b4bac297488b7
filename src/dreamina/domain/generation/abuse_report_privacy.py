"""Abuse reports in the subject's rights and in retention: the holder that exports and erases them, and the sweeps
the data map's schedule names (``abuse_reports``, ``abuse_report_inbox``).

What each side sees: a signed-in reporter's export holds the reports they filed with what they sent; the owner's
export holds the reports about their generations (which generation, which category, the outcome) without anything
about the reporter. Erasure unlinks a reporter (and drops what they sent) and pseudonymises an owner.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from dreamina.domain.generation.abuse_matching import open_reporter_data
from dreamina.domain.generation.abuse_report_data import INBOX_DAYS, REPORT_RECORD_DAYS, REPORTER_DATA_DAYS
from dreamina.domain.privacy.pseudonyms import erasure_pseudonym
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.abuse_reports import AbuseReport
from dreamina.ports.clock import Clock
from dreamina.ports.data_rights import Coverage, ErasureOutcome, ErasureStage, ExportSink, ProcessorReference
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class AbuseReportPersonalData:
    """:class:`~dreamina.ports.data_rights.PersonalDataHolder` for ``abuse_reports`` and ``abuse_report_inbox``."""

    name = "abuse_reports"
    stage = ErasureStage.MODULE_RECORDS
    coverage: tuple[Coverage, ...] = (
        Coverage(
            "store",
            "abuse_reports",
            "abuse_reports.json: the reports you filed signed in (with the contact and details you sent) and the "
            "reports about your generations (generation, category, outcome; who reported is withheld)",
            "pseudonymised legal hold: as reporter you are unlinked and what you sent is dropped; as owner your id "
            "becomes a keyed pseudonym and an open report is closed",
            pseudonymised_legal_hold=True,
        ),
        Coverage(
            "store",
            "abuse_report_inbox",
            "not exported: a received report is sealed whole and is matched within seconds (then it is in "
            "abuse_reports)",
            "untouched: nothing in it is linked to anyone until matched (sealed whole); matching deletes each "
            "entry within seconds, the retention sweep any left after 7 days",
        ),
    )

    def __init__(self, *, uow: UnitOfWorkFactory, vault: KeyVault, cipher: FieldCipher, clock: Clock) -> None:
        self._uow = uow
        self._vault = vault
        self._cipher = cipher
        self._clock = clock

    async def count(self, subject_id: UUID) -> dict[str, int]:
        async with self._uow() as uow:
            return {"abuse_reports": len(await uow.abuse_reports.list_for_subject(subject_id))}

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        async with self._uow() as uow:
            reports = await uow.abuse_reports.list_for_subject(subject_id)
        await sink.write_records(
            "abuse_reports",
            "abuse reports you filed, and reports about your generations (who reported is withheld)",
            [self._record(r, subject_id) for r in reports],
        )

    def _record(self, report: AbuseReport, subject_id: UUID) -> dict[str, Any]:
        record: dict[str, Any] = {
            "generation_id": str(report.generation_id),
            "reason": report.reason.value,
            "status": report.status.value,
            "received_at": report.received_at.isoformat(),
            "closed_at": None if report.closed_at is None else report.closed_at.isoformat(),
            "about_your_generation": report.owner_id == subject_id,
            "filed_by_you": report.reporter_id == subject_id,
        }
        if report.reporter_id == subject_id:
            sent = open_reporter_data(self._vault, self._cipher, report)
            record["your_contact"] = sent.get("contact")
            record["your_details"] = sent.get("details")
        return record

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        pseudonym = erasure_pseudonym(self._vault, subject_id)
        changed = 0
        async with self._uow() as uow:
            now = self._clock.now()
            for report in await uow.abuse_reports.list_for_subject(subject_id):
                if report.reporter_id == subject_id:
                    report.forget_reporter(now)
                if report.owner_id == subject_id:
                    report.pseudonymise_owner(pseudonym, now)
                await uow.abuse_reports.update(report)
                changed += 1
            await uow.commit()
        return ErasureOutcome(self.name, deleted=0, pseudonymised=changed)

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        return []


class _Sweep:
    name: str
    category = DataCategory.ACCOUNT
    description: str

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow


class ClosedAbuseReportContacts(_Sweep):
    """Deletes the reporter's contact and details (and the report's key) 90 days after the report is closed."""

    name = "abuse_reports.reporter_data"
    description = f"an abuse report's reporter data is deleted {REPORTER_DATA_DAYS} days after the report is closed"

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.abuse_reports.count_reporter_data(now - timedelta(days=REPORTER_DATA_DAYS))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            done = await uow.abuse_reports.delete_reporter_data(now - timedelta(days=REPORTER_DATA_DAYS), now, limit)
            await uow.commit()
        return done


class ExpiredAbuseReports(_Sweep):
    """Deletes an abuse report's record 3 years after it was closed."""

    name = "abuse_reports.closed"
    category = DataCategory.CONTENT
    description = f"a closed abuse report's record is deleted {REPORT_RECORD_DAYS // 365} years after it was closed"

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.abuse_reports.count_closed(now - timedelta(days=REPORT_RECORD_DAYS))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            done = await uow.abuse_reports.delete_closed(now - timedelta(days=REPORT_RECORD_DAYS), limit)
            await uow.commit()
        return done


class UnmatchedAbuseReports(_Sweep):
    """Deletes a received abuse report still waiting to be matched a week after it arrived."""

    name = "abuse_report_inbox.unmatched"
    description = f"an abuse report waiting to be matched is deleted {INBOX_DAYS} days after it arrived"

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.abuse_report_inbox.count_older(now - timedelta(days=INBOX_DAYS))

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            done = await uow.abuse_report_inbox.delete_older(now - timedelta(days=INBOX_DAYS), limit)
            await uow.commit()
        return done
