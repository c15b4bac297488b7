"""SQL adapters of the consent ports (consent history, objections, notices, analytics) and of staff roles.

Same rules as :mod:`dreamina.adapters.sql.repositories`: explicit statements, writes in a SAVEPOINT, NUL and
naive datetimes refused before any SQL runs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnClause, bindparam, delete, exists, func, literal_column, select, text, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql import partitions
from dreamina.adapters.sql.models_consent import (
    AnalyticsEventRow,
    ConsentRecordRow,
    ObjectionRow,
    PolicyNoticeRow,
)
from dreamina.adapters.sql.models_identity import AccountRow
from dreamina.adapters.sql.partitions import ANALYTICS_EVENTS, is_postgres
from dreamina.adapters.sql.repository_kit import (
    DriverRead,
    DriverWrite,
    SqlRepositories,
    SqlRepository,
    insert_into,
    on_postgres,
    retention_batch,
)
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import (
    AnalyticsEvent,
    ConsentMethod,
    ConsentRecord,
    DailyCount,
    Objection,
    PolicyNotice,
)
from dreamina.ports.identity import NOTIFIED_STATUSES


def check_owner(subject_id: UUID | None, device_key: str | None) -> None:
    if (subject_id is None) == (device_key is None):
        raise ValueError("a consent record belongs to exactly one subject or one device")


def _consent(row: Any) -> ConsentRecord:
    return ConsentRecord(
        id=row.id,
        subject_id=row.subject_id,
        device_key=row.device_key,
        functional=row.functional,
        analytics=row.analytics,
        marketing=row.marketing,
        sale_share_opt_out=row.sale_share_opt_out,
        gpc=row.gpc,
        method=ConsentMethod(row.method),
        policy_version=row.policy_version,
        content_sha256=row.content_sha256,
        recorded_at=row.recorded_at,
    )


_CONSENT_COLUMNS = [c for c in ConsentRecordRow.__table__.columns if c.name != "seq"]
_OWNERS = {"subject": ConsentRecordRow.subject_id, "device": ConsentRecordRow.device_key}
# Built once, for the reads every consent write and check makes (the latest record, the newest page): building the
# expression per call cost more CPU than running it.
_OWNED = {kind: select(*_CONSENT_COLUMNS).where(column == bindparam("owner")) for kind, column in _OWNERS.items()}
_LATEST = {kind: DriverRead(owned.order_by(ConsentRecordRow.seq.desc()).limit(1)) for kind, owned in _OWNED.items()}
_NEWEST = {
    kind: DriverRead(owned.order_by(ConsentRecordRow.seq.desc()).limit(bindparam("limit")))
    for kind, owned in _OWNED.items()
}
_OBJECTS_TO = DriverRead(
    select(ObjectionRow.objected).where(
        ObjectionRow.subject_id == bindparam("subject_id"), ObjectionRow.purpose == bindparam("purpose")
    )
)


_APPENDED_TWICE = "this consent record already exists"


def _consent_values(record: ConsentRecord) -> dict[str, Any]:
    check_owner(record.subject_id, record.device_key)
    check_text("device_key", record.device_key)
    check_text("content_sha256", record.content_sha256)
    check_time("recorded_at", record.recorded_at)
    return {
        "id": record.id,
        "subject_id": record.subject_id,
        "device_key": record.device_key,
        "functional": record.functional,
        "analytics": record.analytics,
        "marketing": record.marketing,
        "sale_share_opt_out": record.sale_share_opt_out,
        "gpc": record.gpc,
        "method": ConsentMethod(record.method).value,
        "policy_version": record.policy_version,
        "content_sha256": record.content_sha256,
        "recorded_at": record.recorded_at,
    }


class SqlConsentRecordRepository(SqlRepository):
    """:class:`~dreamina.ports.consent.ConsentRecordRepository` over ``consent_records`` (append-only)."""

    async def add(self, record: ConsentRecord) -> None:
        await self._append(ConsentRecordRow, _consent_values(record), conflict=_APPENDED_TWICE)

    async def add_many(self, records: list[ConsentRecord]) -> None:
        if records:
            rows = [_consent_values(record) for record in records]
            await self._append_many(ConsentRecordRow, rows, conflict=_APPENDED_TWICE)

    async def _latest(self, kind: str, owner: UUID | str) -> ConsentRecord | None:
        row = await _LATEST[kind].first(self._session, {"owner": owner})
        return None if row is None else _consent(row)

    async def _history(self, where: Any) -> list[ConsentRecord]:
        statement = select(*_CONSENT_COLUMNS).where(where).order_by(ConsentRecordRow.seq)
        return [_consent(row) for row in await self._session.execute(statement)]

    async def _page(self, kind: str, owner: UUID | str, limit: int, before: UUID | None) -> list[ConsentRecord]:
        if before is None:  # the newest page: what every consent answer shows
            rows = await _NEWEST[kind].rows(self._session, {"owner": owner, "limit": limit})
            return [_consent(row) for row in rows]
        where = _OWNERS[kind] == owner
        anchor = select(ConsentRecordRow.seq).where(where, ConsentRecordRow.id == before).scalar_subquery()
        statement = _OWNED[kind].where(ConsentRecordRow.seq < anchor).order_by(ConsentRecordRow.seq.desc()).limit(limit)
        return [_consent(row) for row in await self._session.execute(statement, {"owner": owner})]

    async def page_for_subject(self, subject_id: UUID, limit: int, before: UUID | None = None) -> list[ConsentRecord]:
        return await self._page("subject", subject_id, limit, before)

    async def page_for_device(self, device_key: str, limit: int, before: UUID | None = None) -> list[ConsentRecord]:
        check_text("device_key", device_key)
        return await self._page("device", device_key, limit, before)

    async def latest_for_subject(self, subject_id: UUID) -> ConsentRecord | None:
        return await self._latest("subject", subject_id)

    async def latest_for_device(self, device_key: str) -> ConsentRecord | None:
        check_text("device_key", device_key)
        return await self._latest("device", device_key)

    async def history_for_subject(self, subject_id: UUID) -> list[ConsentRecord]:
        return await self._history(ConsentRecordRow.subject_id == subject_id)

    async def history_for_device(self, device_key: str) -> list[ConsentRecord]:
        check_text("device_key", device_key)
        return await self._history(ConsentRecordRow.device_key == device_key)

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(delete(ConsentRecordRow).where(ConsentRecordRow.subject_id == subject_id))

    @staticmethod
    def _device_record_before(cutoff: datetime) -> tuple[Any, ...]:
        return (ConsentRecordRow.subject_id.is_(None), ConsentRecordRow.recorded_at < cutoff)

    async def count_device_records_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        statement = select(func.count()).select_from(ConsentRecordRow).where(*self._device_record_before(cutoff))
        return int((await self._session.execute(statement)).scalar_one())

    async def delete_device_records_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        oldest = (
            select(ConsentRecordRow.seq)
            .where(*self._device_record_before(cutoff))
            .order_by(ConsentRecordRow.recorded_at)
        )
        batch = retention_batch(oldest, limit).scalar_subquery()
        return await self._execute_count(delete(ConsentRecordRow).where(ConsentRecordRow.seq.in_(batch)))


class SqlObjectionRepository(SqlRepository):
    """:class:`~dreamina.ports.consent.ObjectionRepository` over ``objections`` (one row per subject and purpose)."""

    _table = ObjectionRow.__table__

    async def put(self, objection: Objection) -> None:
        check_time("updated_at", objection.updated_at)
        purpose = Purpose(objection.purpose).value
        changed = await self._execute_count(
            update(ObjectionRow)
            .where(ObjectionRow.subject_id == objection.subject_id, ObjectionRow.purpose == purpose)
            .values(objected=objection.objected, updated_at=objection.updated_at)
        )
        if changed == 0:
            statement = insert_into(ObjectionRow).values(
                subject_id=objection.subject_id,
                purpose=purpose,
                objected=objection.objected,
                updated_at=objection.updated_at,
            )
            await self._write(statement, conflict="the objection was changed concurrently; try again")

    async def for_subject(self, subject_id: UUID) -> list[Objection]:
        statement = select(self._table).where(ObjectionRow.subject_id == subject_id).order_by(ObjectionRow.purpose)
        return [
            Objection(subject_id=r.subject_id, purpose=Purpose(r.purpose), objected=r.objected, updated_at=r.updated_at)
            for r in await self._session.execute(statement)
        ]

    async def objects_to(self, subject_id: UUID, purpose: Purpose) -> bool:
        row = await _OBJECTS_TO.first(self._session, {"subject_id": subject_id, "purpose": Purpose(purpose).value})
        return row is not None and bool(row.objected)

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(delete(ObjectionRow).where(ObjectionRow.subject_id == subject_id))


def _notice(row: Any) -> PolicyNotice:
    return PolicyNotice(
        id=row.id,
        subject_id=row.subject_id,
        policy_version=row.policy_version,
        effective_at=row.effective_at,
        notified_at=row.notified_at,
        resolved_at=row.resolved_at,
    )


class SqlPolicyNoticeRepository(SqlRepository):
    """:class:`~dreamina.ports.consent.PolicyNoticeRepository` over ``policy_notices``."""

    _table = PolicyNoticeRow.__table__

    async def add(self, notice: PolicyNotice) -> None:
        check_time("effective_at", notice.effective_at)
        check_time("notified_at", notice.notified_at)
        check_time("resolved_at", notice.resolved_at)
        statement = insert_into(PolicyNoticeRow).values(
            id=notice.id,
            subject_id=notice.subject_id,
            policy_version=notice.policy_version,
            effective_at=notice.effective_at,
            notified_at=notice.notified_at,
            resolved_at=notice.resolved_at,
        )
        await self._write(statement, conflict="the subject was already notified of this version")

    async def subjects_without_notice(self, policy_version: int, limit: int) -> list[UUID]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        notified = exists().where(
            PolicyNoticeRow.subject_id == AccountRow.id, PolicyNoticeRow.policy_version == policy_version
        )
        statement = (
            select(AccountRow.id)
            .where(AccountRow.status.in_([s.value for s in NOTIFIED_STATUSES]), ~notified)
            .order_by(AccountRow.id)
            .limit(limit)
        )
        return list((await self._session.execute(statement)).scalars())

    async def due_for_subject(self, subject_id: UUID, now: datetime) -> list[PolicyNotice]:
        check_time("now", now)
        statement = (
            select(self._table)
            .where(
                PolicyNoticeRow.subject_id == subject_id,
                PolicyNoticeRow.resolved_at.is_(None),
                PolicyNoticeRow.effective_at <= now,
            )
            .order_by(PolicyNoticeRow.policy_version)
        )
        return [_notice(row) for row in await self._session.execute(statement)]

    async def for_subject(self, subject_id: UUID) -> list[PolicyNotice]:
        statement = (
            select(self._table).where(PolicyNoticeRow.subject_id == subject_id).order_by(PolicyNoticeRow.policy_version)
        )
        return [_notice(row) for row in await self._session.execute(statement)]

    async def resolve(self, notice_id: UUID, at: datetime) -> bool:
        check_time("at", at)
        statement = (
            update(PolicyNoticeRow)
            .where(PolicyNoticeRow.id == notice_id, PolicyNoticeRow.resolved_at.is_(None))
            .values(resolved_at=at)
        )
        return await self._execute_count(statement) > 0

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(delete(PolicyNoticeRow).where(PolicyNoticeRow.subject_id == subject_id))


def analytics_row(event: AnalyticsEvent) -> dict[str, Any]:
    """The column values of one event (shared with the benchmark's bare insert)."""
    for name in ("name", "feature", "page", "country", "browser_family", "device_class", "pseudonym"):
        check_text(name, getattr(event, name))
    return {
        "id": event.id,
        "day": event.day,
        "name": event.name,
        "feature": event.feature,
        "page": event.page,
        "country": event.country,
        "browser_family": event.browser_family,
        "device_class": event.device_class,
        "pseudonym": event.pseudonym,
    }


_EVENT_COLUMNS = ("id", "day", "name", "feature", "page", "country", "browser_family", "device_class", "pseudonym")
_EVENT_ARRAYS = ("uuid", "date", *("text",) * 7)
# PostgreSQL: a batch is one INSERT of one row per element of the columns' arrays, whatever its size (an executemany
# runs the INSERT once per event on the server: ten executor start-ups for a batch of ten, on the cores the API uses).
_BATCH_FROM_ARRAYS = DriverWrite(
    text(
        f"INSERT INTO analytics_events ({', '.join(_EVENT_COLUMNS)}) SELECT * FROM unnest("  # noqa: S608
        + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in zip(_EVENT_COLUMNS, _EVENT_ARRAYS, strict=True))
        + ")"
    )
)
_EVENT_TWICE = "this analytics event already exists"


class SqlAnalyticsEventStore(SqlRepository):
    """:class:`~dreamina.ports.consent.AnalyticsEventStore` over ``analytics_events``; a batch is one statement (on
    SQLite an executemany)."""

    async def add_many(self, events: list[AnalyticsEvent]) -> None:
        if not events:
            return
        rows = [analytics_row(event) for event in events]
        if on_postgres(self._session):  # one statement, which may wait for the commit (a DriverWrite)
            arrays = {name: [row[name] for row in rows] for name in _EVENT_COLUMNS}
            await _BATCH_FROM_ARRAYS.append(self._session, arrays, expect=len(rows), conflict=_EVENT_TWICE)
            return
        await self._session.execute(insert_into(AnalyticsEventRow), rows)

    async def daily_counts(self, first_day: date, last_day: date) -> list[DailyCount]:
        count = func.count().label("n")
        statement = (
            select(AnalyticsEventRow.day, AnalyticsEventRow.name, AnalyticsEventRow.feature, count)
            .where(AnalyticsEventRow.day >= first_day, AnalyticsEventRow.day <= last_day)
            .group_by(AnalyticsEventRow.day, AnalyticsEventRow.name, AnalyticsEventRow.feature)
        )
        found = [
            DailyCount(day=r.day, name=r.name, feature=r.feature, count=int(r.n))
            for r in await self._session.execute(statement)
        ]
        # NULL ordering differs between databases; order here so every backend answers alike.
        return sorted(found, key=lambda c: (c.day, c.name, c.feature or ""))

    async def delete_before(self, day: date, limit: int) -> int:
        if limit < 0:
            raise ValueError("limit must not be negative")
        if is_postgres(self._session):  # partitioned by day: whole days are dropped, the rest goes here
            return await partitions.delete_oldest(self._session, ANALYTICS_EVENTS, day, limit)
        # One statement, bounded by the limit, oldest days first along ix_analytics_events_day. Rows are picked by
        # their rowid, which spares the delete a primary-key lookup per row (a batch by id took about 1.5 times as
        # long, bench/retention.py). SQLite serialises writers, so there is no other sweep to skip.
        rowid: ColumnClause[Any] = literal_column("rowid")
        batch = (
            select(rowid)
            .select_from(AnalyticsEventRow)
            .where(AnalyticsEventRow.day < day)
            .order_by(AnalyticsEventRow.day)
            .limit(limit)
            .scalar_subquery()
        )
        return await self._execute_count(delete(AnalyticsEventRow).where(rowid.in_(batch)))

    async def prepare_periods(self, today: date) -> None:
        if is_postgres(self._session):
            await partitions.prepare(self._session, ANALYTICS_EVENTS, today)

    async def drop_periods_before(self, day: date) -> int | None:
        if not is_postgres(self._session):
            return None  # SQLite: one plain table, everything goes by batches
        return await partitions.drop_expired(self._session, ANALYTICS_EVENTS, day)

    async def delete_pseudonyms(self, pseudonyms: list[str]) -> int:
        deleted = 0
        for start in range(0, len(pseudonyms), 500):  # bounded IN lists
            chunk = pseudonyms[start : start + 500]
            deleted += await self._execute_count(
                delete(AnalyticsEventRow).where(AnalyticsEventRow.pseudonym.in_(chunk))
            )
        return deleted

    async def for_pseudonyms(self, pseudonyms: list[str]) -> list[AnalyticsEvent]:
        found: list[AnalyticsEvent] = []
        for start in range(0, len(pseudonyms), 500):
            chunk = pseudonyms[start : start + 500]
            statement = select(AnalyticsEventRow.__table__).where(AnalyticsEventRow.pseudonym.in_(chunk))
            found.extend(
                AnalyticsEvent(
                    id=r.id,
                    day=r.day,
                    name=r.name,
                    feature=r.feature,
                    page=r.page,
                    country=r.country,
                    browser_family=r.browser_family,
                    device_class=r.device_class,
                    pseudonym=r.pseudonym,
                )
                for r in await self._session.execute(statement)
            )
        return sorted(found, key=lambda e: (e.day, e.id.bytes))

    async def count_pseudonyms(self, pseudonyms: list[str]) -> int:
        total = 0
        for start in range(0, len(pseudonyms), 500):
            chunk = pseudonyms[start : start + 500]
            statement = (
                select(func.count()).select_from(AnalyticsEventRow).where(AnalyticsEventRow.pseudonym.in_(chunk))
            )
            total += int((await self._session.execute(statement)).scalar_one())
        return total

    async def count_before(self, day: date) -> int:
        statement = select(func.count()).select_from(AnalyticsEventRow).where(AnalyticsEventRow.day < day)
        return int((await self._session.execute(statement)).scalar_one())


REPOSITORIES: SqlRepositories = {
    "consent_records": SqlConsentRecordRepository,
    "objections": SqlObjectionRepository,
    "policy_notices": SqlPolicyNoticeRepository,
    "analytics_events": SqlAnalyticsEventStore,
}
"""The consent module's stores, by their name in the unit of work."""
