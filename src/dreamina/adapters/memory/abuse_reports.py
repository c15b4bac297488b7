"""In-memory fakes of the abuse-report stores; the inbox is the children's flow's fake over a table of its own."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from dreamina.adapters.memory.child_reports import InMemoryChildReportInbox
from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, utc, utc_or_none
from dreamina.adapters.record_rules import check_time
from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.abuse_reports import AbuseReason, AbuseReport, AbuseReportStatus


def _stored(r: AbuseReport) -> AbuseReport:
    for name in ("received_at", "updated_at", "closed_at", "reporter_data_deleted_at"):
        check_time(name, getattr(r, name))
    return dataclasses.replace(
        r,
        reason=AbuseReason(r.reason),
        status=AbuseReportStatus(r.status),
        received_at=utc(r.received_at),
        updated_at=utc(r.updated_at),
        closed_at=utc_or_none(r.closed_at),
        reporter_data_deleted_at=utc_or_none(r.reporter_data_deleted_at),
        reporter_key=None if r.reporter_key is None else bytes(r.reporter_key),
        reporter_ciphertext=None if r.reporter_ciphertext is None else bytes(r.reporter_ciphertext),
    )


def _oldest_first(reports: list[AbuseReport]) -> list[AbuseReport]:
    return [_stored(r) for r in sorted(reports, key=lambda r: (r.received_at, r.id.bytes))]


def _check_limit(limit: int) -> None:
    if limit < 0:
        raise ValueError("limit must not be negative")


class InMemoryAbuseReportRepository:
    def __init__(self, table: Table[UUID, AbuseReport]) -> None:
        self._table = table

    def _where(self, keep: Callable[[AbuseReport], bool]) -> list[AbuseReport]:
        return [r for _, r in self._table.rows() if keep(r)]

    async def add(self, report: AbuseReport) -> None:
        stored = _stored(report)
        self._table.insert(stored.id, stored)

    async def get(self, report_id: UUID) -> AbuseReport | None:
        found = self._table.get(report_id)
        return None if found is None else _stored(found)

    async def update(self, report: AbuseReport) -> None:
        stored = _stored(report)
        if self._table.get(stored.id) is None:
            raise NotFound("no such report")
        self._table.replace(stored.id, stored)

    async def close_if_open(self, report_id: UUID, status: AbuseReportStatus, now: datetime) -> bool:
        check_time("now", now)
        found = self._table.get(report_id)
        if found is None or not found.is_open:
            return False
        closed = _stored(found)
        closed.close(AbuseReportStatus(status), utc(now))
        self._table.replace(report_id, closed)
        return True

    async def list_open(self, limit: int) -> list[AbuseReport]:
        _check_limit(limit)
        return _oldest_first(self._where(lambda r: r.is_open))[:limit]

    async def list_for_generation(self, generation_id: UUID) -> list[AbuseReport]:
        return _oldest_first(self._where(lambda r: r.generation_id == generation_id))

    async def list_for_subject(self, subject_id: UUID) -> list[AbuseReport]:
        return _oldest_first(self._where(lambda r: subject_id in (r.owner_id, r.reporter_id)))

    def _closed(self, closed_before: datetime, *, holding_reporter_data: bool) -> list[AbuseReport]:
        check_time("closed_before", closed_before)
        found = self._where(
            lambda r: (
                r.closed_at is not None
                and r.closed_at < closed_before
                and (not holding_reporter_data or r.reporter_data_deleted_at is None)
            )
        )
        return sorted(found, key=lambda r: (r.closed_at or closed_before, r.id.bytes))

    async def delete_reporter_data(self, closed_before: datetime, now: datetime, limit: int) -> int:
        check_time("now", now)
        _check_limit(limit)
        batch = self._closed(closed_before, holding_reporter_data=True)[:limit]
        for r in batch:
            self._table.replace(
                r.id,
                dataclasses.replace(r, reporter_key=None, reporter_ciphertext=None, reporter_data_deleted_at=utc(now)),
            )
        return len(batch)

    async def count_reporter_data(self, closed_before: datetime) -> int:
        return len(self._closed(closed_before, holding_reporter_data=True))

    async def delete_closed(self, closed_before: datetime, limit: int) -> int:
        _check_limit(limit)
        batch = self._closed(closed_before, holding_reporter_data=False)[:limit]
        for r in batch:
            self._table.delete(r.id)
        return len(batch)

    async def count_closed(self, closed_before: datetime) -> int:
        return len(self._closed(closed_before, holding_reporter_data=False))


STORES = MemoryStores(
    tables=(
        TableSpec("abuse_reports", duplicate_key="this report already exists"),
        TableSpec("abuse_report_inbox", duplicate_key="this report was already received"),
    ),
    repositories={
        "abuse_reports": lambda s: InMemoryAbuseReportRepository(s.table("abuse_reports")),
        "abuse_report_inbox": lambda s: InMemoryChildReportInbox(s.table("abuse_report_inbox")),
    },
)
