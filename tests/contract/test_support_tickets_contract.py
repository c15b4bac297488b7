"""Contract suite of the support-ticket port, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.ports.support import AddressRequest, AddressRequestKind, SupportTicket
from dreamina.ports.unit_of_work import UnitOfWorkFactory

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make_ticket(subject_id: uuid.UUID | None = None, **overrides: Any) -> SupportTicket:
    ticket = SupportTicket(
        id=uuid.uuid4(),
        subject_id=subject_id,
        category="billing",
        status="open",
        received_at=AT,
        updated_at=AT,
        subject_line_ciphertext=b"sealed subject",
        message_ciphertext=b"sealed message",
        reply_to_ciphertext=None if subject_id else b"sealed address",
        wrapped_key=None if subject_id else b"wrapped key",
    )
    return dataclasses.replace(ticket, **overrides)


async def _add(uow_factory: UnitOfWorkFactory, *tickets: SupportTicket) -> None:
    async with uow_factory() as uow:
        for ticket in tickets:
            await uow.support_tickets.add(ticket)
        await uow.commit()


async def test_round_trip_update_and_the_subjects_list(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    old = make_ticket(subject)
    new = make_ticket(
        subject,
        received_at=AT + timedelta(hours=1),
        category="privacy",
        jurisdiction="DE",
        due_at=AT + timedelta(days=30),
    )
    anonymous = make_ticket(None, category="other")
    await _add(uow_factory, old, new, anonymous, make_ticket(uuid.uuid4()))
    async with uow_factory() as uow:
        assert await uow.support_tickets.get(anonymous.id) == anonymous
        assert await uow.support_tickets.get(new.id) == new
        assert [t.id for t in await uow.support_tickets.list_for_subject(subject)] == [new.id, old.id]
        assert await uow.support_tickets.get(uuid.uuid4()) is None
        old.status, old.closed_at, old.answered_at = "closed", AT + timedelta(days=1), AT + timedelta(days=1)
        old.replies_ciphertext, old.flag = b"sealed replies", "overdue"
        await uow.support_tickets.update(old)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.support_tickets.get(old.id) == old
        with pytest.raises(NotFound):
            await uow.support_tickets.update(make_ticket(subject))
        with pytest.raises(Conflict):
            await uow.support_tickets.add(make_ticket(subject, id=old.id))


async def test_the_queue_is_soonest_due_first_then_oldest(uow_factory: UnitOfWorkFactory) -> None:
    late = make_ticket(uuid.uuid4(), category="privacy", due_at=AT + timedelta(days=30))
    soon = make_ticket(None, category="privacy", due_at=AT + timedelta(days=2), received_at=AT + timedelta(hours=2))
    undated_old = make_ticket(None, category="billing", received_at=AT - timedelta(days=1))
    undated_new = make_ticket(None, category="other", received_at=AT + timedelta(hours=3))
    closed = make_ticket(None, category="privacy", status="closed", due_at=AT, closed_at=AT)
    await _add(uow_factory, late, soon, undated_new, undated_old, closed)
    async with uow_factory() as uow:
        tickets = uow.support_tickets
        everything = await tickets.list_open(
            categories=("privacy", "billing", "other"), statuses=("open", "answered"), limit=10
        )
        assert [t.id for t in everything] == [soon.id, late.id, undated_old.id, undated_new.id]
        privacy = await tickets.list_open(categories=("privacy",), statuses=("open",), limit=10)
        assert [t.id for t in privacy] == [soon.id, late.id]
        support = await tickets.list_open(categories=("billing", "other"), statuses=("open",), limit=1)
        assert [t.id for t in support] == [undated_old.id]
        due = await tickets.list_open(
            categories=("privacy", "billing"), statuses=("open",), due_before=AT + timedelta(days=3), limit=10
        )
        assert [t.id for t in due] == [soon.id]


async def test_closed_tickets_are_deleted_in_bounded_batches_by_category(
    uow_factory: UnitOfWorkFactory, stored_rows: Any
) -> None:
    cutoff = AT + timedelta(days=10)
    doomed = [make_ticket(None, status="closed", closed_at=AT + timedelta(days=i)) for i in range(3)]
    young = make_ticket(None, status="closed", closed_at=cutoff + timedelta(seconds=1))
    open_old = make_ticket(None, received_at=AT - timedelta(days=900))
    other_category = make_ticket(uuid.uuid4(), category="privacy", status="closed", closed_at=AT)
    await _add(uow_factory, *doomed, young, open_old, other_category)
    async with uow_factory() as uow:
        assert await uow.support_tickets.count_closed_before(("billing", "other"), cutoff) == 3
        assert await uow.support_tickets.delete_closed_before(("billing", "other"), cutoff, 2) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.support_tickets.delete_closed_before(("billing", "other"), cutoff, 2) == 1
        assert await uow.support_tickets.delete_closed_before(("billing", "other"), cutoff, 2) == 0
        with pytest.raises(ValueError):
            await uow.support_tickets.delete_closed_before(("billing",), cutoff, -1)
        await uow.commit()
    assert (await stored_rows())["support_tickets"] == 3
    async with uow_factory() as uow:
        for kept in (young, open_old, other_category):
            assert await uow.support_tickets.get(kept.id) == kept


async def test_an_answered_ticket_nobody_closed_counts_from_its_last_answer(uow_factory: UnitOfWorkFactory) -> None:
    cutoff = AT + timedelta(days=10)
    answered_long_ago = make_ticket(None, status="answered", answered_at=cutoff - timedelta(seconds=1))
    answered_lately = make_ticket(None, status="answered", answered_at=cutoff + timedelta(seconds=1))
    open_old = make_ticket(None, received_at=AT - timedelta(days=900))  # not answered yet: never swept
    closed_first = make_ticket(None, status="closed", closed_at=AT, answered_at=cutoff + timedelta(days=1))
    await _add(uow_factory, answered_long_ago, answered_lately, open_old, closed_first)
    async with uow_factory() as uow:
        assert await uow.support_tickets.count_closed_before(("billing",), cutoff) == 2
        # oldest first by the moment each one's clock started: the closed one (AT), then the answered one
        assert await uow.support_tickets.delete_closed_before(("billing",), cutoff, 1) == 1
        assert await uow.support_tickets.get(closed_first.id) is None
        assert await uow.support_tickets.delete_closed_before(("billing",), cutoff, 5) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.support_tickets.get(answered_long_ago.id) is None
        for kept in (answered_lately, open_old):
            assert await uow.support_tickets.get(kept.id) == kept


async def test_delete_for_subject_takes_only_their_tickets(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    theirs = [make_ticket(subject), make_ticket(subject, category="privacy")]
    others = [make_ticket(uuid.uuid4()), make_ticket(None)]
    await _add(uow_factory, *theirs, *others)
    async with uow_factory() as uow:
        assert await uow.support_tickets.delete_for_subject(subject) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.support_tickets.list_for_subject(subject) == []
        assert await uow.support_tickets.delete_for_subject(subject) == 0
        for kept in others:
            assert await uow.support_tickets.get(kept.id) == kept


async def test_refuses_nul_and_naive_times_and_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError):
            await uow.support_tickets.add(make_ticket(None, jurisdiction="D\x00E"))
        with pytest.raises(ValueError):
            await uow.support_tickets.add(make_ticket(None, received_at=AT.replace(tzinfo=None)))
        await uow.support_tickets.add(make_ticket(None, id=(lost := uuid.uuid4())))
    async with uow_factory() as uow:
        assert await uow.support_tickets.get(lost) is None


async def test_anonymous_tickets_are_found_and_deleted_by_their_address_index(uow_factory: UnitOfWorkFactory) -> None:
    """Only tickets without a subject and with exactly that index; newest first; the backfill's list and write."""
    subject = uuid.uuid4()
    older = make_ticket(None, reply_to_index="a" * 64)
    newer = make_ticket(None, reply_to_index="a" * 64, received_at=AT + timedelta(hours=1))
    signed_in = make_ticket(subject, reply_to_index="a" * 64)  # a subject's own ticket is theirs, not the address's
    other_address = make_ticket(None, reply_to_index="b" * 64)
    unindexed = make_ticket(None)
    await _add(uow_factory, older, newer, signed_in, other_address, unindexed)
    async with uow_factory() as uow:
        found = await uow.support_tickets.list_anonymous_for_address("a" * 64)
        assert [t.id for t in found] == [newer.id, older.id]
        assert found[0] == newer
        assert [t.id for t in await uow.support_tickets.list_unindexed(10)] == [unindexed.id]
        assert await uow.support_tickets.list_unindexed(0) == []
        await uow.support_tickets.set_reply_to_index(unindexed.id, "c" * 64)
        with pytest.raises(NotFound):
            await uow.support_tickets.set_reply_to_index(uuid.uuid4(), "c" * 64)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.support_tickets.list_unindexed(10) == []
        assert [t.id for t in await uow.support_tickets.list_anonymous_for_address("c" * 64)] == [unindexed.id]
        assert await uow.support_tickets.delete_anonymous_for_address("a" * 64) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.support_tickets.list_anonymous_for_address("a" * 64) == []
        assert await uow.support_tickets.get(signed_in.id) == signed_in
        assert await uow.support_tickets.get(other_address.id) == other_address
        with pytest.raises(ValueError):
            await uow.support_tickets.list_anonymous_for_address("a\x00")


def make_address_request(index: str = "a" * 64, **overrides: Any) -> AddressRequest:
    request = AddressRequest(
        id=uuid.uuid4(),
        kind=AddressRequestKind.ERASURE,
        address_index=index,
        token_hash=uuid.uuid4().hex,
        created_at=AT,
        expires_at=AT + timedelta(hours=24),
    )
    return dataclasses.replace(request, **overrides)


async def test_an_address_request_is_redeemed_once_before_it_expires(uow_factory: UnitOfWorkFactory) -> None:
    live, expired = make_address_request(), make_address_request(expires_at=AT)
    async with uow_factory() as uow:
        await uow.ticket_address_requests.add(live)
        await uow.ticket_address_requests.add(expired)
        with pytest.raises(Conflict):
            await uow.ticket_address_requests.add(make_address_request(token_hash=live.token_hash))
        await uow.commit()
    later = AT + timedelta(minutes=5)
    async with uow_factory() as uow:
        assert await uow.ticket_address_requests.redeem(expired.token_hash, later) is None
        assert await uow.ticket_address_requests.redeem("unknown", later) is None
        redeemed = await uow.ticket_address_requests.redeem(live.token_hash, later)
        assert redeemed == dataclasses.replace(live, used_at=later)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.ticket_address_requests.redeem(live.token_hash, later) is None  # single use
        assert await uow.ticket_address_requests.count_for_address("a" * 64) == 2


async def test_address_requests_go_by_expiry_in_batches_and_with_their_address(uow_factory: UnitOfWorkFactory) -> None:
    mine = [make_address_request(expires_at=AT + timedelta(hours=h)) for h in range(3)]
    other = make_address_request("b" * 64, expires_at=AT + timedelta(days=3))
    async with uow_factory() as uow:
        for request in (*mine, other):
            await uow.ticket_address_requests.add(request)
        await uow.commit()
    cutoff = AT + timedelta(hours=1, minutes=30)
    async with uow_factory() as uow:
        assert await uow.ticket_address_requests.count_expired_before(cutoff) == 2
        assert await uow.ticket_address_requests.delete_expired_before(cutoff, 1) == 1
        assert await uow.ticket_address_requests.delete_expired_before(cutoff, 5) == 1
        assert await uow.ticket_address_requests.delete_expired_before(cutoff, 5) == 0
        with pytest.raises(ValueError):
            await uow.ticket_address_requests.delete_expired_before(cutoff.replace(tzinfo=None), 5)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.ticket_address_requests.count_for_address("a" * 64) == 1
        assert await uow.ticket_address_requests.delete_for_address("a" * 64) == 1
        assert await uow.ticket_address_requests.count_for_address("b" * 64) == 1
        await uow.commit()
