"""The abuse-report stores behave alike on memory, SQLite and PostgreSQL: round trips, the queue order, the
compare-and-set close, a subject's reports (as owner or reporter), the retention sweeps and the inbox."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from dreamina.ports.abuse_reports import AbuseReason, AbuseReport, AbuseReportStatus
from dreamina.ports.unit_of_work import UnitOfWorkFactory

from .test_child_reports_contract import make_received

AT = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def make_abuse_report(owner: UUID | None = None, **changes: Any) -> AbuseReport:
    report = AbuseReport(
        id=uuid.uuid4(),
        generation_id=uuid.uuid4(),
        owner_id=owner or uuid.uuid4(),
        reporter_id=None,
        reason=AbuseReason.VIOLENCE,
        via_link=False,
        status=AbuseReportStatus.OPEN,
        received_at=AT,
        updated_at=AT,
        reporter_key=b"wrapped-key",
        reporter_ciphertext=b"sealed-reporter",
    )
    return dataclasses.replace(report, **changes)


def closed_abuse_report(at: datetime, **changes: Any) -> AbuseReport:
    return make_abuse_report(status=AbuseReportStatus.DISMISSED, closed_at=at, **changes)


async def _add(uow_factory: UnitOfWorkFactory, *reports: AbuseReport) -> None:
    async with uow_factory() as uow:
        for report in reports:
            await uow.abuse_reports.add(report)
        await uow.commit()


async def test_reports_round_trip_update_and_close_once(uow_factory: UnitOfWorkFactory) -> None:
    report = make_abuse_report(reporter_id=uuid.uuid4(), via_link=True)
    await _add(uow_factory, report)
    async with uow_factory() as uow:
        assert await uow.abuse_reports.get(report.id) == report
        assert await uow.abuse_reports.get(uuid.uuid4()) is None
        changed = dataclasses.replace(
            report, owner_id=uuid.uuid4(), reporter_id=None, reporter_key=None, reporter_ciphertext=None
        )
        await uow.abuse_reports.update(changed)
        await uow.commit()
    later = AT + timedelta(hours=1)
    async with uow_factory() as uow:
        assert await uow.abuse_reports.get(report.id) == changed
        assert await uow.abuse_reports.close_if_open(report.id, AbuseReportStatus.TAKEN_DOWN, later) is True
        assert await uow.abuse_reports.close_if_open(report.id, AbuseReportStatus.DISMISSED, later) is False
        assert await uow.abuse_reports.close_if_open(uuid.uuid4(), AbuseReportStatus.DISMISSED, later) is False
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.abuse_reports.get(report.id)
    assert stored is not None and stored.status is AbuseReportStatus.TAKEN_DOWN and stored.closed_at == later


async def test_queue_generation_and_subject_lists(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    first = make_abuse_report(subject, received_at=AT - timedelta(minutes=2))
    second = make_abuse_report(reporter_id=subject, generation_id=first.generation_id, received_at=AT)
    done = closed_abuse_report(AT, generation_id=first.generation_id)
    await _add(uow_factory, second, done, first)
    async with uow_factory() as uow:
        assert [r.id for r in await uow.abuse_reports.list_open(10)] == [first.id, second.id]
        assert [r.id for r in await uow.abuse_reports.list_open(1)] == [first.id]
        assert {r.id for r in await uow.abuse_reports.list_for_generation(first.generation_id)} == {
            first.id,
            second.id,
            done.id,
        }
        assert [r.id for r in await uow.abuse_reports.list_for_subject(subject)] == [first.id, second.id]
        assert await uow.abuse_reports.list_for_subject(uuid.uuid4()) == []


async def test_retention_drops_reporter_data_then_records(uow_factory: UnitOfWorkFactory) -> None:
    old, recent, still_open = closed_abuse_report(AT - timedelta(days=10)), closed_abuse_report(AT), make_abuse_report()
    await _add(uow_factory, old, recent, still_open)
    cutoff = AT - timedelta(days=1)
    async with uow_factory() as uow:
        assert await uow.abuse_reports.count_reporter_data(cutoff) == 1
        assert await uow.abuse_reports.delete_reporter_data(cutoff, AT, 10) == 1
        await uow.commit()
    async with uow_factory() as uow:
        cleared = await uow.abuse_reports.get(old.id)
        assert cleared is not None and (cleared.reporter_key, cleared.reporter_ciphertext) == (None, None)
        assert cleared.reporter_data_deleted_at == AT
        assert await uow.abuse_reports.count_reporter_data(cutoff) == 0
        assert await uow.abuse_reports.count_closed(cutoff) == 1
        assert await uow.abuse_reports.delete_closed(cutoff, 10) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.abuse_reports.get(old.id) is None
        assert await uow.abuse_reports.get(recent.id) is not None
        assert await uow.abuse_reports.get(still_open.id) is not None


async def test_the_inbox_is_its_own_table(uow_factory: UnitOfWorkFactory) -> None:
    received = make_received(AT)
    async with uow_factory() as uow:
        await uow.abuse_report_inbox.add(received)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.child_report_inbox.oldest(10) == []  # never seen by the children's matcher
        assert await uow.abuse_report_inbox.oldest(10) == [received.id]
        assert await uow.abuse_report_inbox.take(received.id) == received
        assert await uow.abuse_report_inbox.take(received.id) is None
        await uow.commit()
