"""In-memory fake of the support-ticket port, over a table of an :class:`InMemoryDatabase` unit of work."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from uuid import UUID

from dreamina.adapters.memory.tables import (
    MemoryStores,
    Table,
    TableSpec,
    Unique,
    retention_batch,
    utc,
    utc_or_none,
)
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.domain.privacy.errors import NotFound
from dreamina.domain.privacy.jurisdictions import DeadlineFlag
from dreamina.ports.support import (
    AddressRequest,
    AddressRequestKind,
    SupportTicket,
    TicketCategory,
    TicketStatus,
)

_TIMES = ("received_at", "updated_at", "due_at", "answered_at", "closed_at")
_BYTES = ("subject_line_ciphertext", "message_ciphertext", "reply_to_ciphertext", "wrapped_key", "replies_ciphertext")


def _stored(t: SupportTicket) -> SupportTicket:
    for name in ("category", "status", "jurisdiction", "flag", "reply_to_index"):
        check_text(name, getattr(t, name))
    changes: dict[str, Any] = {
        "category": TicketCategory(t.category),
        "status": TicketStatus(t.status),
        "flag": None if t.flag is None else DeadlineFlag(t.flag),
    }
    for name in _TIMES:
        check_time(name, getattr(t, name))
        changes[name] = utc_or_none(getattr(t, name))
    for name in _BYTES:
        value = getattr(t, name)
        changes[name] = None if value is None else bytes(value)
    return dataclasses.replace(t, **changes)


class InMemorySupportTicketRepository:
    def __init__(self, table: Table[UUID, SupportTicket]) -> None:
        self._table = table

    async def add(self, ticket: SupportTicket) -> None:
        stored = _stored(ticket)
        self._table.insert(stored.id, stored)

    async def get(self, ticket_id: UUID) -> SupportTicket | None:
        found = self._table.get(ticket_id)
        return None if found is None else _stored(found)

    async def update(self, ticket: SupportTicket) -> None:
        stored = _stored(ticket)
        if self._table.get(stored.id) is None:
            raise NotFound("no such ticket")
        self._table.replace(stored.id, stored)

    async def list_for_subject(self, subject_id: UUID) -> list[SupportTicket]:
        found = [_stored(t) for _, t in self._table.rows() if t.subject_id == subject_id]
        found.sort(key=lambda t: t.id)
        found.sort(key=lambda t: t.received_at, reverse=True)
        return found

    async def list_open(
        self,
        *,
        categories: tuple[str, ...],
        statuses: tuple[TicketStatus, ...],
        due_before: datetime | None = None,
        limit: int,
    ) -> list[SupportTicket]:
        check_time("due_before", due_before)
        found = [
            _stored(t)
            for _, t in self._table.rows()
            if t.category in categories
            and t.status in statuses
            and (due_before is None or (t.due_at is not None and t.due_at < due_before))
        ]
        found.sort(key=lambda t: (t.due_at is None, t.due_at or t.received_at, t.received_at, t.id))
        return found[:limit]

    def _closed_before(self, categories: tuple[str, ...], cutoff: datetime) -> list[SupportTicket]:
        check_time("cutoff", cutoff)
        return [
            t
            for _, t in self._table.rows()
            if t.category in categories
            and (
                (t.closed_at is not None and t.closed_at < utc(cutoff))
                or (
                    t.closed_at is None
                    and t.status is TicketStatus.ANSWERED
                    and t.answered_at is not None
                    and t.answered_at < utc(cutoff)
                )
            )
        ]

    async def count_closed_before(self, categories: tuple[str, ...], cutoff: datetime) -> int:
        return len(self._closed_before(categories, cutoff))

    async def delete_closed_before(self, categories: tuple[str, ...], cutoff: datetime, limit: int) -> int:
        if limit < 0:
            raise ValueError("limit must not be negative")
        doomed = sorted(
            self._closed_before(categories, cutoff), key=lambda t: (t.closed_at or t.answered_at, t.id.bytes)
        )[:limit]
        for ticket in doomed:
            self._table.delete(ticket.id)
        return len(doomed)

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, t in self._table.rows() if t.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    def _anonymous_from(self, reply_to_index: str) -> list[SupportTicket]:
        check_text("reply_to_index", reply_to_index)
        return [t for _, t in self._table.rows() if t.subject_id is None and t.reply_to_index == reply_to_index]

    async def list_anonymous_for_address(self, reply_to_index: str) -> list[SupportTicket]:
        found = [_stored(t) for t in self._anonymous_from(reply_to_index)]
        found.sort(key=lambda t: t.id)
        found.sort(key=lambda t: t.received_at, reverse=True)
        return found

    async def delete_anonymous_for_address(self, reply_to_index: str) -> int:
        doomed = [t.id for t in self._anonymous_from(reply_to_index)]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    async def list_unindexed(self, limit: int) -> list[SupportTicket]:
        found = [
            _stored(t)
            for _, t in self._table.rows()
            if t.subject_id is None and t.reply_to_index is None and t.reply_to_ciphertext is not None
        ]
        found.sort(key=lambda t: (t.received_at, t.id))
        return found[: max(0, limit)]

    async def set_reply_to_index(self, ticket_id: UUID, reply_to_index: str) -> None:
        check_text("reply_to_index", reply_to_index)
        found = self._table.get(ticket_id)
        if found is None:
            raise NotFound("no such ticket")
        self._table.replace(ticket_id, dataclasses.replace(found, reply_to_index=reply_to_index))


def _request(r: AddressRequest) -> AddressRequest:
    for name in ("address_index", "token_hash"):
        check_text(name, getattr(r, name))
    for name in ("created_at", "expires_at", "used_at"):
        check_time(name, getattr(r, name))
    return dataclasses.replace(
        r,
        kind=AddressRequestKind(r.kind),
        created_at=utc(r.created_at),
        expires_at=utc(r.expires_at),
        used_at=utc_or_none(r.used_at),
    )


class InMemoryAddressRequestRepository:
    def __init__(self, table: Table[UUID, AddressRequest]) -> None:
        self._table = table

    async def add(self, request: AddressRequest) -> None:
        stored = _request(request)
        self._table.insert(stored.id, stored)

    async def redeem(self, token_hash: str, now: datetime) -> AddressRequest | None:
        check_text("token_hash", token_hash)
        check_time("now", now)
        found = next((r for _, r in self._table.rows() if r.token_hash == token_hash), None)
        if found is None or found.used_at is not None or found.expires_at <= now:
            return None
        used = dataclasses.replace(found, used_at=utc(now))
        self._table.replace(found.id, used)
        return dataclasses.replace(used)

    def _expired(self, cutoff: datetime) -> list[AddressRequest]:
        check_time("cutoff", cutoff)
        return [r for _, r in self._table.rows() if r.expires_at < cutoff]

    async def count_expired_before(self, cutoff: datetime) -> int:
        return len(self._expired(cutoff))

    async def delete_expired_before(self, cutoff: datetime, limit: int) -> int:
        doomed = retention_batch(self._expired(cutoff), lambda r: True, lambda r: (r.expires_at, r.id.bytes), limit)
        for request in doomed:
            self._table.delete(request.id)
        return len(doomed)

    async def delete_for_address(self, address_index: str) -> int:
        check_text("address_index", address_index)
        doomed = [key for key, r in self._table.rows() if r.address_index == address_index]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    async def count_for_address(self, address_index: str) -> int:
        check_text("address_index", address_index)
        return sum(1 for _, r in self._table.rows() if r.address_index == address_index)


STORES = MemoryStores(
    tables=(
        TableSpec("support_tickets", duplicate_key="this ticket already exists"),
        TableSpec(
            "ticket_address_requests",
            unique=(Unique(lambda r: r.token_hash, "this token already exists"),),
            duplicate_key="this request already exists",
        ),
    ),
    repositories={
        "support_tickets": lambda s: InMemorySupportTicketRepository(s.table("support_tickets")),
        "ticket_address_requests": lambda s: InMemoryAddressRequestRepository(s.table("ticket_address_requests")),
    },
)
