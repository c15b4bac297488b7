"""Matching received abuse reports to generations, after the reporter has had their answer (the children's flow's
inbox machinery: each report is taken out of the inbox in the unit of work that files it, so it is matched exactly
once and never lost). A report about a generation we do not have (or a link naming an object that is not one of
its outputs) is dropped with nothing kept about it or about who sent it. Runs every few seconds: inside the API
process in the embedded profile, in ``dreamina privacy-worker`` in production.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from dreamina.domain.generation.abuse_intake import INBOX, AbuseReportRules
from dreamina.domain.privacy.errors import StoreBusy
from dreamina.domain.privacy.sealed_inbox import ReportSeal
from dreamina.ports.abuse_reports import AbuseReason, AbuseReport, AbuseReportStatus
from dreamina.ports.clock import Clock
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


def reporter_context(report_id: UUID) -> str:
    return f"abuse_report/{report_id}/reporter"


class AbuseReportMatching:
    """Files what the intake received as an open report in the staff queue."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        cipher: FieldCipher,
        clock: Clock,
        rules: AbuseReportRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._cipher = cipher
        self._clock = clock
        self._seal = ReportSeal(vault, cipher, clock, INBOX)
        self.rules = rules or AbuseReportRules()

    async def run_due(self) -> dict[str, int]:
        """One pass over the oldest waiting reports; returns how many were filed and how many named nothing."""
        async with self._uow() as uow:
            waiting = await uow.abuse_report_inbox.oldest(self.rules.match_batch)
        filed = dropped = 0
        for received_id in waiting:
            try:
                outcome = await self._match(received_id)
            except StoreBusy:
                continue  # SQLite refused a write after a stale read: the report waits for the next pass
            filed += outcome == "filed"
            dropped += outcome == "dropped"  # nothing is kept about a generation we do not have, nor who asked
        return {"abuse_reports_filed": filed, "abuse_reports_dropped": dropped}

    async def _match(self, received_id: UUID) -> Literal["filed", "dropped", "gone"]:
        async with self._uow() as uow:
            received = await uow.abuse_report_inbox.take(received_id)
            if received is None:
                return "gone"  # another matcher took it
            filed = await self._file(uow, self._seal.open(received), received.received_at)
            await uow.commit()
        return "filed" if filed else "dropped"

    async def _file(self, uow: UnitOfWork, payload: dict[str, Any], received_at: datetime) -> bool:
        generation = await uow.generations.get(UUID(payload["generation_id"]))
        if generation is None:
            return False
        object_key = payload["object_key"]
        if object_key is not None and object_key not in {o.object_key for o in generation.outputs}:
            return False  # a link naming some other object under the generation's prefix: not trusted
        now = self._clock.now()
        report_id = uuid.uuid4()
        reporter_key = reporter_ciphertext = None
        if payload["contact"] is not None or payload["details"] is not None:
            key, reporter_key = self._vault.generate_data_key()
            sent = {"contact": payload["contact"], "details": payload["details"]}
            reporter_ciphertext = self._cipher.seal(key, json.dumps(sent).encode(), reporter_context(report_id))
        reporter_id = payload["reporter_id"]
        await uow.abuse_reports.add(
            AbuseReport(
                id=report_id,
                generation_id=generation.id,
                owner_id=generation.subject_id,
                reporter_id=None if reporter_id is None else UUID(reporter_id),
                reason=AbuseReason(payload["reason"]),
                via_link=object_key is not None,
                status=AbuseReportStatus.OPEN,
                received_at=received_at,
                updated_at=now,
                reporter_key=reporter_key,
                reporter_ciphertext=reporter_ciphertext,
            )
        )
        return True


def open_reporter_data(vault: KeyVault, cipher: FieldCipher, report: AbuseReport) -> dict[str, Any]:
    """The reporter's contact and details (``{}`` once deleted)."""
    if report.reporter_key is None or report.reporter_ciphertext is None:
        return {}
    key = vault.unwrap(report.reporter_key)
    sent: dict[str, Any] = json.loads(cipher.open(key, report.reporter_ciphertext, reporter_context(report.id)))
    return sent
