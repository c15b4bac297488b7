"""In-memory fake of the marketing campaigns' store."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from uuid import UUID

from dreamina.adapters.memory.tables import MemoryStores, Table, TableSpec, utc, utc_or_none
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.ports.identity import Account, AccountStatus
from dreamina.ports.marketing import CampaignStatus, MarketingCampaign, id_before


class InMemoryMarketingCampaignRepository:
    def __init__(self, table: Table[UUID, MarketingCampaign], accounts: Table[UUID, Account]) -> None:
        self._table = table
        self._accounts = accounts

    async def add(self, campaign: MarketingCampaign) -> None:
        check_text("subject_line", campaign.subject_line)
        check_text("body", campaign.body)
        check_time("created_at", campaign.created_at)
        stored = dataclasses.replace(
            campaign,
            status=CampaignStatus(campaign.status),
            created_at=utc(campaign.created_at),
            started_at=utc_or_none(campaign.started_at),
            finished_at=utc_or_none(campaign.finished_at),
        )
        self._table.insert(stored.id, stored)

    async def get(self, campaign_id: UUID) -> MarketingCampaign | None:
        stored = self._table.get(campaign_id)
        return None if stored is None else dataclasses.replace(stored)  # a copy: the campaign is mutable

    async def unfinished(self, limit: int) -> list[MarketingCampaign]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        found = (dataclasses.replace(c) for _, c in self._table.rows() if c.status is not CampaignStatus.DONE)
        return sorted(found, key=lambda c: (c.created_at, c.id.bytes))[:limit]

    async def update(self, campaign: MarketingCampaign) -> None:
        check_time("started_at", campaign.started_at)
        check_time("finished_at", campaign.finished_at)
        stored = self._table.get(campaign.id)
        if stored is None:
            return
        done = CampaignStatus(campaign.status) is CampaignStatus.DONE
        self._table.replace(
            campaign.id,
            dataclasses.replace(
                stored,
                status=CampaignStatus(campaign.status),
                started_at=utc_or_none(campaign.started_at),
                finished_at=utc_or_none(campaign.finished_at),
                cursor=None if done else stored.cursor,
            ),
        )

    async def audience(self, created_before: datetime, after: UUID | None, limit: int) -> list[UUID]:
        check_time("created_before", created_before)
        if limit < 0:
            raise ValueError("limit must not be negative")
        found = [
            a.id
            for _, a in self._accounts.rows()
            if a.status is AccountStatus.ACTIVE
            and a.created_at <= created_before
            and (after is None or a.id.bytes > after.bytes)
        ]
        return sorted(found, key=lambda i: i.bytes)[:limit]  # the SQL backends order UUIDs by their bytes

    async def advance(self, campaign_id: UUID, expected: UUID | None, cursor: UUID, sent: int, skipped: int) -> bool:
        stored = self._table.get(campaign_id)
        if stored is None or stored.status is CampaignStatus.DONE or stored.cursor != expected:
            return False
        self._table.replace(
            campaign_id,
            dataclasses.replace(stored, cursor=cursor, sent=stored.sent + sent, skipped=stored.skipped + skipped),
        )
        return True

    async def step_off(self, subject_id: UUID) -> int:
        resting = [c for _, c in self._table.rows() if c.cursor == subject_id]
        for campaign in resting:
            self._table.replace(campaign.id, dataclasses.replace(campaign, cursor=id_before(subject_id)))
        return len(resting)


STORES = MemoryStores(
    tables=(TableSpec("marketing_campaigns", duplicate_key="this campaign already exists"),),
    repositories={
        "marketing_campaigns": lambda s: InMemoryMarketingCampaignRepository(
            s.table("marketing_campaigns"), s.table("accounts")
        )
    },
)
