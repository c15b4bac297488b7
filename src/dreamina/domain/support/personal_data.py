"""The support module's holder of personal data: the subject's tickets, for access, export and erasure."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from dreamina.domain.privacy.errors import KeyDestroyed
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.support.tickets import TicketSeal
from dreamina.ports.data_rights import Coverage, ErasureOutcome, ErasureStage, ExportSink, ProcessorReference
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class SupportPersonalData:
    """:class:`~dreamina.ports.data_rights.PersonalDataHolder` for ``support_tickets``.

    A signed-in subject's tickets are exported with their text and our answers, and deleted on erasure (their text
    was sealed with the subject's data key, so copies elsewhere are shredded with it). Anonymous tickets name no
    subject and are not found by an erasure; they go by the retention schedule.
    """

    name = "support"
    stage = ErasureStage.MODULE_RECORDS
    coverage: tuple[Coverage, ...] = (
        Coverage(
            "store",
            "support_tickets",
            "support_tickets.json (each ticket: category, status, dates, subject line, message, reply-to, answers)",
            "deleted",
        ),
    )

    def __init__(self, *, uow: UnitOfWorkFactory, keyrings: Keyrings) -> None:
        self._uow = uow
        self._keyrings = keyrings

    async def count(self, subject_id: UUID) -> dict[str, int]:
        async with self._uow() as uow:
            return {"support_tickets": len(await uow.support_tickets.list_for_subject(subject_id))}

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        records: list[dict[str, Any]] = []
        async with self._uow() as uow:
            seal = TicketSeal(uow, self._keyrings)
            for ticket in await uow.support_tickets.list_for_subject(subject_id):
                try:
                    view = await seal.view(ticket)
                except KeyDestroyed:
                    continue  # crypto-shredded: nothing readable is left to export
                records.append(
                    {
                        "id": str(ticket.id),
                        "category": ticket.category,
                        "status": ticket.status.value,
                        "received_at": ticket.received_at.isoformat(),
                        "due_at": None if ticket.due_at is None else ticket.due_at.isoformat(),
                        "jurisdiction": ticket.jurisdiction,
                        "answered_at": None if ticket.answered_at is None else ticket.answered_at.isoformat(),
                        "closed_at": None if ticket.closed_at is None else ticket.closed_at.isoformat(),
                        "subject": view.subject_line,
                        "message": view.message,
                        "reply_to": view.reply_to,
                        "answers": [{"text": r.text, "at": r.at.isoformat()} for r in view.replies],
                    }
                )
        await sink.write_records("support_tickets", "your messages to support and our answers", records)

    async def erase(self, subject_id: UUID) -> ErasureOutcome:
        async with self._uow() as uow:
            deleted = await uow.support_tickets.delete_for_subject(subject_id)
            await uow.commit()
        return ErasureOutcome(self.name, deleted=deleted)

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        return []  # tickets are handled in-house and mailed through our own mail relay
