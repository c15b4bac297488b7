"""In-memory fakes of the consent ports and of staff roles, over the tables of an ``InMemoryDatabase``."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from datetime import date, datetime
from uuid import UUID

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, Unique, retention_batch, utc, utc_or_none
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import (
    AnalyticsEvent,
    AnalyticsGate,
    ConsentMethod,
    ConsentRecord,
    DailyCount,
    GatedBatch,
    ImprovementChoice,
    ImprovementMethod,
    Objection,
    PolicyNotice,
)
from dreamina.ports.identity import NOTIFIED_STATUSES, Account


class InMemoryConsentRecordRepository:
    """Rows keyed by an ever-increasing sequence number, like the SQL table's ``seq``."""

    def __init__(self, table: Table[int, ConsentRecord], sequence: itertools.count[int]) -> None:
        self._table = table
        self._sequence = sequence

    async def add(self, record: ConsentRecord) -> None:
        if (record.subject_id is None) == (record.device_key is None):
            raise ValueError("a consent record belongs to exactly one subject or one device")
        check_text("device_key", record.device_key)
        check_text("content_sha256", record.content_sha256)
        check_time("recorded_at", record.recorded_at)
        stored = dataclasses.replace(record, method=ConsentMethod(record.method), recorded_at=utc(record.recorded_at))
        self._table.insert(next(self._sequence), stored)

    async def add_many(self, records: list[ConsentRecord]) -> None:
        for record in records:
            await self.add(record)

    def _ordered(self, subject_id: UUID | None, device_key: str | None) -> list[ConsentRecord]:
        rows = sorted(self._table.rows(), key=lambda item: item[0])
        if subject_id is not None:
            return [r for _, r in rows if r.subject_id == subject_id]
        return [r for _, r in rows if r.device_key == device_key]

    async def latest_for_subject(self, subject_id: UUID) -> ConsentRecord | None:
        found = self._ordered(subject_id, None)
        return found[-1] if found else None

    async def latest_for_device(self, device_key: str) -> ConsentRecord | None:
        check_text("device_key", device_key)
        found = self._ordered(None, device_key)
        return found[-1] if found else None

    async def history_for_subject(self, subject_id: UUID) -> list[ConsentRecord]:
        return self._ordered(subject_id, None)

    async def count_for_subject(self, subject_id: UUID) -> int:
        return len(self._ordered(subject_id, None))

    async def history_for_device(self, device_key: str) -> list[ConsentRecord]:
        check_text("device_key", device_key)
        return self._ordered(None, device_key)

    @staticmethod
    def _page(records: list[ConsentRecord], limit: int, before: UUID | None) -> list[ConsentRecord]:
        newest_first = records[::-1]
        if before is not None:
            ids = [r.id for r in newest_first]
            newest_first = newest_first[ids.index(before) + 1 :] if before in ids else []
        return newest_first[:limit]

    async def page_for_subject(self, subject_id: UUID, limit: int, before: UUID | None = None) -> list[ConsentRecord]:
        return self._page(self._ordered(subject_id, None), limit, before)

    async def page_for_device(self, device_key: str, limit: int, before: UUID | None = None) -> list[ConsentRecord]:
        check_text("device_key", device_key)
        return self._page(self._ordered(None, device_key), limit, before)

    async def newest_with_device(
        self, subject_id: UUID, limit: int, device_key: str
    ) -> tuple[list[ConsentRecord], ConsentRecord | None]:
        return await self.page_for_subject(subject_id, limit), await self.latest_for_device(device_key)

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, r in self._table.rows() if r.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    async def count_device_records_before(self, cutoff: datetime) -> int:
        check_time("cutoff", cutoff)
        return sum(1 for _, r in self._table.rows() if r.subject_id is None and r.recorded_at < cutoff)

    async def delete_device_records_before(self, cutoff: datetime, limit: int) -> int:
        check_time("cutoff", cutoff)
        batch = retention_batch(
            self._table.rows(),
            lambda row: row[1].subject_id is None and row[1].recorded_at < cutoff,
            lambda row: (row[1].recorded_at, row[0]),
            limit,
        )
        for key, _ in batch:
            self._table.delete(key)
        return len(batch)


class InMemoryImprovementChoiceRepository:
    """Append-only, keyed by an ever-increasing sequence number like the SQL table's ``seq``."""

    def __init__(self, table: Table[int, ImprovementChoice], sequence: itertools.count[int]) -> None:
        self._table = table
        self._sequence = sequence

    async def add(self, choice: ImprovementChoice) -> None:
        check_text("content_sha256", choice.content_sha256)
        check_time("recorded_at", choice.recorded_at)
        stored = dataclasses.replace(
            choice, method=ImprovementMethod(choice.method), recorded_at=utc(choice.recorded_at)
        )
        self._table.insert(next(self._sequence), stored)

    def _ordered(self, subject_id: UUID) -> list[ImprovementChoice]:
        return [c for _, c in sorted(self._table.rows(), key=lambda item: item[0]) if c.subject_id == subject_id]

    async def latest_for_subject(self, subject_id: UUID) -> ImprovementChoice | None:
        found = self._ordered(subject_id)
        return found[-1] if found else None

    async def page_for_subject(
        self, subject_id: UUID, limit: int, before: UUID | None = None
    ) -> list[ImprovementChoice]:
        newest_first = self._ordered(subject_id)[::-1]
        if before is not None:
            ids = [c.id for c in newest_first]
            newest_first = newest_first[ids.index(before) + 1 :] if before in ids else []
        return newest_first[:limit]

    async def history_for_subject(self, subject_id: UUID) -> list[ImprovementChoice]:
        return self._ordered(subject_id)

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, c in self._table.rows() if c.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)


class InMemoryObjectionRepository:
    def __init__(self, table: Table[tuple[UUID, str], Objection]) -> None:
        self._table = table

    async def put(self, objection: Objection) -> None:
        check_time("updated_at", objection.updated_at)
        stored = dataclasses.replace(
            objection, purpose=Purpose(objection.purpose), updated_at=utc(objection.updated_at)
        )
        self._table.replace((stored.subject_id, stored.purpose.value), stored)

    async def for_subject(self, subject_id: UUID) -> list[Objection]:
        found = [o for _, o in self._table.rows() if o.subject_id == subject_id]
        return sorted(found, key=lambda o: o.purpose.value)

    async def objects_to(self, subject_id: UUID, purpose: Purpose) -> bool:
        found = self._table.get((subject_id, Purpose(purpose).value))
        return found is not None and found.objected

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, o in self._table.rows() if o.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)


class InMemoryPolicyNoticeRepository:
    def __init__(self, table: Table[UUID, PolicyNotice], accounts: Table[UUID, Account]) -> None:
        self._table = table
        self._accounts = accounts

    async def add(self, notice: PolicyNotice) -> None:
        check_time("effective_at", notice.effective_at)
        check_time("notified_at", notice.notified_at)
        check_time("resolved_at", notice.resolved_at)
        stored = dataclasses.replace(
            notice,
            effective_at=utc(notice.effective_at),
            notified_at=utc(notice.notified_at),
            resolved_at=utc_or_none(notice.resolved_at),
        )
        self._table.insert(stored.id, stored)

    async def subjects_without_notice(self, policy_version: int, limit: int) -> list[UUID]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        notified = {n.subject_id for _, n in self._table.rows() if n.policy_version == policy_version}
        active = sorted(
            (a.id for _, a in self._accounts.rows() if a.status in NOTIFIED_STATUSES and a.id not in notified),
            key=lambda i: i.bytes,  # the SQL backends order UUIDs by their bytes
        )
        return active[:limit]

    async def due_for_subject(self, subject_id: UUID, now: datetime) -> list[PolicyNotice]:
        check_time("now", now)
        found = [
            n
            for _, n in self._table.rows()
            if n.subject_id == subject_id and n.resolved_at is None and n.effective_at <= now
        ]
        return sorted(found, key=lambda n: n.policy_version)

    async def for_subject(self, subject_id: UUID) -> list[PolicyNotice]:
        return sorted((n for _, n in self._table.rows() if n.subject_id == subject_id), key=lambda n: n.policy_version)

    async def resolve(self, notice_id: UUID, at: datetime) -> bool:
        check_time("at", at)
        found = self._table.get(notice_id)
        if found is None or found.resolved_at is not None:
            return False
        self._table.replace(notice_id, dataclasses.replace(found, resolved_at=utc(at)))
        return True

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, n in self._table.rows() if n.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)


class InMemoryAnalyticsEventStore:
    def __init__(
        self,
        table: Table[UUID, AnalyticsEvent],
        consent: InMemoryConsentRecordRepository,
        objections: InMemoryObjectionRepository,
        restrictions: Table[UUID, object],
    ) -> None:
        """``consent``, ``objections``, ``restrictions``: what :meth:`gate` reads (the same unit of work's)."""
        self._table = table
        self._consent = consent
        self._objections = objections
        self._restrictions = restrictions

    async def gate(self, subject_id: UUID) -> AnalyticsGate:
        return AnalyticsGate(
            latest=await self._consent.latest_for_subject(subject_id),
            objected=await self._objections.objects_to(subject_id, Purpose.ANALYTICS),
            restricted=self._restrictions.get(subject_id) is not None,
        )

    async def add_many(self, events: list[AnalyticsEvent]) -> None:
        for event in events:
            for name in ("name", "feature", "page", "country", "browser_family", "device_class", "pseudonym"):
                check_text(name, getattr(event, name))
        for event in events:
            self._table.insert(event.id, event)

    async def add_if_open(self, subject_id: UUID, policy_version: int, events: list[AnalyticsEvent]) -> GatedBatch:
        opened = (await self.gate(subject_id)).open_under(policy_version)  # read and stored in one turn of the loop
        if opened:
            await self.add_many(events)
        return GatedBatch(stored=opened)

    async def daily_counts(self, first_day: date, last_day: date) -> list[DailyCount]:
        counts = Counter((e.day, e.name, e.feature) for _, e in self._table.rows() if first_day <= e.day <= last_day)
        found = [DailyCount(day=d, name=n, feature=f, count=c) for (d, n, f), c in counts.items()]
        return sorted(found, key=lambda c: (c.day, c.name, c.feature or ""))

    async def delete_before(self, day: date, limit: int) -> int:
        if limit < 0:
            raise ValueError("limit must not be negative")
        doomed = sorted((e for _, e in self._table.rows() if e.day < day), key=lambda e: e.day)[:limit]
        for event in doomed:
            self._table.delete(event.id)
        return len(doomed)

    async def count_before(self, day: date) -> int:
        return sum(1 for _, e in self._table.rows() if e.day < day)

    async def prepare_periods(self, today: date) -> None:
        return None  # one table, no periods: everything goes by batches

    async def drop_periods_before(self, day: date) -> int | None:
        return None

    async def delete_pseudonyms(self, pseudonyms: list[str]) -> int:
        wanted = set(pseudonyms)
        doomed = [key for key, e in self._table.rows() if e.pseudonym in wanted]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)

    async def for_pseudonyms(self, pseudonyms: list[str]) -> list[AnalyticsEvent]:
        wanted = set(pseudonyms)
        return sorted((e for _, e in self._table.rows() if e.pseudonym in wanted), key=lambda e: (e.day, e.id.bytes))

    async def count_pseudonyms(self, pseudonyms: list[str]) -> int:
        wanted = set(pseudonyms)
        return sum(1 for _, e in self._table.rows() if e.pseudonym in wanted)


STORES = MemoryStores(
    tables=(
        TableSpec(
            "consent_records",
            (Unique(lambda r: r.id, "this consent record already exists"),),  # as the SQL table's unique id
            duplicate_key="this consent record already exists",
        ),
        TableSpec("objections"),
        TableSpec(
            "improvement_choices",
            (Unique(lambda c: c.id, "this improvement choice already exists"),),
            duplicate_key="this improvement choice already exists",
        ),
        TableSpec(
            "policy_notices",
            (Unique(lambda n: (n.subject_id, n.policy_version), "the subject was already notified of this version"),),
        ),
        TableSpec("analytics_events"),
    ),
    repositories={
        "consent_records": lambda s: InMemoryConsentRecordRepository(
            s.table("consent_records"), s.sequence("consent_records")
        ),
        "objections": lambda s: InMemoryObjectionRepository(s.table("objections")),
        "improvement_choices": lambda s: InMemoryImprovementChoiceRepository(
            s.table("improvement_choices"), s.sequence("improvement_choices")
        ),
        "policy_notices": lambda s: InMemoryPolicyNoticeRepository(s.table("policy_notices"), s.table("accounts")),
        "analytics_events": lambda s: InMemoryAnalyticsEventStore(
            s.table("analytics_events"),
            InMemoryConsentRecordRepository(s.table("consent_records"), s.sequence("consent_records")),
            InMemoryObjectionRepository(s.table("objections")),
            s.table("processing_restrictions"),
        ),
    },
)
