"""SQL adapter of the support-ticket port over ``support_tickets``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_support import SupportTicketRow, TicketAddressRequestRow
from dreamina.adapters.sql.repository_kit import SqlRepositories, SqlRepository, insert_into, retention_batch
from dreamina.domain.privacy.errors import NotFound
from dreamina.domain.privacy.jurisdictions import DeadlineFlag
from dreamina.ports.support import (
    AddressRequest,
    AddressRequestKind,
    SupportTicket,
    TicketCategory,
    TicketStatus,
)

_FIELDS = (
    "subject_id",
    "category",
    "status",
    "received_at",
    "updated_at",
    "subject_line_ciphertext",
    "message_ciphertext",
    "reply_to_ciphertext",
    "wrapped_key",
    "replies_ciphertext",
    "jurisdiction",
    "due_at",
    "flag",
    "answered_at",
    "closed_at",
    "reply_to_index",
)


def _values(t: SupportTicket) -> dict[str, Any]:
    for name in ("category", "status", "jurisdiction", "flag", "reply_to_index"):
        check_text(name, getattr(t, name))
    for name in ("received_at", "updated_at", "due_at", "answered_at", "closed_at"):
        check_time(name, getattr(t, name))
    values = {name: getattr(t, name) for name in _FIELDS}
    values["category"] = TicketCategory(t.category).value
    values["status"] = TicketStatus(t.status).value
    values["flag"] = None if t.flag is None else DeadlineFlag(t.flag).value
    return values


def _ticket(row: Any) -> SupportTicket:
    values = {name: getattr(row, name) for name in _FIELDS}
    for name in ("subject_line_ciphertext", "message_ciphertext", "reply_to_ciphertext", "wrapped_key"):
        values[name] = None if values[name] is None else bytes(values[name])
    values["replies_ciphertext"] = None if row.replies_ciphertext is None else bytes(row.replies_ciphertext)
    values["category"] = TicketCategory(row.category)
    values["status"] = TicketStatus(row.status)
    values["flag"] = None if row.flag is None else DeadlineFlag(row.flag)
    return SupportTicket(id=row.id, **values)


def _closed_before(categories: tuple[str, ...], cutoff: datetime) -> ColumnElement[bool]:
    """Closed before ``cutoff``, or answered before it and never closed (staff left it in the queue)."""
    check_time("cutoff", cutoff)
    return and_(
        SupportTicketRow.category.in_(categories),
        or_(
            SupportTicketRow.closed_at < cutoff,
            and_(
                SupportTicketRow.closed_at.is_(None),
                SupportTicketRow.status == TicketStatus.ANSWERED.value,
                SupportTicketRow.answered_at < cutoff,
            ),
        ),
    )


class SqlSupportTicketRepository(SqlRepository):
    """:class:`~dreamina.ports.support.SupportTicketRepository` over ``support_tickets``."""

    _table = SupportTicketRow.__table__

    async def add(self, ticket: SupportTicket) -> None:
        await self._write(
            insert_into(SupportTicketRow).values(id=ticket.id, **_values(ticket)),
            conflict="this ticket already exists",
        )

    async def get(self, ticket_id: UUID) -> SupportTicket | None:
        row = (await self._session.execute(select(self._table).where(SupportTicketRow.id == ticket_id))).first()
        return None if row is None else _ticket(row)

    async def update(self, ticket: SupportTicket) -> None:
        statement = update(SupportTicketRow).where(SupportTicketRow.id == ticket.id).values(**_values(ticket))
        if await self._write(statement, conflict="this ticket cannot be updated") == 0:
            raise NotFound("no such ticket")

    async def list_for_subject(self, subject_id: UUID) -> list[SupportTicket]:
        statement = (
            select(self._table)
            .where(SupportTicketRow.subject_id == subject_id)
            .order_by(SupportTicketRow.received_at.desc(), SupportTicketRow.id)
        )
        return [_ticket(row) for row in await self._session.execute(statement)]

    async def list_open(
        self,
        *,
        categories: tuple[str, ...],
        statuses: tuple[TicketStatus, ...],
        due_before: datetime | None = None,
        limit: int,
    ) -> list[SupportTicket]:
        check_time("due_before", due_before)
        statement = select(self._table).where(
            SupportTicketRow.category.in_(categories),
            SupportTicketRow.status.in_([TicketStatus(s).value for s in statuses]),
        )
        if due_before is not None:
            statement = statement.where(SupportTicketRow.due_at < due_before)
        statement = statement.order_by(
            SupportTicketRow.due_at.is_(None),  # the same order on SQLite and PostgreSQL: dated tickets first
            SupportTicketRow.due_at,
            SupportTicketRow.received_at,
            SupportTicketRow.id,
        ).limit(max(0, limit))
        return [_ticket(row) for row in await self._session.execute(statement)]

    async def count_closed_before(self, categories: tuple[str, ...], cutoff: datetime) -> int:
        statement = select(func.count()).select_from(SupportTicketRow).where(_closed_before(categories, cutoff))
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_closed_before(self, categories: tuple[str, ...], cutoff: datetime, limit: int) -> int:
        if limit < 0:
            raise ValueError("limit must not be negative")
        doomed = (
            select(SupportTicketRow.id)
            .where(_closed_before(categories, cutoff))
            .order_by(func.coalesce(SupportTicketRow.closed_at, SupportTicketRow.answered_at), SupportTicketRow.id)
            .limit(max(0, limit))
            .with_for_update(skip_locked=True)  # two sweeps at once split the work (PostgreSQL)
            .scalar_subquery()
        )
        return await self._execute_count(delete(SupportTicketRow).where(SupportTicketRow.id.in_(doomed)))

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(delete(SupportTicketRow).where(SupportTicketRow.subject_id == subject_id))

    @staticmethod
    def _anonymous_from(reply_to_index: str) -> ColumnElement[bool]:
        check_text("reply_to_index", reply_to_index)
        return and_(SupportTicketRow.subject_id.is_(None), SupportTicketRow.reply_to_index == reply_to_index)

    async def list_anonymous_for_address(self, reply_to_index: str) -> list[SupportTicket]:
        statement = (
            select(self._table)
            .where(self._anonymous_from(reply_to_index))
            .order_by(SupportTicketRow.received_at.desc(), SupportTicketRow.id)
        )
        return [_ticket(row) for row in await self._session.execute(statement)]

    async def delete_anonymous_for_address(self, reply_to_index: str) -> int:
        return await self._execute_count(delete(SupportTicketRow).where(self._anonymous_from(reply_to_index)))

    async def list_unindexed(self, limit: int) -> list[SupportTicket]:
        statement = (
            select(self._table)
            .where(
                SupportTicketRow.subject_id.is_(None),
                SupportTicketRow.reply_to_index.is_(None),
                SupportTicketRow.reply_to_ciphertext.is_not(None),
            )
            .order_by(SupportTicketRow.received_at, SupportTicketRow.id)
            .limit(max(0, limit))
        )
        return [_ticket(row) for row in await self._session.execute(statement)]

    async def set_reply_to_index(self, ticket_id: UUID, reply_to_index: str) -> None:
        check_text("reply_to_index", reply_to_index)
        statement = (
            update(SupportTicketRow).where(SupportTicketRow.id == ticket_id).values(reply_to_index=reply_to_index)
        )
        if await self._execute_count(statement) == 0:
            raise NotFound("no such ticket")


def _request(row: Any) -> AddressRequest:
    return AddressRequest(
        id=row.id,
        kind=AddressRequestKind(row.kind),
        address_index=row.address_index,
        token_hash=row.token_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


class SqlAddressRequestRepository(SqlRepository):
    """:class:`~dreamina.ports.support.AddressRequestRepository` over ``ticket_address_requests``."""

    _table = TicketAddressRequestRow.__table__

    async def add(self, request: AddressRequest) -> None:
        for name in ("address_index", "token_hash"):
            check_text(name, getattr(request, name))
        for name in ("created_at", "expires_at", "used_at"):
            check_time(name, getattr(request, name))
        values = {
            "id": request.id,
            "kind": AddressRequestKind(request.kind).value,
            "address_index": request.address_index,
            "token_hash": request.token_hash,
            "created_at": request.created_at,
            "expires_at": request.expires_at,
            "used_at": request.used_at,
        }
        await self._write(insert_into(TicketAddressRequestRow).values(**values), conflict="this request already exists")

    async def redeem(self, token_hash: str, now: datetime) -> AddressRequest | None:
        check_text("token_hash", token_hash)
        check_time("now", now)
        row = (
            await self._session.execute(select(self._table).where(TicketAddressRequestRow.token_hash == token_hash))
        ).first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            return None
        claim = (
            update(TicketAddressRequestRow)
            .where(TicketAddressRequestRow.id == row.id, TicketAddressRequestRow.used_at.is_(None))
            .values(used_at=now)
        )
        if await self._execute_count(claim) == 0:
            return None  # another redeemer won
        found = _request(row)
        found.used_at = now
        return found

    async def count_expired_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        statement = (
            select(func.count()).select_from(TicketAddressRequestRow).where(TicketAddressRequestRow.expires_at < cutoff)
        )
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_expired_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        doomed = retention_batch(
            select(TicketAddressRequestRow.id)
            .where(TicketAddressRequestRow.expires_at < cutoff)
            .order_by(TicketAddressRequestRow.expires_at, TicketAddressRequestRow.id),
            limit,
        ).scalar_subquery()
        return await self._execute_count(delete(TicketAddressRequestRow).where(TicketAddressRequestRow.id.in_(doomed)))

    async def delete_for_address(self, address_index: str) -> int:
        check_text("address_index", address_index)
        return await self._execute_count(
            delete(TicketAddressRequestRow).where(TicketAddressRequestRow.address_index == address_index)
        )

    async def count_for_address(self, address_index: str) -> int:
        check_text("address_index", address_index)
        statement = (
            select(func.count())
            .select_from(TicketAddressRequestRow)
            .where(TicketAddressRequestRow.address_index == address_index)
        )
        return int((await self._session.execute(statement)).scalar_one())


REPOSITORIES: SqlRepositories = {
    "support_tickets": SqlSupportTicketRepository,
    "ticket_address_requests": SqlAddressRequestRepository,
}
"""The support module's stores, by their name in the unit of work."""
