"""Published policy versions and acceptances over SQL (the consent module's section-10 records)."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_policy import PolicyAcceptanceRow, PolicyNoticeRunRow, PolicyVersionRow
from dreamina.adapters.sql.repository_kit import DriverRead, SqlRepositories, SqlRepository, insert_into
from dreamina.domain.privacy.policy import PolicyVersion
from dreamina.ports.policy import AcceptanceMethod, NoticeRunStatus, PolicyAcceptance, PolicyNoticeRun


def _policy_version(row: Any) -> PolicyVersion:
    return PolicyVersion(
        version=row.version,
        text=row.text,
        content_sha256=row.content_sha256,
        last_updated=row.last_updated,
        effective_at=row.effective_at,
        published_at=row.published_at,
    )


class SqlPolicyVersionRepository(SqlRepository):
    """:class:`~dreamina.ports.policy.PolicyVersionRepository` over ``policy_versions``."""

    _table = PolicyVersionRow.__table__
    _all = DriverRead(select(_table).order_by(_table.c.version))  # every consent answer finds the version in effect

    async def add(self, policy: PolicyVersion) -> None:
        check_text("text", policy.text)
        check_text("content_sha256", policy.content_sha256)
        check_time("effective_at", policy.effective_at)
        check_time("published_at", policy.published_at)
        statement = insert_into(PolicyVersionRow).values(
            id=uuid.uuid4(),
            version=policy.version,
            content_sha256=policy.content_sha256,
            text=policy.text,
            last_updated=policy.last_updated,
            effective_at=policy.effective_at,
            published_at=policy.published_at,
        )
        await self._write(statement, conflict="this policy version already exists")

    async def get(self, version: int) -> PolicyVersion | None:
        statement = select(self._table).where(PolicyVersionRow.version == version)
        row = (await self._session.execute(statement)).first()
        return None if row is None else _policy_version(row)

    async def list(self) -> list[PolicyVersion]:
        return [_policy_version(row) for row in await self._all.rows(self._session, {})]


def _acceptance(row: Any) -> PolicyAcceptance:
    return PolicyAcceptance(
        id=row.id,
        subject_id=row.subject_id,
        policy_version=row.policy_version,
        content_sha256=row.content_sha256,
        method=AcceptanceMethod(row.method),
        accepted_at=row.accepted_at,
    )


class SqlPolicyAcceptanceRepository(SqlRepository):
    """:class:`~dreamina.ports.policy.PolicyAcceptanceRepository` over ``policy_acceptances``."""

    _table = PolicyAcceptanceRow.__table__

    async def add(self, acceptance: PolicyAcceptance) -> None:
        check_text("content_sha256", acceptance.content_sha256)
        check_text("method", acceptance.method)
        check_time("accepted_at", acceptance.accepted_at)
        statement = insert_into(PolicyAcceptanceRow).values(
            id=acceptance.id,
            subject_id=acceptance.subject_id,
            policy_version=acceptance.policy_version,
            content_sha256=acceptance.content_sha256,
            method=AcceptanceMethod(acceptance.method).value,
            accepted_at=acceptance.accepted_at,
        )
        await self._write(statement, conflict="this acceptance is already recorded")

    async def list_for_subject(self, subject_id: UUID) -> list[PolicyAcceptance]:
        statement = (
            select(self._table)
            .where(PolicyAcceptanceRow.subject_id == subject_id)
            .order_by(PolicyAcceptanceRow.accepted_at, PolicyAcceptanceRow.id)
        )
        return [_acceptance(row) for row in await self._session.execute(statement)]

    async def delete_for_subject(self, subject_id: UUID) -> int:
        statement = delete(PolicyAcceptanceRow).where(PolicyAcceptanceRow.subject_id == subject_id)
        return await self._execute_count(statement)


def _notice_run(row: Any) -> PolicyNoticeRun:
    return PolicyNoticeRun(
        policy_version=row.policy_version,
        status=NoticeRunStatus(row.status),
        notices_sent=row.notices_sent,
        requested_at=row.requested_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


class SqlPolicyNoticeRunRepository(SqlRepository):
    """:class:`~dreamina.ports.policy.PolicyNoticeRunRepository` over ``policy_notice_runs``."""

    _table = PolicyNoticeRunRow.__table__

    async def add(self, run: PolicyNoticeRun) -> None:
        check_time("requested_at", run.requested_at)
        statement = insert_into(PolicyNoticeRunRow).values(
            policy_version=run.policy_version,
            status=NoticeRunStatus(run.status).value,
            notices_sent=run.notices_sent,
            requested_at=run.requested_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )
        await self._write(statement, conflict="the notices of this policy version are already recorded")

    async def get(self, policy_version: int) -> PolicyNoticeRun | None:
        statement = select(self._table).where(PolicyNoticeRunRow.policy_version == policy_version)
        row = (await self._session.execute(statement)).first()
        return None if row is None else _notice_run(row)

    async def unfinished(self, limit: int) -> list[PolicyNoticeRun]:
        statement = (
            select(self._table)
            .where(PolicyNoticeRunRow.status != NoticeRunStatus.DONE.value)
            .order_by(PolicyNoticeRunRow.policy_version)
            .limit(limit)
        )
        return [_notice_run(row) for row in await self._session.execute(statement)]

    async def update(self, run: PolicyNoticeRun) -> None:
        for name, value in (("started_at", run.started_at), ("finished_at", run.finished_at)):
            if value is not None:
                check_time(name, value)
        statement = (
            update(PolicyNoticeRunRow)
            .where(PolicyNoticeRunRow.policy_version == run.policy_version)
            .values(status=NoticeRunStatus(run.status).value, started_at=run.started_at, finished_at=run.finished_at)
        )
        await self._execute_count(statement)

    async def count_sent(self, policy_version: int, sent: int) -> None:
        statement = (
            update(PolicyNoticeRunRow)
            .where(PolicyNoticeRunRow.policy_version == policy_version)
            .values(notices_sent=PolicyNoticeRunRow.notices_sent + sent)
        )
        await self._execute_count(statement)


REPOSITORIES: SqlRepositories = {
    "policies": SqlPolicyVersionRepository,
    "acceptances": SqlPolicyAcceptanceRepository,
    "notice_runs": SqlPolicyNoticeRunRepository,
}
"""The policy stores, by their name in the unit of work."""
