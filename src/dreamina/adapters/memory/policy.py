"""In-memory fakes of the published policy versions and their acceptances."""

from __future__ import annotations

import dataclasses
from uuid import UUID

from dreamina.adapters.memory.tables import (
    MemoryStores,
    Table,
    TableSpec,
    utc,
    utc_or_none,
)
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.domain.privacy.policy import PolicyVersion
from dreamina.ports.policy import AcceptanceMethod, NoticeRunStatus, PolicyAcceptance, PolicyNoticeRun


class InMemoryPolicyVersionRepository:
    def __init__(self, table: Table[int, PolicyVersion]) -> None:
        self._table = table

    async def add(self, policy: PolicyVersion) -> None:
        check_text("text", policy.text)
        check_text("content_sha256", policy.content_sha256)
        check_time("effective_at", policy.effective_at)
        check_time("published_at", policy.published_at)
        stored = dataclasses.replace(
            policy, effective_at=utc(policy.effective_at), published_at=utc(policy.published_at)
        )
        self._table.insert(stored.version, stored)

    async def get(self, version: int) -> PolicyVersion | None:
        return self._table.get(version)

    async def list(self) -> list[PolicyVersion]:
        return sorted((p for _, p in self._table.rows()), key=lambda p: p.version)


class InMemoryPolicyAcceptanceRepository:
    def __init__(self, table: Table[UUID, PolicyAcceptance]) -> None:
        self._table = table

    async def add(self, acceptance: PolicyAcceptance) -> None:
        check_text("content_sha256", acceptance.content_sha256)
        check_text("method", acceptance.method)
        check_time("accepted_at", acceptance.accepted_at)
        stored = dataclasses.replace(
            acceptance, method=AcceptanceMethod(acceptance.method), accepted_at=utc(acceptance.accepted_at)
        )
        self._table.insert(stored.id, stored)

    async def list_for_subject(self, subject_id: UUID) -> list[PolicyAcceptance]:
        found = (a for _, a in self._table.rows() if a.subject_id == subject_id)
        return sorted(found, key=lambda a: (a.accepted_at, a.id))

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, a in self._table.rows() if a.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)


class InMemoryPolicyNoticeRunRepository:
    def __init__(self, table: Table[int, PolicyNoticeRun]) -> None:
        self._table = table

    async def add(self, run: PolicyNoticeRun) -> None:
        check_time("requested_at", run.requested_at)
        self._table.insert(run.policy_version, self._stored(run))

    async def get(self, policy_version: int) -> PolicyNoticeRun | None:
        stored = self._table.get(policy_version)
        return None if stored is None else dataclasses.replace(stored)  # a copy: the run is mutable

    async def unfinished(self, limit: int) -> list[PolicyNoticeRun]:
        runs = (dataclasses.replace(r) for _, r in self._table.rows() if r.status is not NoticeRunStatus.DONE)
        return sorted(runs, key=lambda r: r.policy_version)[:limit]

    async def update(self, run: PolicyNoticeRun) -> None:
        for name, value in (("started_at", run.started_at), ("finished_at", run.finished_at)):
            if value is not None:
                check_time(name, value)
        stored = self._table.get(run.policy_version)
        if stored is not None:
            self._table.replace(run.policy_version, self._stored(run, notices_sent=stored.notices_sent))

    async def count_sent(self, policy_version: int, sent: int) -> None:
        stored = self._table.get(policy_version)
        if stored is not None:
            self._table.replace(policy_version, dataclasses.replace(stored, notices_sent=stored.notices_sent + sent))

    @staticmethod
    def _stored(run: PolicyNoticeRun, *, notices_sent: int | None = None) -> PolicyNoticeRun:
        return dataclasses.replace(
            run,
            status=NoticeRunStatus(run.status),
            notices_sent=run.notices_sent if notices_sent is None else notices_sent,
            requested_at=utc(run.requested_at),
            started_at=utc_or_none(run.started_at),
            finished_at=utc_or_none(run.finished_at),
        )


STORES = MemoryStores(
    tables=(
        TableSpec("policy_versions", duplicate_key="this policy version already exists"),
        TableSpec("policy_acceptances", duplicate_key="this acceptance is already recorded"),
        TableSpec("policy_notice_runs", duplicate_key="the notices of this policy version are already recorded"),
    ),
    repositories={
        "policies": lambda s: InMemoryPolicyVersionRepository(s.table("policy_versions")),
        "acceptances": lambda s: InMemoryPolicyAcceptanceRepository(s.table("policy_acceptances")),
        "notice_runs": lambda s: InMemoryPolicyNoticeRunRepository(s.table("policy_notice_runs")),
    },
)
