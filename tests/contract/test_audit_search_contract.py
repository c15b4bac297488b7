"""The audit trail's staff search (``AuditLog.search``), the same on the fakes, SQLite and PostgreSQL: every filter,
newest first, keyset pages that neither skip nor repeat an event, events at one instant ordered by id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dreamina.ports.audit import ActorKind, AuditCursor, AuditEvent, AuditQuery
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .test_repositories_contract import NOW, committed, make_event


async def _store(uow_factory: UnitOfWorkFactory, events: list[AuditEvent]) -> None:
    async def add_all(uow: UnitOfWork) -> None:
        for event_ in events:
            await uow.audit.append(event_)

    await committed(uow_factory, add_all)


async def _search(
    uow_factory: UnitOfWorkFactory, query: AuditQuery, limit: int = 100, before: AuditCursor | None = None
) -> list[AuditEvent]:
    async with uow_factory() as uow:
        return await uow.audit.search(query, limit, before)


async def test_search_filters_every_way_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    alice, bob, staff = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    e1 = make_event(
        alice, NOW - timedelta(days=2), action="privacy_request.received", actor_kind="subject", actor_id=alice
    )
    e2 = make_event(alice, NOW - timedelta(days=1), action="staff_viewed_privacy_request", actor_id=staff)
    e3 = make_event(bob, NOW, action="privacy_request.completed", actor_kind="system", actor_id=None, reason=None)
    e4 = make_event(bob, NOW + timedelta(hours=1), action="Privacy_request.other", actor_id=staff)
    await _store(uow_factory, [e3, e1, e4, e2])

    assert await _search(uow_factory, AuditQuery()) == [e4, e3, e2, e1]
    assert await _search(uow_factory, AuditQuery(action_prefix="privacy_request.")) == [e3, e1]  # case-sensitive
    assert await _search(uow_factory, AuditQuery(action_prefix="privacy_request.completed")) == [e3]
    assert await _search(uow_factory, AuditQuery(action_prefix="%")) == []  # no wildcard
    assert await _search(uow_factory, AuditQuery(actor_kind=ActorKind.STAFF)) == [e4, e2]
    assert await _search(uow_factory, AuditQuery(actor_kind=ActorKind.SYSTEM)) == [e3]
    assert await _search(uow_factory, AuditQuery(actor_id=staff)) == [e4, e2]
    assert await _search(uow_factory, AuditQuery(subject_id=alice)) == [e2, e1]
    assert await _search(uow_factory, AuditQuery(since=NOW - timedelta(days=1))) == [e4, e3, e2]  # since included
    assert await _search(uow_factory, AuditQuery(until=NOW)) == [e2, e1]  # until excluded
    both = AuditQuery(subject_id=bob, actor_id=staff, since=NOW, until=NOW + timedelta(days=1))
    assert await _search(uow_factory, both) == [e4]
    assert await _search(uow_factory, AuditQuery(subject_id=uuid.uuid4())) == []
    assert await _search(uow_factory, AuditQuery(), limit=2) == [e4, e3]
    assert await _search(uow_factory, AuditQuery(), limit=0) == []


async def test_keyset_pages_cover_every_event_once_even_at_one_instant(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    same_instant = [make_event(subject, NOW) for _ in range(5)]
    others = [make_event(subject, NOW - timedelta(seconds=n)) for n in (1, 2, 3)]
    await _store(uow_factory, same_instant + others)
    expected = sorted(same_instant, key=lambda e: e.id, reverse=True) + others

    pages: list[list[AuditEvent]] = []
    cursor: AuditCursor | None = None
    while True:
        found = await _search(uow_factory, AuditQuery(subject_id=subject), 3, cursor)
        if not found:
            break
        pages.append(found)
        cursor = AuditCursor(found[-1].occurred_at, found[-1].id)
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [e.id for p in pages for e in p] == [e.id for e in expected]


async def test_a_cursor_in_another_time_zone_means_the_same_instant(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    newer, older = make_event(subject, NOW), make_event(subject, NOW - timedelta(minutes=1))
    await _store(uow_factory, [newer, older])
    elsewhere = NOW.astimezone(timezone(timedelta(hours=5)))
    found = await _search(uow_factory, AuditQuery(subject_id=subject), 10, AuditCursor(elsewhere, newer.id))
    assert found == [older]


async def test_naive_times_are_refused(uow_factory: UnitOfWorkFactory) -> None:
    naive = datetime(2026, 5, 1, 12, 0)
    assert naive.tzinfo is None and NOW.tzinfo is UTC
    with pytest.raises(ValueError):
        await _search(uow_factory, AuditQuery(since=naive))
    with pytest.raises(ValueError):
        await _search(uow_factory, AuditQuery(), before=AuditCursor(naive, uuid.uuid4()))
