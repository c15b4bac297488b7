"""SQL adapter of the child-report repository port over ``child_reports``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import delete, func, select, update

from dreamina.adapters.record_rules import check_time
from dreamina.adapters.sql.models_child_reports import ChildReportInboxRow, ChildReportRow, SealedInboxColumns
from dreamina.adapters.sql.repository_kit import SqlRepositories, SqlRepository, insert_into
from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.child_reports import ChildReport, ReceivedChildReport, ReportSource, ReportStatus

_TIMES = ("received_at", "updated_at", "closed_at", "reporter_data_deleted_at", "statement_at")


def _values(r: ChildReport) -> dict[str, Any]:
    for name in _TIMES:
        check_time(name, getattr(r, name))
    return {
        "subject_id": r.subject_id,
        "source": ReportSource(r.source).value,
        "status": ReportStatus(r.status).value,
        "received_at": r.received_at,
        "updated_at": r.updated_at,
        "reports_received": r.reports_received,
        "suspended_account": r.suspended_account,
        "reporter_key": r.reporter_key,
        "reporters_ciphertext": r.reporters_ciphertext,
        "details_ciphertext": r.details_ciphertext,
        "closed_at": r.closed_at,
        "erasure_request_id": r.erasure_request_id,
        "reporter_data_deleted_at": r.reporter_data_deleted_at,
        "escalated": r.escalated,
        "statement_ciphertext": r.statement_ciphertext,
        "statement_at": r.statement_at,
    }


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _report(row: Any) -> ChildReport:
    return ChildReport(
        id=row.id,
        subject_id=row.subject_id,
        source=ReportSource(row.source),
        status=ReportStatus(row.status),
        received_at=row.received_at,
        updated_at=row.updated_at,
        reports_received=row.reports_received,
        suspended_account=bool(row.suspended_account),
        reporter_key=_bytes(row.reporter_key),
        reporters_ciphertext=_bytes(row.reporters_ciphertext),
        details_ciphertext=_bytes(row.details_ciphertext),
        closed_at=row.closed_at,
        erasure_request_id=row.erasure_request_id,
        reporter_data_deleted_at=row.reporter_data_deleted_at,
        escalated=bool(row.escalated),
        statement_ciphertext=_bytes(row.statement_ciphertext),
        statement_at=row.statement_at,
    )


def _check_limit(limit: int) -> None:
    if limit < 0:
        raise ValueError("limit must not be negative")  # SQLite reads LIMIT -1 as "no limit"


class SqlChildReportRepository(SqlRepository):
    """:class:`~dreamina.ports.child_reports.ChildReportRepository` over ``child_reports``."""

    _table = ChildReportRow.__table__
    _oldest_first = (ChildReportRow.received_at, ChildReportRow.id)

    async def add(self, report: ChildReport) -> None:
        await self._write(
            insert_into(ChildReportRow).values(id=report.id, **_values(report)),
            conflict="this report already exists",
        )

    async def get(self, report_id: UUID) -> ChildReport | None:
        row = (await self._session.execute(select(self._table).where(ChildReportRow.id == report_id))).first()
        return None if row is None else _report(row)

    async def update(self, report: ChildReport) -> None:
        statement = update(ChildReportRow).where(ChildReportRow.id == report.id).values(**_values(report))
        if await self._write(statement, conflict="this report cannot be updated") == 0:
            raise NotFound("no such report")

    async def close_if_open(self, report_id: UUID, status: ReportStatus, now: datetime) -> bool:
        check_time("now", now)
        statement = (
            update(ChildReportRow)
            .where(ChildReportRow.id == report_id, ChildReportRow.status == ReportStatus.OPEN.value)
            .values(status=status.value, closed_at=now, updated_at=now)
        )
        return await self._write(statement, conflict="this report cannot be closed") == 1

    async def reopen(self, report_id: UUID, now: datetime) -> None:
        check_time("now", now)
        statement = (
            update(ChildReportRow)
            .where(ChildReportRow.id == report_id)
            .values(status=ReportStatus.OPEN.value, closed_at=None, updated_at=now)
        )
        if await self._write(statement, conflict="this account already has an open report") == 0:
            raise NotFound("no such report")

    async def open_for_subject(self, subject_id: UUID) -> ChildReport | None:
        statement = (
            select(self._table)
            .where(ChildReportRow.subject_id == subject_id, ChildReportRow.status == ReportStatus.OPEN.value)
            .order_by(*self._oldest_first)
            .limit(1)
        )
        row = (await self._session.execute(statement)).first()
        return None if row is None else _report(row)

    async def list_for_subject(self, subject_id: UUID) -> list[ChildReport]:
        statement = select(self._table).where(ChildReportRow.subject_id == subject_id).order_by(*self._oldest_first)
        return [_report(row) for row in await self._session.execute(statement)]

    async def list_open(self, limit: int, *, include_escalated: bool = True) -> list[ChildReport]:
        statement = (
            select(self._table)
            .where(ChildReportRow.status == ReportStatus.OPEN.value)
            .order_by(*self._oldest_first)
            .limit(max(0, limit))
        )
        if not include_escalated:
            statement = statement.where(ChildReportRow.escalated.is_(False))
        return [_report(row) for row in await self._session.execute(statement)]

    def _holding_reporter_data(self, closed_before: datetime) -> Any:
        check_time("closed_before", closed_before)
        return (ChildReportRow.closed_at < closed_before, ChildReportRow.reporter_data_deleted_at.is_(None))

    async def delete_reporter_data(self, closed_before: datetime, now: datetime, limit: int) -> int:
        check_time("now", now)
        _check_limit(limit)
        # One bounded statement driven by the closed_at index; concurrent sweeps skip each other's rows (PostgreSQL).
        batch = (
            select(ChildReportRow.id)
            .where(*self._holding_reporter_data(closed_before))
            .order_by(ChildReportRow.closed_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(ChildReportRow)
            .where(ChildReportRow.id.in_(batch))
            .values(reporter_key=None, reporters_ciphertext=None, details_ciphertext=None, reporter_data_deleted_at=now)
        )
        return await self._execute_count(statement)

    async def count_reporter_data(self, closed_before: datetime) -> int:
        statement = select(func.count()).select_from(ChildReportRow).where(*self._holding_reporter_data(closed_before))
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_closed(self, closed_before: datetime, limit: int) -> int:
        check_time("closed_before", closed_before)
        _check_limit(limit)
        batch = (
            select(ChildReportRow.id)
            .where(ChildReportRow.closed_at < closed_before)
            .order_by(ChildReportRow.closed_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        return await self._execute_count(delete(ChildReportRow).where(ChildReportRow.id.in_(batch)))

    async def count_closed(self, closed_before: datetime) -> int:
        check_time("closed_before", closed_before)
        statement = select(func.count()).select_from(ChildReportRow).where(ChildReportRow.closed_at < closed_before)
        return int((await self._session.execute(statement)).scalar_one())


class SqlChildReportInbox(SqlRepository):
    """:class:`~dreamina.ports.child_reports.ChildReportInbox` over ``child_report_inbox`` (a subclass names
    another inbox of the same shape in ``row``)."""

    row: ClassVar[type[SealedInboxColumns]] = ChildReportInboxRow

    async def add(self, received: ReceivedChildReport) -> None:
        check_time("received_at", received.received_at)
        await self._write(
            insert_into(self.row).values(
                id=received.id,
                received_at=received.received_at,
                wrapped_key=received.wrapped_key,
                sealed=received.sealed,
            ),
            conflict="this report was already received",
        )

    async def oldest(self, limit: int) -> list[UUID]:
        _check_limit(limit)
        statement = select(self.row.id).order_by(self.row.received_at, self.row.id).limit(limit)
        return list((await self._session.execute(statement)).scalars())

    async def take(self, report_id: UUID) -> ReceivedChildReport | None:
        # DELETE ... RETURNING: of two matchers, the second finds nothing once the first commits (PostgreSQL
        # waits on the row lock; SQLite serialises writers).
        statement = (
            delete(self.row)
            .where(self.row.id == report_id)
            .returning(
                self.row.id,
                self.row.received_at,
                self.row.wrapped_key,
                self.row.sealed,
            )
        )
        row = (await self._session.execute(statement)).first()
        if row is None:
            return None
        return ReceivedChildReport(row.id, row.received_at, bytes(row.wrapped_key), bytes(row.sealed))

    async def delete_older(self, before: datetime, limit: int) -> int:
        check_time("before", before)
        _check_limit(limit)
        batch = (
            select(self.row.id)
            .where(self.row.received_at < before)
            .order_by(self.row.received_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        return await self._execute_count(delete(self.row).where(self.row.id.in_(batch)))

    async def count_older(self, before: datetime) -> int:
        check_time("before", before)
        statement = select(func.count()).select_from(self.row).where(self.row.received_at < before)
        return int((await self._session.execute(statement)).scalar_one())


REPOSITORIES: SqlRepositories = {
    "child_reports": SqlChildReportRepository,
    "child_report_inbox": SqlChildReportInbox,
}
"""The children's flow's stores, by their name in the unit of work."""
