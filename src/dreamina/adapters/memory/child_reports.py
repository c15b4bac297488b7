"""In-memory fake of the child-report repository, over a table of an :class:`InMemoryDatabase` unit of work."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from uuid import UUID

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, utc, utc_or_none
from dreamina.adapters.record_rules import check_time
from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.ports.child_reports import ChildReport, ReceivedChildReport, ReportSource, ReportStatus


def _stored(r: ChildReport) -> ChildReport:
    for name in ("received_at", "updated_at", "closed_at", "reporter_data_deleted_at", "statement_at"):
        check_time(name, getattr(r, name))
    return dataclasses.replace(
        r,
        source=ReportSource(r.source),
        status=ReportStatus(r.status),
        received_at=utc(r.received_at),
        updated_at=utc(r.updated_at),
        closed_at=utc_or_none(r.closed_at),
        reporter_data_deleted_at=utc_or_none(r.reporter_data_deleted_at),
        statement_at=utc_or_none(r.statement_at),
        statement_ciphertext=None if r.statement_ciphertext is None else bytes(r.statement_ciphertext),
        reporter_key=None if r.reporter_key is None else bytes(r.reporter_key),
        reporters_ciphertext=None if r.reporters_ciphertext is None else bytes(r.reporters_ciphertext),
        details_ciphertext=None if r.details_ciphertext is None else bytes(r.details_ciphertext),
    )


def _oldest_first(reports: list[ChildReport]) -> list[ChildReport]:
    return sorted(reports, key=lambda r: (r.received_at, r.id.bytes))


class InMemoryChildReportRepository:
    def __init__(self, table: Table[UUID, ChildReport]) -> None:
        self._table = table

    def _refuse_second_open(self, report: ChildReport) -> None:
        """Mirrors the stores' partial unique index: at most one open report per account."""
        if report.status is ReportStatus.OPEN and any(
            r.subject_id == report.subject_id and r.status is ReportStatus.OPEN and r.id != report.id
            for _, r in self._table.rows()
        ):
            raise Conflict("this account already has an open report")

    async def add(self, report: ChildReport) -> None:
        stored = _stored(report)
        self._refuse_second_open(stored)
        self._table.insert(stored.id, stored)

    async def get(self, report_id: UUID) -> ChildReport | None:
        found = self._table.get(report_id)
        return None if found is None else _stored(found)

    async def update(self, report: ChildReport) -> None:
        stored = _stored(report)
        if self._table.get(stored.id) is None:
            raise NotFound("no such report")
        self._refuse_second_open(stored)
        self._table.replace(stored.id, stored)

    async def close_if_open(self, report_id: UUID, status: ReportStatus, now: datetime) -> bool:
        check_time("now", now)
        found = self._table.get(report_id)
        if found is None or not found.is_open:
            return False
        closed = _stored(found)
        closed.close(ReportStatus(status), utc(now))
        self._table.replace(report_id, closed)
        return True

    async def reopen(self, report_id: UUID, now: datetime) -> None:
        check_time("now", now)
        found = self._table.get(report_id)
        if found is None:
            raise NotFound("no such report")
        reopened = _stored(found)
        reopened.reopen(utc(now))
        self._refuse_second_open(reopened)
        self._table.replace(report_id, reopened)

    async def open_for_subject(self, subject_id: UUID) -> ChildReport | None:
        found = [r for _, r in self._table.rows() if r.subject_id == subject_id and r.status is ReportStatus.OPEN]
        return _stored(_oldest_first(found)[0]) if found else None

    async def list_for_subject(self, subject_id: UUID) -> list[ChildReport]:
        return [_stored(r) for r in _oldest_first([r for _, r in self._table.rows() if r.subject_id == subject_id])]

    async def list_open(self, limit: int, *, include_escalated: bool = True) -> list[ChildReport]:
        found = [
            r for _, r in self._table.rows() if r.status is ReportStatus.OPEN and (include_escalated or not r.escalated)
        ]
        return [_stored(r) for r in _oldest_first(found)[: max(0, limit)]]

    def _holding_reporter_data(self, closed_before: datetime) -> list[ChildReport]:
        check_time("closed_before", closed_before)
        found = [
            r
            for _, r in self._table.rows()
            if r.closed_at is not None and r.closed_at < closed_before and r.reporter_data_deleted_at is None
        ]
        return sorted(found, key=lambda r: (r.closed_at or closed_before, r.id.bytes))

    async def delete_reporter_data(self, closed_before: datetime, now: datetime, limit: int) -> int:
        check_time("now", now)
        if limit < 0:
            raise ValueError("limit must not be negative")
        batch = self._holding_reporter_data(closed_before)[:limit]
        for r in batch:
            self._table.replace(
                r.id,
                dataclasses.replace(
                    r,
                    reporter_key=None,
                    reporters_ciphertext=None,
                    details_ciphertext=None,
                    reporter_data_deleted_at=utc(now),
                ),
            )
        return len(batch)

    async def count_reporter_data(self, closed_before: datetime) -> int:
        return len(self._holding_reporter_data(closed_before))

    def _closed(self, closed_before: datetime) -> list[ChildReport]:
        check_time("closed_before", closed_before)
        found = [r for _, r in self._table.rows() if r.closed_at is not None and r.closed_at < closed_before]
        return sorted(found, key=lambda r: (r.closed_at or closed_before, r.id.bytes))

    async def delete_closed(self, closed_before: datetime, limit: int) -> int:
        if limit < 0:
            raise ValueError("limit must not be negative")
        batch = self._closed(closed_before)[:limit]
        for r in batch:
            self._table.delete(r.id)
        return len(batch)

    async def count_closed(self, closed_before: datetime) -> int:
        return len(self._closed(closed_before))


class InMemoryChildReportInbox:
    """Fake of the inbox. Unlike the SQL adapter, two units of work taking the same report at once both get it
    (the memory tables do not detect a row deleted twice); tests run one matcher at a time."""

    def __init__(self, table: Table[UUID, ReceivedChildReport]) -> None:
        self._table = table

    async def add(self, received: ReceivedChildReport) -> None:
        check_time("received_at", received.received_at)
        self._table.insert(
            received.id,
            dataclasses.replace(
                received,
                received_at=utc(received.received_at),
                wrapped_key=bytes(received.wrapped_key),
                sealed=bytes(received.sealed),
            ),
        )

    def _oldest_first(self) -> list[ReceivedChildReport]:
        return sorted((r for _, r in self._table.rows()), key=lambda r: (r.received_at, r.id.bytes))

    async def oldest(self, limit: int) -> list[UUID]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        return [r.id for r in self._oldest_first()[:limit]]

    async def take(self, report_id: UUID) -> ReceivedChildReport | None:
        found = self._table.get(report_id)
        if found is None or not self._table.delete(report_id):
            return None
        return found

    def _older(self, before: datetime) -> list[ReceivedChildReport]:
        check_time("before", before)
        return [r for r in self._oldest_first() if r.received_at < before]

    async def delete_older(self, before: datetime, limit: int) -> int:
        if limit < 0:
            raise ValueError("limit must not be negative")
        batch = self._older(before)[:limit]
        for r in batch:
            self._table.delete(r.id)
        return len(batch)

    async def count_older(self, before: datetime) -> int:
        return len(self._older(before))


STORES = MemoryStores(
    tables=(
        TableSpec("child_reports", duplicate_key="this report already exists"),
        TableSpec("child_report_inbox", duplicate_key="this report was already received"),
    ),
    repositories={
        "child_reports": lambda s: InMemoryChildReportRepository(s.table("child_reports")),
        "child_report_inbox": lambda s: InMemoryChildReportInbox(s.table("child_report_inbox")),
    },
)
