"""A signed-in subject's analytics batch stored only through its gate (``AnalyticsEventStore.add_if_open``): on every
backend the batch is kept exactly when :meth:`AnalyticsGate.open_under` of what ``gate`` reads says so (a yes given
under the policy in effect, no objection, no restriction), all of it or none. On a pooled PostgreSQL database the
gate is part of the one statement that stores the batch, sent with the commit; these tests hold that statement to
the rule the other backends apply in Python, case by case, whether it goes with the commit or through a session."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dreamina.domain.privacy.errors import Conflict
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import Objection
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from tests.contract.consent_rows import analytics_event, consent_record
from tests.contract.test_read_only_units_of_work import through_sqlalchemy

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
VERSION = 3  # the policy version in effect in these cases

Setup = Callable[[UnitOfWork, uuid.UUID], Awaitable[None]]


async def _records(uow: UnitOfWork, subject: uuid.UUID, *choices: tuple[bool, int]) -> None:
    """Consent records of ``subject`` in this order: (analytics, policy version) each, the last one the latest."""
    for i, (analytics, version) in enumerate(choices):
        at = NOW + timedelta(seconds=i)
        await uow.consent_records.add(
            consent_record(at, subject_id=subject, analytics=analytics, policy_version=version)
        )


def _case(
    *choices: tuple[bool, int],
    objected: bool | None = None,
    marketing_objection: bool = False,
    restricted: bool = False,
    other_subject: bool = False,
) -> Setup:
    async def setup(uow: UnitOfWork, subject: uuid.UUID) -> None:
        owner = uuid.uuid4() if other_subject else subject
        await _records(uow, owner, *choices)
        if objected is not None:
            await uow.objections.put(Objection(subject, Purpose.ANALYTICS, objected, NOW))
        if marketing_objection:
            await uow.objections.put(Objection(subject, Purpose.MARKETING, True, NOW))
        if restricted:
            await uow.restrictions.restrict(subject, "accuracy contested", NOW)

    return setup


CASES: dict[str, tuple[Setup, bool]] = {
    "no consent record": (_case(), False),
    "a yes under the policy in effect": (_case((True, VERSION)), True),
    "a yes under an earlier policy": (_case((True, VERSION - 1)), False),
    "a yes under a later policy than the one asked about": (_case((True, VERSION + 1)), False),
    "a no": (_case((False, VERSION)), False),
    "a yes, then a no (the latest counts)": (_case((True, VERSION), (False, VERSION)), False),
    "a no, then a yes": (_case((False, VERSION), (True, VERSION)), True),
    "a yes and an objection to analytics": (_case((True, VERSION), objected=True), False),
    "a yes and an objection withdrawn": (_case((True, VERSION), objected=False), True),
    "a yes and an objection to marketing only": (_case((True, VERSION), marketing_objection=True), True),
    "a yes and a restriction": (_case((True, VERSION), restricted=True), False),
    "someone else's yes": (_case((True, VERSION), other_subject=True), False),
}


async def _count(uow_factory: UnitOfWorkFactory, pseudonym: str) -> int:
    async with uow_factory() as uow:
        return await uow.analytics_events.count_pseudonyms([pseudonym])


@pytest.mark.parametrize("case", list(CASES))
async def test_a_gated_batch_is_kept_exactly_when_its_gate_is_open(uow_factory: UnitOfWorkFactory, case: str) -> None:
    """Sent with the commit and written through a session alike: kept (every event) exactly when the gate read in the
    same state is open under the version asked about, and nothing of it kept otherwise."""
    setup, expected = CASES[case]
    for factory in (uow_factory, through_sqlalchemy(uow_factory)):
        subject, pseudonym = uuid.uuid4(), uuid.uuid4().hex
        async with uow_factory() as uow:
            await setup(uow, subject)
            await uow.commit()
        async with uow_factory() as uow:
            gate = await uow.analytics_events.gate(subject)
        assert gate.open_under(VERSION) is expected
        events = [analytics_event(NOW.date(), pseudonym=pseudonym, page=f"/gallery/{i}") for i in range(3)]
        async with factory() as uow:
            outcome = await uow.analytics_events.add_if_open(subject, VERSION, events)
            await uow.commit()
        assert outcome.stored is expected
        assert await _count(uow_factory, pseudonym) == (3 if expected else 0)


async def test_a_gated_batch_is_one_statement_sent_with_the_commit_on_pooled_postgresql(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """On a pooled PostgreSQL database the gate's reads and the insert are one statement on the driver pool, sent by
    the commit (no read before it, no session): what became of the batch is known from the commit on. Elsewhere it
    is known at once. Either way a batch refused leaves nothing."""
    from dreamina.adapters.sql.driver_pool import DriverPool

    sent: list[int] = []
    fetched: list[str] = []
    execute, fetch = DriverPool.execute, DriverPool.fetch

    async def counted(self: DriverPool, writes: list[tuple[str, list[Any]]]) -> list[str]:
        sent.append(len(writes))
        return await execute(self, writes)

    async def fetch_counted(self: DriverPool, sql: str, args: list[Any]) -> list[Any]:
        fetched.append(sql)
        return await fetch(self, sql, args)

    monkeypatch.setattr(DriverPool, "execute", counted)
    monkeypatch.setattr(DriverPool, "fetch", fetch_counted)
    deferred_seen: list[bool] = []
    for consented in (True, False):
        subject, pseudonym = uuid.uuid4(), uuid.uuid4().hex
        async with uow_factory() as uow:
            await _records(uow, subject, (consented, VERSION))
            await uow.commit()
        sent.clear()
        fetched.clear()
        async with uow_factory() as uow:
            outcome = await uow.analytics_events.add_if_open(
                subject, VERSION, [analytics_event(NOW.date(), pseudonym=pseudonym)]
            )
            deferred = outcome.stored is None
            assert deferred == (getattr(getattr(uow, "_session", None), "made", False) is None)  # pooled: no session
            await uow.commit()
        assert outcome.stored is consented
        assert await _count(uow_factory, pseudonym) == (1 if consented else 0)
        if deferred:  # the pooled PostgreSQL path: one statement of one write, and no read
            assert (sent, fetched) == ([1], [])
            deferred_seen.append(consented)
        else:
            assert sent == []
    assert deferred_seen in ([], [True, False])
    if request.node.name.endswith("[postgres]"):
        assert deferred_seen == [True, False]


async def test_a_gated_batch_never_committed_is_never_kept(uow_factory: UnitOfWorkFactory) -> None:
    subject, pseudonym = uuid.uuid4(), uuid.uuid4().hex
    async with uow_factory() as uow:
        await _records(uow, subject, (True, VERSION))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.analytics_events.add_if_open(subject, VERSION, [analytics_event(NOW.date(), pseudonym=pseudonym)])
    assert await _count(uow_factory, pseudonym) == 0


async def test_a_gated_batch_holding_an_event_already_stored_is_a_conflict_and_keeps_none_of_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    subject, pseudonym = uuid.uuid4(), uuid.uuid4().hex
    first = analytics_event(NOW.date(), pseudonym="q" * 32)
    async with uow_factory() as uow:
        await _records(uow, subject, (True, VERSION))
        await uow.analytics_events.add_many([first])
        await uow.commit()
    again = [analytics_event(NOW.date(), pseudonym=pseudonym), first]
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.analytics_events.add_if_open(subject, VERSION, again)
            await uow.commit()
    assert await _count(uow_factory, pseudonym) == 0
