"""SQL adapter of the analytics events store: a batch is one statement, retention drops whole days on PostgreSQL,
and a signed-in subject's gate (consent, objection, restriction) is one read."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import ColumnClause, bindparam, delete, exists, func, literal_column, select, text, true
from sqlalchemy.exc import IntegrityError

from dreamina.adapters.record_rules import check_text
from dreamina.adapters.sql import partitions
from dreamina.adapters.sql.models_consent import AnalyticsEventRow, ConsentRecordRow, ObjectionRow
from dreamina.adapters.sql.models_data_rights import ProcessingRestrictionRow
from dreamina.adapters.sql.partitions import ANALYTICS_EVENTS, is_postgres
from dreamina.adapters.sql.repositories_consent import CONSENT_COLUMNS, consent_record_of
from dreamina.adapters.sql.repository_kit import (
    DriverRead,
    DriverWrite,
    Rows,
    SqlRepositories,
    SqlRepository,
    insert_into,
    on_postgres,
    refusal,
)
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import AnalyticsEvent, AnalyticsGate, DailyCount, GatedBatch


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
_EVENT_TYPES = ("uuid", "date", *("text",) * 7)
# PostgreSQL: a batch is one INSERT of the rows of one JSON array, whatever its size (an executemany runs the INSERT
# once per event on the server: ten executor start-ups for a batch of ten, on the cores the API uses). One JSON text
# rather than an array per column: asyncpg checks every element of an array it encodes against the abstract
# iterable types, where msgspec encodes the rows in one call (a batch of ten: 556-569 -> 495-500 us of CPU in process,
# alternating with the arrays).
_BATCH_INSERT = (
    f"INSERT INTO analytics_events ({', '.join(_EVENT_COLUMNS)}) SELECT {', '.join(_EVENT_COLUMNS)} "  # noqa: S608
    "FROM json_to_recordset(CAST(:batch AS json)) AS batch("
    + ", ".join(f"{name} {kind}" for name, kind in zip(_EVENT_COLUMNS, _EVENT_TYPES, strict=True))
    + ")"
)
_BATCH_FROM_JSON = DriverWrite(text(_BATCH_INSERT))
# A signed-in subject's batch with its gate (``AnalyticsGate.open_under``) in the same statement: one round trip where
# the gate's read and the insert were two, and nothing can change between the check and the insert.
_GATE_OPEN = (
    " WHERE EXISTS (SELECT 1 FROM (SELECT analytics, policy_version FROM consent_records WHERE subject_id = :subject_id"
    " ORDER BY seq DESC LIMIT 1) AS latest WHERE latest.analytics AND latest.policy_version = :policy_version)"
    " AND NOT EXISTS (SELECT 1 FROM objections WHERE subject_id = :subject_id AND purpose = :purpose AND objected)"
    " AND NOT EXISTS (SELECT 1 FROM processing_restrictions WHERE subject_id = :subject_id)"
)
_GATED_BATCH = DriverWrite(text(_BATCH_INSERT + _GATE_OPEN))
_EVENT_TWICE = "this analytics event already exists"
_encode = msgspec.json.Encoder().encode


_SUBJECT_LATEST = (
    select(*CONSENT_COLUMNS)
    .where(ConsentRecordRow.subject_id == bindparam("subject_id"))
    .order_by(ConsentRecordRow.seq.desc())
    .limit(1)
    .subquery("latest")
)
_ONE_ROW = select(literal_column("1").label("one")).subquery("one")
# The three reads of an analytics batch's gate in one statement: a row whatever the subject has (the latest consent
# record joined to a one-row table, its columns NULL when there is none), the objection and the restriction as
# subqueries of their own (each the primary-key read its repository runs).
_GATE = DriverRead(
    select(
        *_SUBJECT_LATEST.c,
        select(ObjectionRow.objected)
        .where(ObjectionRow.subject_id == bindparam("subject_id"), ObjectionRow.purpose == Purpose.ANALYTICS.value)
        .scalar_subquery()
        .label("objected"),
        exists().where(ProcessingRestrictionRow.subject_id == bindparam("subject_id")).label("restricted"),
    ).select_from(_ONE_ROW.outerjoin(_SUBJECT_LATEST, true()))
)


class SqlAnalyticsEventStore(SqlRepository):
    """:class:`~dreamina.ports.consent.AnalyticsEventStore` over ``analytics_events``; a batch is one statement (on
    SQLite an executemany)."""

    async def gate(self, subject_id: UUID) -> AnalyticsGate:
        row = await _GATE.first(self._session, {"subject_id": subject_id})
        assert row is not None  # the one-row table: always a row
        latest = None if row.id is None else consent_record_of(row)
        return AnalyticsGate(latest=latest, objected=bool(row.objected), restricted=bool(row.restricted))

    async def add_many(self, events: list[AnalyticsEvent]) -> None:
        if not events:
            return
        rows = [analytics_row(event) for event in events]
        if on_postgres(self._session):  # one statement, which may wait for the commit (a DriverWrite)
            batch = _encode(rows).decode()  # UUIDs and days as PostgreSQL reads them back: canonical text
            await _BATCH_FROM_JSON.append(self._session, {"batch": batch}, expect=len(rows), conflict=_EVENT_TWICE)
            return
        try:
            await self._session.execute(insert_into(AnalyticsEventRow), rows)
        except IntegrityError as error:
            raise refusal(error, _EVENT_TWICE) from None

    async def add_if_open(self, subject_id: UUID, policy_version: int, events: list[AnalyticsEvent]) -> GatedBatch:
        if not on_postgres(self._session):  # SQLite: read and stored in the one writer's turn
            opened = (await self.gate(subject_id)).open_under(policy_version)
            if opened:
                await self.add_many(events)
            return GatedBatch(stored=opened)
        outcome = GatedBatch()

        def told(written: int) -> None:
            outcome.stored = written > 0

        params = {
            "batch": _encode([analytics_row(event) for event in events]).decode(),
            "subject_id": subject_id,
            "policy_version": policy_version,
            "purpose": Purpose.ANALYTICS.value,
        }
        await _GATED_BATCH.append(self._session, params, expect=Rows(len(events), told), conflict=_EVENT_TWICE)
        return outcome

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


REPOSITORIES: SqlRepositories = {"analytics_events": SqlAnalyticsEventStore}
"""The analytics store, by its name in the unit of work."""
