"""The support module's holder of personal data: the subject's tickets, for access, export and erasure."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from dreamina.domain.privacy.errors import KeyDestroyed
from dreamina.domain.privacy.keyring import Keyrings
from dreamina.domain.support.tickets import TicketSeal
from dreamina.ports.data_rights import Coverage, ErasureOutcome, ErasureStage, ExportSink, ProcessorReference
from dreamina.ports.support import SupportTicket
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


class SupportPersonalData:
    """:class:`~dreamina.ports.data_rights.PersonalDataHolder` for ``support_tickets``.

    A signed-in subject's tickets are exported with their text and our answers, and deleted on erasure (their text
    was sealed with the subject's data key, so copies elsewhere are shredded with it). Anonymous tickets written
    from the subject's address are theirs too once that address is verified (they were written before signing up,
    or signed out): found by the address's blind index, counted, exported and deleted with the rest, as are the
    pending address requests of that address. An unverified address finds nothing: registering someone else's
    address must not hand over their messages. People without an account reach their anonymous tickets through
    :mod:`~dreamina.domain.support.address_requests`.
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
        Coverage(
            "store",
            "ticket_address_requests",
            "not exported (a hashed link token and the address's blind index, kept at most a day past expiry)",
            "deleted",
        ),
    )

    def __init__(self, *, uow: UnitOfWorkFactory, keyrings: Keyrings) -> None:
        self._uow = uow
        self._keyrings = keyrings

    async def count(self, subject_id: UUID) -> dict[str, int]:
        async with self._uow() as uow:
            index = await _verified_address_index(uow, subject_id)
            return {
                "support_tickets": len(await _tickets(uow, subject_id, index)),
                "ticket_address_requests": 0
                if index is None
                else await uow.ticket_address_requests.count_for_address(index),
            }

    async def export(self, subject_id: UUID, sink: ExportSink) -> None:
        records: list[dict[str, Any]] = []
        async with self._uow() as uow:
            seal = TicketSeal(uow, self._keyrings)
            index = await _verified_address_index(uow, subject_id)
            for ticket in await _tickets(uow, subject_id, index):
                try:
                    view = await seal.view(ticket)
                except KeyDestroyed:
                    continue  # crypto-shredded: nothing readable is left to export
                records.append(
                    {
                        "id": str(ticket.id),
                        "written_signed_in": ticket.subject_id is not None,
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
            index = await _verified_address_index(uow, subject_id)
            deleted = await uow.support_tickets.delete_for_subject(subject_id)
            if index is not None:
                deleted += await uow.support_tickets.delete_anonymous_for_address(index)
                deleted += await uow.ticket_address_requests.delete_for_address(index)
            await uow.commit()
        return ErasureOutcome(self.name, deleted=deleted)

    async def processor_references(self, subject_id: UUID) -> list[ProcessorReference]:
        return []  # tickets are handled in-house and mailed through our own mail relay


async def _verified_address_index(uow: UnitOfWork, subject_id: UUID) -> str | None:
    """The blind index of the subject's address if it is verified (the one accounts are found by), else None."""
    account = await uow.accounts.get(subject_id)
    if account is None or not account.email_verified:
        return None
    return account.email_index


async def _tickets(uow: UnitOfWork, subject_id: UUID, index: str | None) -> list[SupportTicket]:
    """The subject's tickets, then the anonymous ones from their verified address."""
    own = await uow.support_tickets.list_for_subject(subject_id)
    return own if index is None else own + await uow.support_tickets.list_anonymous_for_address(index)
