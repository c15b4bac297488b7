"""Contract of the marketing campaigns' store (the marketing mail job's progress), on the fakes, SQLite and PostgreSQL:
the audience in id order after a cursor, the cursor moved only by compare-and-set, cleared when done and moved off an
erased subject."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dreamina.ports.identity import Account, AccountStatus
from dreamina.ports.marketing import CampaignStatus, MarketingCampaign, id_before
from dreamina.ports.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _campaign(created_at: datetime = NOW) -> MarketingCampaign:
    return MarketingCampaign(uuid.uuid4(), "News", "Body\nlines", CampaignStatus.PENDING, created_at)


async def _accounts(
    uow_factory: UnitOfWorkFactory, *statuses: AccountStatus, created_at: datetime = NOW
) -> list[uuid.UUID]:
    ids = []
    async with uow_factory() as uow:
        for status in statuses:
            account_id = uuid.uuid4()
            account = Account(account_id, uuid.uuid4().hex, b"e", None, b"b", "DE", None, "h", status, NOW, NOW)
            account.created_at = created_at
            await uow.accounts.add(account)
            ids.append(account_id)
        await uow.commit()
    return ids


async def test_a_campaign_is_read_back_and_unfinished_ones_come_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    later, earlier, done = _campaign(NOW + timedelta(minutes=1)), _campaign(), _campaign(NOW - timedelta(minutes=1))
    async with uow_factory() as uow:
        for campaign in (later, earlier, done):
            await uow.marketing_campaigns.add(campaign)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.marketing_campaigns.get(earlier.id) == earlier
        assert await uow.marketing_campaigns.get(uuid.uuid4()) is None
        done.start(NOW)
        done.finish(NOW + timedelta(seconds=1))
        await uow.marketing_campaigns.update(done)
        await uow.commit()
    async with uow_factory() as uow:
        assert [c.id for c in await uow.marketing_campaigns.unfinished(10)] == [earlier.id, later.id]
        assert [c.id for c in await uow.marketing_campaigns.unfinished(1)] == [earlier.id]
        stored = await uow.marketing_campaigns.get(done.id)
        assert stored is not None and (stored.status, stored.finished_at) == (CampaignStatus.DONE, done.finished_at)


async def test_the_audience_is_the_active_accounts_of_its_time_in_byte_order(uow_factory: UnitOfWorkFactory) -> None:
    active = await _accounts(uow_factory, *[AccountStatus.ACTIVE] * 5)
    await _accounts(uow_factory, AccountStatus.SUSPENDED, AccountStatus.AGE_REVIEW, AccountStatus.ERASED)
    await _accounts(uow_factory, AccountStatus.ACTIVE, created_at=NOW + timedelta(seconds=1))  # after the campaign
    ordered = sorted(active, key=lambda i: i.bytes)
    async with uow_factory() as uow:
        audience = uow.marketing_campaigns.audience
        assert await audience(NOW, None, 10) == ordered
        assert await audience(NOW, None, 2) == ordered[:2]
        assert await audience(NOW, ordered[1], 2) == ordered[2:4]
        assert await audience(NOW, ordered[-1], 2) == []
        assert await audience(NOW, id_before(ordered[2]), 1) == [ordered[2]]


async def test_the_cursor_moves_only_from_where_it_was(uow_factory: UnitOfWorkFactory) -> None:
    campaign = _campaign()
    first, second = sorted((uuid.uuid4() for _ in range(2)), key=lambda i: i.bytes)
    async with uow_factory() as uow:
        await uow.marketing_campaigns.add(campaign)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.marketing_campaigns.advance(campaign.id, None, first, 3, 1) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.marketing_campaigns.advance(campaign.id, None, second, 5, 5) is False  # a sender behind
        assert await uow.marketing_campaigns.advance(campaign.id, second, second, 5, 5) is False
        assert await uow.marketing_campaigns.advance(campaign.id, first, second, 2, 0) is True
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.marketing_campaigns.get(campaign.id)
        assert stored is not None and (stored.cursor, stored.sent, stored.skipped) == (second, 5, 1)
        stored.start(NOW)
        stored.finish(NOW)
        await uow.marketing_campaigns.update(stored)
        await uow.commit()
    async with uow_factory() as uow:
        done = await uow.marketing_campaigns.get(campaign.id)
        assert done is not None and done.cursor is None  # nobody's id once the campaign is done
        assert (done.sent, done.skipped) == (5, 1)  # update leaves the counts alone
        assert await uow.marketing_campaigns.advance(campaign.id, None, first, 1, 0) is False  # done: no more batches


async def test_erasure_moves_a_cursor_off_the_subject(uow_factory: UnitOfWorkFactory) -> None:
    campaign, other = _campaign(), _campaign()
    subject, elsewhere = uuid.uuid4(), uuid.uuid4()
    async with uow_factory() as uow:
        await uow.marketing_campaigns.add(campaign)
        await uow.marketing_campaigns.add(other)
        assert await uow.marketing_campaigns.advance(campaign.id, None, subject, 1, 0)
        assert await uow.marketing_campaigns.advance(other.id, None, elsewhere, 1, 0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.marketing_campaigns.step_off(subject) == 1
        await uow.commit()
    async with uow_factory() as uow:
        moved = await uow.marketing_campaigns.get(campaign.id)
        untouched = await uow.marketing_campaigns.get(other.id)
        assert moved is not None and moved.cursor == id_before(subject) != subject
        assert untouched is not None and untouched.cursor == elsewhere
        assert await uow.marketing_campaigns.step_off(subject) == 0


async def test_text_with_nul_is_refused_the_same_way_everywhere(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError):
            await uow.marketing_campaigns.add(
                MarketingCampaign(uuid.uuid4(), "News\x00", "Body", CampaignStatus.PENDING, NOW)
            )
