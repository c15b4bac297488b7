"""Support's retention rules: closed tickets are deleted after a declared period, counted from their closing.

Privacy tickets are kept 2 years: they are the record of how a privacy question was answered, and the CCPA
regulations (11 CCR 7101(a)) require records of consumer requests and our responses for at least 24 months.
Billing and other tickets are kept 1 year after closing, long enough for follow-ups and card disputes about the
same purchase; nothing obliges us to keep them longer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.domain.support.data_map import ADDRESS_REQUEST_DAYS
from dreamina.domain.support.data_map import OTHER_TICKET_DAYS as OTHER_TICKET_RETENTION_DAYS
from dreamina.domain.support.data_map import PRIVACY_TICKET_DAYS as PRIVACY_TICKET_RETENTION_DAYS
from dreamina.ports.support import TicketCategory
from dreamina.ports.unit_of_work import UnitOfWorkFactory


class ClosedSupportTickets:
    """Deletes tickets of some categories once they were closed longer ago than their period
    (data map: ``support_tickets``, account data)."""

    category = DataCategory.ACCOUNT

    def __init__(self, uow: UnitOfWorkFactory, *, name: str, categories: tuple[str, ...], days: int) -> None:
        self._uow = uow
        self._categories = categories
        self._period = timedelta(days=days)
        self.name = name
        self.description = f"closed {' and '.join(categories)} support tickets are deleted {days} days after closing"

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.support_tickets.count_closed_before(self._categories, now - self._period)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.support_tickets.delete_closed_before(self._categories, now - self._period, limit)
            await uow.commit()
        return deleted


class ExpiredAddressRequests:
    """Deletes requests by email address a day after their link expired (data map: ``ticket_address_requests``)."""

    category = DataCategory.ACCOUNT
    name = "ticket_address_requests.expired"
    description = f"requests by email address are deleted {ADDRESS_REQUEST_DAYS} day after their link expired"

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow
        self._period = timedelta(days=ADDRESS_REQUEST_DAYS)

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.ticket_address_requests.count_expired_before(now - self._period)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.ticket_address_requests.delete_expired_before(now - self._period, limit)
            await uow.commit()
        return deleted


def support_retention_tasks(uow: UnitOfWorkFactory) -> list[ClosedSupportTickets | ExpiredAddressRequests]:
    """The support module's rules of the retention schedule."""
    return [
        ExpiredAddressRequests(uow),
        ClosedSupportTickets(
            uow,
            name="support_tickets.closed_privacy",
            categories=(TicketCategory.PRIVACY,),
            days=PRIVACY_TICKET_RETENTION_DAYS,
        ),
        ClosedSupportTickets(
            uow,
            name="support_tickets.closed_other",
            categories=(TicketCategory.BILLING, TicketCategory.OTHER),
            days=OTHER_TICKET_RETENTION_DAYS,
        ),
    ]
