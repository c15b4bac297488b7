"""SQL adapters of the abuse-report stores: ``abuse_reports``, and ``abuse_report_inbox`` through the children's
flow's inbox adapter."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import delete, func, or_, select, update

from dreamina.adapters.record_rules import check_time
from dreamina.adapters.sql.models_abuse_reports import AbuseReportInboxRow, AbuseReportRow
from dreamina.adapters.sql.models_child_reports import SealedInboxColumns
from dreamina.adapters.sql.repositories_child_reports import SqlChildReportInbox
from dreamina.adapters.sql.repository_kit import SqlRepositories, SqlRepository, insert_into, retention_batch
from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.abuse_reports import AbuseReason, AbuseReport, AbuseReportStatus

_TIMES = ("received_at", "updated_at", "closed_at", "reporter_data_deleted_at")
_ROW = AbuseReportRow


def _values(r: AbuseReport) -> dict[str, Any]:
    for name in _TIMES:
        check_time(name, getattr(r, name))
    return {
        "generation_id": r.generation_id,
        "owner_id": r.owner_id,
        "reporter_id": r.reporter_id,
        "reason": AbuseReason(r.reason).value,
        "via_link": r.via_link,
        "status": AbuseReportStatus(r.status).value,
        "received_at": r.received_at,
        "updated_at": r.updated_at,
        "reporter_key": r.reporter_key,
        "reporter_ciphertext": r.reporter_ciphertext,
        "closed_at": r.closed_at,
        "reporter_data_deleted_at": r.reporter_data_deleted_at,
    }


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _report(row: Any) -> AbuseReport:
    return AbuseReport(
        id=row.id,
        generation_id=row.generation_id,
        owner_id=row.owner_id,
        reporter_id=row.reporter_id,
        reason=AbuseReason(row.reason),
        via_link=bool(row.via_link),
        status=AbuseReportStatus(row.status),
        received_at=row.received_at,
        updated_at=row.updated_at,
        reporter_key=_bytes(row.reporter_key),
        reporter_ciphertext=_bytes(row.reporter_ciphertext),
        closed_at=row.closed_at,
        reporter_data_deleted_at=row.reporter_data_deleted_at,
    )


class SqlAbuseReportRepository(SqlRepository):
    """:class:`~dreamina.ports.abuse_reports.AbuseReportRepository` over ``abuse_reports``."""

    _table = _ROW.__table__
    _oldest_first = (_ROW.received_at, _ROW.id)

    async def add(self, report: AbuseReport) -> None:
        await self._write(
            insert_into(_ROW).values(id=report.id, **_values(report)), conflict="this report already exists"
        )

    async def get(self, report_id: UUID) -> AbuseReport | None:
        row = (await self._session.execute(select(self._table).where(_ROW.id == report_id))).first()
        return None if row is None else _report(row)

    async def update(self, report: AbuseReport) -> None:
        statement = update(_ROW).where(_ROW.id == report.id).values(**_values(report))
        if await self._write(statement, conflict="this report cannot be updated") == 0:
            raise NotFound("no such report")

    async def close_if_open(self, report_id: UUID, status: AbuseReportStatus, now: datetime) -> bool:
        check_time("now", now)
        statement = (
            update(_ROW)
            .where(_ROW.id == report_id, _ROW.status == AbuseReportStatus.OPEN.value)
            .values(status=AbuseReportStatus(status).value, closed_at=now, updated_at=now)
        )
        return await self._write(statement, conflict="this report cannot be closed") == 1

    async def _list(self, *where: Any, limit: int | None = None) -> list[AbuseReport]:
        statement = select(self._table).where(*where).order_by(*self._oldest_first)
        if limit is not None:
            if limit < 0:
                raise ValueError("limit must not be negative")
            statement = statement.limit(limit)
        return [_report(row) for row in await self._session.execute(statement)]

    async def list_open(self, limit: int) -> list[AbuseReport]:
        return await self._list(_ROW.status == AbuseReportStatus.OPEN.value, limit=limit)

    async def list_for_generation(self, generation_id: UUID) -> list[AbuseReport]:
        return await self._list(_ROW.generation_id == generation_id)

    async def list_for_subject(self, subject_id: UUID) -> list[AbuseReport]:
        return await self._list(or_(_ROW.owner_id == subject_id, _ROW.reporter_id == subject_id))

    def _holding_reporter_data(self, closed_before: datetime) -> Any:
        check_time("closed_before", closed_before)
        return (_ROW.closed_at < closed_before, _ROW.reporter_data_deleted_at.is_(None))

    async def delete_reporter_data(self, closed_before: datetime, now: datetime, limit: int) -> int:
        check_time("now", now)
        where = self._holding_reporter_data(closed_before)
        batch = retention_batch(select(_ROW.id).where(*where).order_by(_ROW.closed_at), limit).scalar_subquery()
        statement = (
            update(_ROW)
            .where(_ROW.id.in_(batch))
            .values(reporter_key=None, reporter_ciphertext=None, reporter_data_deleted_at=now)
        )
        return await self._execute_count(statement)

    async def count_reporter_data(self, closed_before: datetime) -> int:
        statement = select(func.count()).select_from(_ROW).where(*self._holding_reporter_data(closed_before))
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_closed(self, closed_before: datetime, limit: int) -> int:
        check_time("closed_before", closed_before)
        where = _ROW.closed_at < closed_before
        batch = retention_batch(select(_ROW.id).where(where).order_by(_ROW.closed_at), limit).scalar_subquery()
        return await self._execute_count(delete(_ROW).where(_ROW.id.in_(batch)))

    async def count_closed(self, closed_before: datetime) -> int:
        check_time("closed_before", closed_before)
        statement = select(func.count()).select_from(_ROW).where(_ROW.closed_at < closed_before)
        return int((await self._session.execute(statement)).scalar_one())


class SqlAbuseReportInbox(SqlChildReportInbox):
    """:class:`~dreamina.ports.child_reports.ChildReportInbox` over ``abuse_report_inbox``."""

    row: ClassVar[type[SealedInboxColumns]] = AbuseReportInboxRow


REPOSITORIES: SqlRepositories = {
    "abuse_reports": SqlAbuseReportRepository,
    "abuse_report_inbox": SqlAbuseReportInbox,
}
"""The abuse-report flow's stores, by their name in the unit of work."""
