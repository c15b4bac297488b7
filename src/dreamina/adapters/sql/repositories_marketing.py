"""Marketing campaigns over SQL (the consent module's marketing mail job)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update

from dreamina.adapters.record_rules import check_text, check_time
from dreamina.adapters.sql.models_identity import AccountRow
from dreamina.adapters.sql.models_marketing import MarketingCampaignRow
from dreamina.adapters.sql.repository_kit import SqlRepositories, SqlRepository, insert_into
from dreamina.ports.identity import AccountStatus
from dreamina.ports.marketing import CampaignStatus, MarketingCampaign, id_before


def _campaign(row: Any) -> MarketingCampaign:
    return MarketingCampaign(
        id=row.id,
        subject_line=row.subject_line,
        body=row.body,
        status=CampaignStatus(row.status),
        created_at=row.created_at,
        sent=row.sent,
        skipped=row.skipped,
        cursor=row.cursor,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


class SqlMarketingCampaignRepository(SqlRepository):
    """:class:`~dreamina.ports.marketing.MarketingCampaignRepository` over ``marketing_campaigns``."""

    _table = MarketingCampaignRow.__table__

    async def add(self, campaign: MarketingCampaign) -> None:
        check_text("subject_line", campaign.subject_line)
        check_text("body", campaign.body)
        check_time("created_at", campaign.created_at)
        statement = insert_into(MarketingCampaignRow).values(
            id=campaign.id,
            subject_line=campaign.subject_line,
            body=campaign.body,
            status=CampaignStatus(campaign.status).value,
            created_at=campaign.created_at,
            sent=campaign.sent,
            skipped=campaign.skipped,
            cursor=campaign.cursor,
            started_at=campaign.started_at,
            finished_at=campaign.finished_at,
        )
        await self._write(statement, conflict="this campaign already exists")

    async def get(self, campaign_id: UUID) -> MarketingCampaign | None:
        row = (await self._session.execute(select(self._table).where(MarketingCampaignRow.id == campaign_id))).first()
        return None if row is None else _campaign(row)

    async def unfinished(self, limit: int) -> list[MarketingCampaign]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        statement = (
            select(self._table)
            .where(MarketingCampaignRow.status != CampaignStatus.DONE.value)
            .order_by(MarketingCampaignRow.created_at, MarketingCampaignRow.id)
            .limit(limit)
        )
        return [_campaign(row) for row in await self._session.execute(statement)]

    async def update(self, campaign: MarketingCampaign) -> None:
        check_time("started_at", campaign.started_at)
        check_time("finished_at", campaign.finished_at)
        values: dict[str, Any] = {
            "status": CampaignStatus(campaign.status).value,
            "started_at": campaign.started_at,
            "finished_at": campaign.finished_at,
        }
        if campaign.status is CampaignStatus.DONE:
            values["cursor"] = None
        statement = update(MarketingCampaignRow).where(MarketingCampaignRow.id == campaign.id).values(**values)
        await self._execute_count(statement)

    async def audience(self, created_before: datetime, after: UUID | None, limit: int) -> list[UUID]:
        check_time("created_before", created_before)
        if limit < 0:
            raise ValueError("limit must not be negative")
        statement = select(AccountRow.id).where(
            AccountRow.status == AccountStatus.ACTIVE.value, AccountRow.created_at <= created_before
        )
        if after is not None:
            statement = statement.where(AccountRow.id > after)
        return list((await self._session.execute(statement.order_by(AccountRow.id).limit(limit))).scalars())

    async def advance(self, campaign_id: UUID, expected: UUID | None, cursor: UUID, sent: int, skipped: int) -> bool:
        current = MarketingCampaignRow.cursor
        statement = (
            update(MarketingCampaignRow)
            .where(
                MarketingCampaignRow.id == campaign_id,
                MarketingCampaignRow.status != CampaignStatus.DONE.value,
                current.is_(None) if expected is None else current == expected,
            )
            .values(
                cursor=cursor,
                sent=MarketingCampaignRow.sent + sent,
                skipped=MarketingCampaignRow.skipped + skipped,
            )
        )
        return await self._execute_count(statement) == 1

    async def step_off(self, subject_id: UUID) -> int:
        statement = (
            update(MarketingCampaignRow)
            .where(MarketingCampaignRow.cursor == subject_id)
            .values(cursor=id_before(subject_id))
        )
        return await self._execute_count(statement)


REPOSITORIES: SqlRepositories = {"marketing_campaigns": SqlMarketingCampaignRepository}
"""The marketing stores, by their name in the unit of work."""
