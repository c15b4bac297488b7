"""SQL adapter of the improvement-choice history (``improvement_choices``, append-only; ordered by ``seq``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import delete, select

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_consent import ImprovementChoiceRow
from dreamina.adapters.sql.repository_kit import SqlRepositories, SqlRepository, insert_into
from dreamina.ports.consent import ImprovementChoice, ImprovementMethod

_COLUMNS = [c for c in ImprovementChoiceRow.__table__.columns if c.name != "seq"]


def _choice(row: Any) -> ImprovementChoice:
    return ImprovementChoice(
        id=row.id,
        subject_id=row.subject_id,
        allowed=row.allowed,
        method=ImprovementMethod(row.method),
        policy_version=row.policy_version,
        content_sha256=row.content_sha256,
        recorded_at=row.recorded_at,
    )


class SqlImprovementChoiceRepository(SqlRepository):
    """:class:`~dreamina.ports.consent.ImprovementChoiceRepository` over ``improvement_choices``."""

    async def add(self, choice: ImprovementChoice) -> None:
        check_text("content_sha256", choice.content_sha256)
        check_time("recorded_at", choice.recorded_at)
        statement = insert_into(ImprovementChoiceRow).values(
            id=choice.id,
            subject_id=choice.subject_id,
            allowed=choice.allowed,
            method=ImprovementMethod(choice.method).value,
            policy_version=choice.policy_version,
            content_sha256=choice.content_sha256,
            recorded_at=choice.recorded_at,
        )
        await self._write(statement, conflict="this improvement choice already exists")

    async def latest_for_subject(self, subject_id: UUID) -> ImprovementChoice | None:
        statement = (
            select(*_COLUMNS)
            .where(ImprovementChoiceRow.subject_id == subject_id)
            .order_by(ImprovementChoiceRow.seq.desc())
            .limit(1)
        )
        row = (await self._session.execute(statement)).first()
        return None if row is None else _choice(row)

    async def page_for_subject(
        self, subject_id: UUID, limit: int, before: UUID | None = None
    ) -> list[ImprovementChoice]:
        mine = ImprovementChoiceRow.subject_id == subject_id
        statement = select(*_COLUMNS).where(mine)
        if before is not None:
            anchor = select(ImprovementChoiceRow.seq).where(mine, ImprovementChoiceRow.id == before).scalar_subquery()
            statement = statement.where(ImprovementChoiceRow.seq < anchor)
        statement = statement.order_by(ImprovementChoiceRow.seq.desc()).limit(limit)
        return [_choice(row) for row in await self._session.execute(statement)]

    async def history_for_subject(self, subject_id: UUID) -> list[ImprovementChoice]:
        statement = (
            select(*_COLUMNS).where(ImprovementChoiceRow.subject_id == subject_id).order_by(ImprovementChoiceRow.seq)
        )
        return [_choice(row) for row in await self._session.execute(statement)]

    async def delete_for_subject(self, subject_id: UUID) -> int:
        return await self._execute_count(
            delete(ImprovementChoiceRow).where(ImprovementChoiceRow.subject_id == subject_id)
        )


REPOSITORIES: SqlRepositories = {"improvement_choices": SqlImprovementChoiceRepository}
"""The improvement history, by its name in the unit of work."""
