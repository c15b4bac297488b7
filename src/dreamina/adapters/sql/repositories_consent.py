"""SQL adapters of the consent ports (consent history, objections, notices, analytics) and of staff roles.

Same rules as :mod:`dreamina.adapters.sql.repositories`: explicit statements, writes in a SAVEPOINT, NUL and
naive datetimes refused before any SQL runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, bindparam, delete, exists, func, literal_column, select, union_all, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_consent import (
    ConsentRecordRow,
    ObjectionRow,
    PolicyNoticeRow,
)
from dreamina.adapters.sql.models_identity import AccountRow
from dreamina.adapters.sql.repository_kit import (
    DriverRead,
    SqlRepositories,
    SqlRepository,
    by_value,
    insert_into,
    retention_batch,
)
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import (
    ConsentMethod,
    ConsentRecord,
    Objection,
    PolicyNotice,
)
from dreamina.ports.identity import NOTIFIED_STATUSES


def check_owner(subject_id: UUID | None, device_key: str | None) -> None:
    if (subject_id is None) == (device_key is None):
        raise ValueError("a consent record belongs to exactly one subject or one device")


_METHODS = by_value(ConsentMethod)  # a consent choice maps the twenty records of its page


def consent_record_of(row: Any) -> ConsentRecord:
    # by position, in the dataclass's field order: a consent choice maps the twenty-one records it reads, and keywords
    # cost a quarter of each (the contract suite reads every field back)
    return ConsentRecord(
        row.id,
        row.subject_id,
        row.device_key,
        row.functional,
        row.analytics,
        row.marketing,
        row.sale_share_opt_out,
        row.gpc,
        _METHODS[row.method],
        row.policy_version,
        row.content_sha256,
        row.recorded_at,
    )


CONSENT_COLUMNS = [c for c in ConsentRecordRow.__table__.columns if c.name != "seq"]
_OWNERS = {"subject": ConsentRecordRow.subject_id, "device": ConsentRecordRow.device_key}
# Built once, for the reads every consent write and check makes (the latest record, the newest page): building the
# expression per call cost more CPU than running it.
_OWNED = {kind: select(*CONSENT_COLUMNS).where(column == bindparam("owner")) for kind, column in _OWNERS.items()}
_LATEST = {kind: DriverRead(owned.order_by(ConsentRecordRow.seq.desc()).limit(1)) for kind, owned in _OWNED.items()}
_NEWEST = {
    kind: DriverRead(owned.order_by(ConsentRecordRow.seq.desc()).limit(bindparam("limit")))
    for kind, owned in _OWNED.items()
}
# A signed-in choice on a device: the subject's newest page and the device's latest record, one statement.
_PART = literal_column("0", Integer).label("part"), literal_column("1", Integer).label("part")
_NEWEST_WITH_DEVICE = DriverRead(
    union_all(
        select(
            _OWNED["subject"]
            .add_columns(ConsentRecordRow.seq, _PART[0])
            .order_by(ConsentRecordRow.seq.desc())
            .limit(bindparam("limit"))
            .subquery("page")
        ),
        select(
            select(*CONSENT_COLUMNS, ConsentRecordRow.seq, _PART[1])
            .where(ConsentRecordRow.device_key == bindparam("device"))
            .order_by(ConsentRecordRow.seq.desc())
            .limit(1)
            .subquery("device")
        ),
    )
)
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
        return None if row is None else consent_record_of(row)

    async def _history(self, where: Any) -> list[ConsentRecord]:
        statement = select(*CONSENT_COLUMNS).where(where).order_by(ConsentRecordRow.seq)
        return [consent_record_of(row) for row in await self._session.execute(statement)]

    async def _page(self, kind: str, owner: UUID | str, limit: int, before: UUID | None) -> list[ConsentRecord]:
        if before is None:  # the newest page: what every consent answer shows
            rows = await _NEWEST[kind].rows(self._session, {"owner": owner, "limit": limit})
            return [consent_record_of(row) for row in rows]
        where = _OWNERS[kind] == owner
        anchor = select(ConsentRecordRow.seq).where(where, ConsentRecordRow.id == before).scalar_subquery()
        statement = _OWNED[kind].where(ConsentRecordRow.seq < anchor).order_by(ConsentRecordRow.seq.desc()).limit(limit)
        return [consent_record_of(row) for row in await self._session.execute(statement, {"owner": owner})]

    async def page_for_subject(self, subject_id: UUID, limit: int, before: UUID | None = None) -> list[ConsentRecord]:
        return await self._page("subject", subject_id, limit, before)

    async def page_for_device(self, device_key: str, limit: int, before: UUID | None = None) -> list[ConsentRecord]:
        check_text("device_key", device_key)
        return await self._page("device", device_key, limit, before)

    async def newest_with_device(
        self, subject_id: UUID, limit: int, device_key: str
    ) -> tuple[list[ConsentRecord], ConsentRecord | None]:
        check_text("device_key", device_key)
        rows = await _NEWEST_WITH_DEVICE.rows(
            self._session, {"owner": subject_id, "limit": limit, "device": device_key}
        )
        page = sorted((row for row in rows if row.part == 0), key=lambda row: row.seq, reverse=True)
        device = [consent_record_of(row) for row in rows if row.part == 1]
        return [consent_record_of(row) for row in page], device[0] if device else None

    async def latest_for_subject(self, subject_id: UUID) -> ConsentRecord | None:
        return await self._latest("subject", subject_id)

    async def latest_for_device(self, device_key: str) -> ConsentRecord | None:
        check_text("device_key", device_key)
        return await self._latest("device", device_key)

    async def history_for_subject(self, subject_id: UUID) -> list[ConsentRecord]:
        return await self._history(ConsentRecordRow.subject_id == subject_id)

    async def count_for_subject(self, subject_id: UUID) -> int:
        return await self._count(ConsentRecordRow.__table__, ConsentRecordRow.subject_id == subject_id)

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


REPOSITORIES: SqlRepositories = {
    "consent_records": SqlConsentRecordRepository,
    "objections": SqlObjectionRepository,
    "policy_notices": SqlPolicyNoticeRepository,
}
"""The consent module's stores, by their name in the unit of work."""
