"""The child-report repository behaves the same in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.ports.child_reports import ChildReport, ReceivedChildReport, ReportSource, ReportStatus
from dreamina.ports.unit_of_work import UnitOfWorkFactory

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def make_report(subject: UUID, **changes: Any) -> ChildReport:
    report = ChildReport(
        id=uuid.uuid4(),
        subject_id=subject,
        source=ReportSource.REPORT,
        status=ReportStatus.OPEN,
        received_at=AT,
        updated_at=AT,
        reports_received=1,
        suspended_account=True,
        reporter_key=b"wrapped-key",
        reporters_ciphertext=b"sealed-reporters",
        details_ciphertext=b"sealed-details",
    )
    return dataclasses.replace(report, **changes)


def make_received(at: datetime = AT) -> ReceivedChildReport:
    return ReceivedChildReport(id=uuid.uuid4(), received_at=at, wrapped_key=b"wrapped-key", sealed=b"sealed-report")


def closed(subject: UUID, at: datetime, **changes: Any) -> ChildReport:
    return make_report(subject, status=ReportStatus.DISMISSED, closed_at=at, **changes)


async def _add(uow_factory: UnitOfWorkFactory, *reports: ChildReport) -> None:
    async with uow_factory() as uow:
        for report in reports:
            await uow.child_reports.add(report)
        await uow.commit()


async def test_reports_round_trip_and_every_field_updates(uow_factory: UnitOfWorkFactory) -> None:
    report = make_report(uuid.uuid4())
    await _add(uow_factory, report)
    async with uow_factory() as uow:
        assert await uow.child_reports.get(report.id) == report
        assert await uow.child_reports.get(uuid.uuid4()) is None
        changed = dataclasses.replace(
            report,
            subject_id=uuid.uuid4(),
            source=ReportSource.BIRTH_DATE,
            status=ReportStatus.CONFIRMED,
            updated_at=AT + timedelta(hours=1),
            reports_received=3,
            suspended_account=False,
            reporter_key=b"other-key",
            reporters_ciphertext=b"other-reporters",
            details_ciphertext=None,
            closed_at=AT + timedelta(hours=1),
            erasure_request_id=uuid.uuid4(),
            reporter_data_deleted_at=AT + timedelta(days=1),
            escalated=True,
            statement_ciphertext=b"sealed-statement",
            statement_at=AT + timedelta(minutes=5),
        )
        await uow.child_reports.update(changed)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.child_reports.get(report.id) == changed
        with pytest.raises(NotFound):
            await uow.child_reports.update(make_report(uuid.uuid4()))
        with pytest.raises(Conflict):
            await uow.child_reports.add(make_report(uuid.uuid4(), id=report.id))


async def test_open_report_of_a_subject_and_the_queue_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    old_closed = closed(subject, AT, received_at=AT - timedelta(days=3))
    open_later = make_report(other, received_at=AT + timedelta(minutes=5))
    open_first = make_report(subject, received_at=AT)
    await _add(uow_factory, open_later, old_closed, open_first)
    async with uow_factory() as uow:
        assert await uow.child_reports.open_for_subject(subject) == open_first
        assert await uow.child_reports.open_for_subject(uuid.uuid4()) is None
        assert [r.id for r in await uow.child_reports.list_open(10)] == [open_first.id, open_later.id]
        assert [r.id for r in await uow.child_reports.list_open(1)] == [open_first.id]
        assert [r.id for r in await uow.child_reports.list_for_subject(subject)] == [old_closed.id, open_first.id]


async def test_reporter_data_goes_in_bounded_batches_once(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    due = [closed(subject, AT + timedelta(minutes=i)) for i in range(3)]
    recent = closed(subject, AT + timedelta(days=200))
    still_open = make_report(subject)
    await _add(uow_factory, *due, recent, still_open)
    cutoff, now = AT + timedelta(days=100), AT + timedelta(days=190)
    async with uow_factory() as uow:
        assert await uow.child_reports.count_reporter_data(cutoff) == 3
        assert await uow.child_reports.delete_reporter_data(cutoff, now, 2) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.child_reports.count_reporter_data(cutoff) == 1
        assert await uow.child_reports.delete_reporter_data(cutoff, now, 2) == 1
        assert await uow.child_reports.delete_reporter_data(cutoff, now, 2) == 0
        await uow.commit()
    async with uow_factory() as uow:
        for report in due:
            stored = await uow.child_reports.get(report.id)
            assert stored is not None
            assert (stored.reporter_key, stored.reporters_ciphertext, stored.details_ciphertext) == (None, None, None)
            assert stored.reporter_data_deleted_at == now and stored.subject_id == subject
        for kept in (recent, still_open):
            assert await uow.child_reports.get(kept.id) == kept


async def test_closed_reports_are_deleted_in_bounded_batches(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    old = [closed(subject, AT + timedelta(minutes=i)) for i in range(3)]
    recent = closed(subject, AT + timedelta(days=2000), received_at=AT + timedelta(days=1999))
    still_open = make_report(subject)
    await _add(uow_factory, *old, recent, still_open)
    cutoff = AT + timedelta(days=1000)
    async with uow_factory() as uow:
        assert await uow.child_reports.count_closed(cutoff) == 3
        assert await uow.child_reports.delete_closed(cutoff, 2) == 2
        assert await uow.child_reports.delete_closed(cutoff, 2) == 1
        assert await uow.child_reports.delete_closed(cutoff, 2) == 0
        await uow.commit()
    async with uow_factory() as uow:
        assert [r.id for r in await uow.child_reports.list_for_subject(subject)] == [still_open.id, recent.id]
        with pytest.raises(ValueError):
            await uow.child_reports.delete_closed(cutoff, -1)


async def test_naive_times_are_refused(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError):
            await uow.child_reports.add(make_report(uuid.uuid4(), received_at=AT.replace(tzinfo=None)))
        with pytest.raises(ValueError):
            await uow.child_reports.count_closed(AT.replace(tzinfo=None))


async def test_an_account_has_at_most_one_open_report(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    first = make_report(subject)
    await _add(uow_factory, first, closed(subject, AT))  # closed ones do not count
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.child_reports.add(make_report(subject))
            await uow.commit()
    reopened = closed(subject, AT + timedelta(hours=1))
    await _add(uow_factory, reopened)
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            reopened.status, reopened.closed_at = ReportStatus.OPEN, None
            await uow.child_reports.update(reopened)
            await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.child_reports.open_for_subject(subject)) == first


async def test_closing_is_a_compare_and_set_and_reopen_undoes_it(uow_factory: UnitOfWorkFactory) -> None:
    report = make_report(uuid.uuid4())
    await _add(uow_factory, report)
    later = AT + timedelta(hours=2)
    async with uow_factory() as uow:
        assert await uow.child_reports.close_if_open(report.id, ReportStatus.CONFIRMED, later) is True
        assert await uow.child_reports.close_if_open(report.id, ReportStatus.DISMISSED, later) is False
        assert await uow.child_reports.close_if_open(uuid.uuid4(), ReportStatus.DISMISSED, later) is False
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.child_reports.get(report.id)
        assert stored is not None
        assert (stored.status, stored.closed_at, stored.updated_at) == (ReportStatus.CONFIRMED, later, later)
        await uow.child_reports.reopen(report.id, later + timedelta(minutes=1))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.child_reports.open_for_subject(report.subject_id) == dataclasses.replace(
            report, updated_at=later + timedelta(minutes=1)
        )
        with pytest.raises(NotFound):
            await uow.child_reports.reopen(uuid.uuid4(), later)


async def test_reports_about_staff_are_left_out_of_the_queue_unless_asked_for(uow_factory: UnitOfWorkFactory) -> None:
    ordinary, escalated = make_report(uuid.uuid4()), make_report(uuid.uuid4(), escalated=True, received_at=AT - SECOND)
    await _add(uow_factory, ordinary, escalated)
    async with uow_factory() as uow:
        assert [r.id for r in await uow.child_reports.list_open(10)] == [escalated.id, ordinary.id]
        assert [r.id for r in await uow.child_reports.list_open(10, include_escalated=False)] == [ordinary.id]


async def test_the_inbox_hands_each_received_report_out_once_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    later, earlier = make_received(AT + SECOND), make_received(AT)
    async with uow_factory() as uow:
        await uow.child_report_inbox.add(later)
        await uow.child_report_inbox.add(earlier)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.child_report_inbox.oldest(10) == [earlier.id, later.id]
        assert await uow.child_report_inbox.oldest(1) == [earlier.id]
        with pytest.raises(Conflict):
            await uow.child_report_inbox.add(dataclasses.replace(later))
    async with uow_factory() as uow:
        assert await uow.child_report_inbox.take(earlier.id) == earlier
        assert await uow.child_report_inbox.take(earlier.id) is None  # taken within this unit of work
        await uow.rollback()
    async with uow_factory() as uow:  # a rolled-back take leaves it for the next matcher
        assert await uow.child_report_inbox.take(earlier.id) == earlier
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.child_report_inbox.take(earlier.id) is None
        assert await uow.child_report_inbox.oldest(10) == [later.id]


async def test_unmatched_received_reports_are_swept_by_age(uow_factory: UnitOfWorkFactory) -> None:
    old, young = make_received(AT - timedelta(days=8)), make_received(AT)
    async with uow_factory() as uow:
        await uow.child_report_inbox.add(old)
        await uow.child_report_inbox.add(young)
        await uow.commit()
    cutoff = AT - timedelta(days=7)
    async with uow_factory() as uow:
        assert await uow.child_report_inbox.count_older(cutoff) == 1
        assert await uow.child_report_inbox.delete_older(cutoff, 10) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.child_report_inbox.count_older(cutoff) == 0
        assert await uow.child_report_inbox.oldest(10) == [young.id]
