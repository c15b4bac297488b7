"""Appends that wait for the commit (``repository_kit.DriverWrite``): on a pooled PostgreSQL database a unit of work
whose only write is a consent choice or an analytics batch sends it with its commit, one statement on asyncpg's own
pool, without a session, ``BEGIN`` or ``COMMIT``. These prove that nothing else changes: the rows are the ones a
session writes, a later statement of the same unit of work sees the append, a rollback or a unit of work left without
commit keeps nothing, and a duplicate is ``Conflict`` keeping none of the rows. On SQLite and in memory the same
calls write at once, and answer the same."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dreamina.adapters.sql.models_consent import AnalyticsEventRow, ConsentRecordRow
from dreamina.adapters.sql.repositories_analytics import analytics_row
from dreamina.domain.privacy.errors import Conflict
from dreamina.ports.consent import ConsentMethod
from dreamina.ports.unit_of_work import UnitOfWorkFactory, reader_of
from tests.contract.consent_rows import analytics_event, consent_record
from tests.contract.test_read_only_units_of_work import through_sqlalchemy
from tests.contract.test_repositories_contract import make_account

NOW = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)


def _records(subject: uuid.UUID, device: str) -> list[Any]:
    return [
        consent_record(NOW, subject_id=subject, marketing=True, method=ConsentMethod.API, policy_version=3),
        consent_record(NOW, device_key=device, functional=False, gpc=True, sale_share_opt_out=True),
    ]


def _events(batch: str) -> list[Any]:
    return [
        analytics_event(NOW.date(), pseudonym=batch, feature=None),
        analytics_event(NOW.date(), pseudonym=batch, feature="image", page="/g/ü", country=None),
        analytics_event(NOW.date() - timedelta(days=1), pseudonym=batch, name="click"),
    ]


async def _stored(uow: Any, subject: uuid.UUID, device: str, batch: str) -> list[dict[str, Any]] | None:
    """The rows as the database holds them (every column but the sequence), or None in memory."""
    session = getattr(uow, "_session", None)
    if session is None:
        return None
    consent = ConsentRecordRow.__table__
    events = AnalyticsEventRow.__table__
    found = await session.execute(
        select(consent).where((consent.c.subject_id == subject) | (consent.c.device_key == device))
    )
    rows = [{k: v for k, v in row._mapping.items() if k not in ("seq", "id")} for row in found]
    found = await session.execute(select(events).where(events.c.pseudonym == batch).order_by(events.c.page))
    rows += [{k: v for k, v in row._mapping.items() if k != "id"} for row in found]
    return rows


def _never_made(uow: object) -> bool:
    return getattr(getattr(uow, "_session", None), "made", False) is None


async def test_appends_sent_with_the_commit_are_the_rows_a_session_writes(uow_factory: UnitOfWorkFactory) -> None:
    """The same consent records and analytics events, written by a unit of work whose appends wait for its commit
    and by one that writes them through its session at once: the rows match column for column, type for type."""
    written = []
    for factory in (uow_factory, through_sqlalchemy(uow_factory)):
        subject, device, batch = uuid.uuid4(), f"device-{uuid.uuid4()}", uuid.uuid4().hex
        records, events = _records(subject, device), _events(batch)
        async with factory() as uow:
            await uow.consent_records.add_many(records)
            await uow.analytics_events.add_many(events)
            await uow.commit()
        async with uow_factory() as uow:
            assert await uow.consent_records.history_for_subject(subject) == records[:1]
            assert await uow.consent_records.latest_for_device(device) == records[1]
            counts = await uow.analytics_events.daily_counts(NOW.date() - timedelta(days=1), NOW.date())
            assert sum(c.count for c in counts) >= 3
            stored = await _stored(uow, subject, device, batch)
        if stored is not None:
            for row in stored:  # the owners and the batch differ between the two writes
                for key in ("subject_id", "device_key", "pseudonym"):
                    if row.get(key) is not None:
                        row[key] = "owner"
        written.append(stored)
    assert written[0] == written[1]
    if written[0] is not None:
        assert [[type(v) for v in row.values()] for row in written[0]] == [
            [type(v) for v in row.values()] for row in written[1]
        ]


async def test_an_analytics_batch_is_stored_value_for_value(uow_factory: UnitOfWorkFactory) -> None:
    """Every column of every event of a batch, as the database holds it, is the event's own value (the batch goes to
    PostgreSQL as one JSON text: ids, days, text beyond ASCII and absent values come back as they were)."""
    for factory in (uow_factory, through_sqlalchemy(uow_factory)):
        batch = uuid.uuid4().hex
        events = _events(batch)
        async with factory() as uow:
            await uow.analytics_events.add_many(events)
            await uow.commit()
        async with uow_factory() as uow:
            session = getattr(uow, "_session", None)
            if session is None:
                pytest.skip("the memory store holds the records themselves")
            table = AnalyticsEventRow.__table__
            found = await session.execute(select(table).where(table.c.pseudonym == batch))
        stored = sorted((dict(row._mapping) for row in found), key=lambda row: str(row["id"]))
        want = sorted((analytics_row(e) for e in events), key=lambda row: str(row["id"]))
        assert stored == want
        for got, wanted in zip(stored, want, strict=True):  # a UUID may come back as the driver's own subclass
            assert all(isinstance(got[k], type(v)) for k, v in wanted.items()), (got, wanted)


async def test_a_unit_of_work_whose_only_writes_are_appends_sends_them_with_its_commit(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a pooled PostgreSQL database: its reads and its appends make no session, the commit is one piece of work
    on the driver pool (a consent choice and an analytics batch: one transaction of two statements; an analytics
    batch alone: one statement), and what it wrote is committed for every reader. Elsewhere it is written at once."""
    from dreamina.adapters.sql.driver_pool import DriverPool

    sent: list[list[str]] = []
    execute = DriverPool.execute

    async def counted(self: DriverPool, writes: list[tuple[str, list[Any]]]) -> list[str]:
        sent.append([sql.split(" (", 1)[0] for sql, _ in writes])
        return await execute(self, writes)

    monkeypatch.setattr(DriverPool, "execute", counted)
    subject, device, batch = uuid.uuid4(), f"device-{uuid.uuid4()}", uuid.uuid4().hex
    records, events = _records(subject, device), _events(batch)
    async with uow_factory() as uow:
        assert await uow.consent_records.latest_for_subject(subject) is None
        await uow.consent_records.add_many(records)
        await uow.analytics_events.add_many(events)
        pooled = _never_made(uow)
        await uow.commit()
        assert _never_made(uow) == pooled
    assert sent == ([['INSERT INTO "consent_records"', "INSERT INTO analytics_events"]] if pooled else [])
    sent.clear()
    async with uow_factory() as uow:
        await uow.analytics_events.add_many(_events(batch))
        await uow.commit()
    assert sent == ([["INSERT INTO analytics_events"]] if pooled else [])
    async with reader_of(uow_factory)() as read:
        assert await read.consent_records.latest_for_subject(subject) == records[0]
        assert await read.consent_records.latest_for_device(device) == records[1]


async def test_a_pending_append_is_seen_by_the_rest_of_its_unit_of_work_and_kept_with_its_other_writes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """A read after an append sees it, a write after it commits with it, and either order of an append and a write
    through the session keeps both: what needs the session's connection sends the pending appends first, in its
    transaction."""
    subject, device = uuid.uuid4(), f"device-{uuid.uuid4()}"
    records = _records(subject, device)
    account = make_account()
    async with uow_factory() as uow:
        await uow.consent_records.add_many(records)
        assert await uow.consent_records.latest_for_subject(subject) == records[0]  # read after the append
        assert await uow.consent_records.page_for_device(device, 5) == [records[1]]
        await uow.accounts.add(account)
        assert await uow.accounts.get(account.id) == account
        await uow.commit()
    later = consent_record(NOW, subject_id=subject)
    other = make_account()
    async with uow_factory() as uow:
        await uow.accounts.add(other)  # the session begins first: the append goes straight into its transaction
        await uow.consent_records.add_many([later])
        await uow.commit()
    again = consent_record(NOW, subject_id=subject)
    third = make_account()
    async with uow_factory() as uow:
        await uow.consent_records.add_many([again])  # pending, then a write through the session sends it first
        await uow.accounts.add(third)
        await uow.commit()
    async with reader_of(uow_factory)() as read:
        assert await read.consent_records.history_for_subject(subject) == [records[0], later, again]
        assert [await read.accounts.get(a.id) for a in (account, other, third)] == [account, other, third]


async def test_an_append_never_committed_is_never_kept(uow_factory: UnitOfWorkFactory) -> None:
    """Left without commit, rolled back before its commit, or sent to the session's transaction and rolled back
    with it: none of these appends is kept."""
    subject, batch = uuid.uuid4(), uuid.uuid4().hex
    async with uow_factory() as uow:
        await uow.consent_records.add_many([consent_record(NOW, subject_id=subject)])
        await uow.analytics_events.add_many(_events(batch))
    async with uow_factory() as uow:
        await uow.consent_records.add_many([consent_record(NOW, subject_id=subject)])
        await uow.rollback()
        await uow.commit()  # nothing left to commit
    async with uow_factory() as uow:
        await uow.consent_records.add_many([consent_record(NOW, subject_id=subject)])
        assert await uow.consent_records.latest_for_subject(subject) is not None  # sent, in the transaction
        await uow.rollback()
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.consent_records.add_many([consent_record(NOW, subject_id=subject)])
            raise RuntimeError("the use case failed before its commit")
    async with reader_of(uow_factory)() as read:
        assert await read.consent_records.latest_for_subject(subject) is None
        assert await _batch_count(read, batch) in (0, None)


async def _batch_count(uow: Any, batch: str) -> int | None:
    session = getattr(uow, "_session", None)
    if session is None:
        return None
    events = AnalyticsEventRow.__table__
    return len(list(await session.execute(select(events.c.id).where(events.c.pseudonym == batch))))


async def test_a_duplicate_append_is_a_conflict_and_keeps_none_of_its_rows(uow_factory: UnitOfWorkFactory) -> None:
    """Refused at the call or by the commit that sends it, a batch with a record already there keeps none of its
    records, whether it was sent alone or before a read of the same unit of work."""
    subject = uuid.uuid4()
    first = consent_record(NOW, subject_id=subject)
    async with uow_factory() as uow:
        await uow.consent_records.add_many([first])
        await uow.commit()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.consent_records.add_many([consent_record(NOW, subject_id=subject), first])
            await uow.commit()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.consent_records.add_many([consent_record(NOW, subject_id=subject), first])
            await uow.consent_records.latest_for_subject(subject)
            await uow.commit()
    async with reader_of(uow_factory)() as read:
        assert await read.consent_records.history_for_subject(subject) == [first]
