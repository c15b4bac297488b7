"""Contract: the repository methods the retention tasks use, identical on memory, SQLite and PostgreSQL.

Each "delete before" method removes only what is past the cutoff, at most ``limit`` rows per call, oldest first;
each count agrees with what the deletes remove.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dreamina.ports.audit import AuditEvent
from dreamina.ports.generation import GenerationStatus
from dreamina.ports.identity import Account, AccountStatus
from dreamina.ports.unit_of_work import UnitOfWorkFactory

from .billing_rows import make_checkout
from .consent_rows import consent_record
from .data_rights_records import make_job, make_request, make_request_event
from .generation_records import make_generation, make_upload

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


async def _account(uow_factory: UnitOfWorkFactory, content_retention_days: int | None = None) -> uuid.UUID:
    account_id = uuid.uuid4()
    async with uow_factory() as uow:
        await uow.accounts.add(
            Account(
                account_id,
                uuid.uuid4().hex,
                b"e",
                None,
                b"b",
                "DE",
                None,
                "h",
                AccountStatus.ACTIVE,
                NOW,
                NOW,
                content_retention_days=content_retention_days,
            )
        )
        await uow.commit()
    return account_id


async def test_the_content_retention_setting_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    account_id = await _account(uow_factory, 30)
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id)
        assert account is not None and account.content_retention_days == 30
        account.content_retention_days = None
        await uow.accounts.update(account)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.accounts.get(account_id)
        assert again is not None and again.content_retention_days is None


async def test_audit_events_before_a_cutoff_go_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    async with uow_factory() as uow:
        for days in (10, 9, 8, 1):
            await uow.audit.append(
                AuditEvent(uuid.uuid4(), subject, "system", None, "x", ("f",), None, NOW - timedelta(days=days))
            )
        await uow.commit()
    cutoff = NOW - timedelta(days=5)
    async with uow_factory() as uow:
        assert await uow.audit.count_before(cutoff) == 3
        assert await uow.audit.delete_before(cutoff, 2) == 2
        await uow.commit()
    async with uow_factory() as uow:
        left = [e.occurred_at for e in await uow.audit.list_for_subject(subject)]
        assert left == [NOW - timedelta(days=8), NOW - timedelta(days=1)]
        assert await uow.audit.delete_before(cutoff, 10) == 1
        with pytest.raises(ValueError):
            await uow.audit.delete_before(cutoff, -1)


async def test_only_device_consent_records_expire(uow_factory: UnitOfWorkFactory) -> None:
    subject = await _account(uow_factory)
    old = NOW - timedelta(days=400)
    async with uow_factory() as uow:
        await uow.consent_records.add(consent_record(old, subject_id=subject))
        await uow.consent_records.add(consent_record(old, device_key="d" * 64))
        await uow.consent_records.add(consent_record(old + timedelta(days=1), device_key="d" * 64))
        await uow.consent_records.add(consent_record(NOW, device_key="d" * 64))
        await uow.commit()
    cutoff = NOW - timedelta(days=396)
    async with uow_factory() as uow:
        assert await uow.consent_records.count_device_records_before(cutoff) == 2
        assert await uow.consent_records.delete_device_records_before(cutoff, 1) == 1
        await uow.commit()
    async with uow_factory() as uow:
        history = await uow.consent_records.history_for_device("d" * 64)
        assert [r.recorded_at for r in history] == [old + timedelta(days=1), NOW]
        assert len(await uow.consent_records.history_for_subject(subject)) == 1  # the account's stay


async def test_expired_codes_are_cleared_and_nothing_else(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    expired = make_request(subject, code_hash="h1", code_expires_at=NOW - timedelta(minutes=1), code_attempts=2)
    live = make_request(subject, code_hash="h2", code_expires_at=NOW + timedelta(minutes=1))
    async with uow_factory() as uow:
        await uow.privacy_requests.add(expired)
        await uow.privacy_requests.add(live)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.privacy_requests.count_expired_codes(NOW) == 1
        assert await uow.privacy_requests.clear_expired_codes(NOW, 10) == 1
        await uow.commit()
    async with uow_factory() as uow:
        cleared = await uow.privacy_requests.get(expired.id)
        assert cleared is not None and (cleared.code_hash, cleared.code_expires_at) == (None, None)
        assert cleared.code_attempts == 2 and cleared.status == expired.status
        kept = await uow.privacy_requests.get(live.id)
        assert kept is not None and kept.code_hash == "h2"
        assert await uow.privacy_requests.count_expired_codes(NOW) == 0


async def test_closed_requests_go_with_their_history_and_job(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    long_closed = make_request(subject, status="completed", updated_at=NOW - timedelta(days=1200))
    open_old = make_request(subject, status="in_review", updated_at=NOW - timedelta(days=1200))
    recently_closed = make_request(subject, status="rejected", updated_at=NOW - timedelta(days=10))
    async with uow_factory() as uow:
        for request in (long_closed, open_old, recently_closed):
            await uow.privacy_requests.add(request)
            await uow.privacy_request_events.append(make_request_event(request))
            await uow.privacy_jobs.add(make_job(request))
        await uow.commit()
    closed = ("completed", "rejected", "cancelled")
    cutoff = NOW - timedelta(days=1095)
    async with uow_factory() as uow:
        assert await uow.privacy_requests.count_closed_before(closed, cutoff) == 1
        ids = await uow.privacy_requests.lock_closed_before(closed, cutoff, 10)
        assert ids == [long_closed.id]
        assert await uow.privacy_request_events.delete_for_requests(ids) == 1
        assert await uow.privacy_jobs.delete_for_requests(ids) == 1
        assert await uow.privacy_requests.delete_many(ids) == 1
        assert await uow.privacy_requests.delete_many([]) == 0
        await uow.commit()
    async with uow_factory() as uow:
        assert {r.id for r in await uow.privacy_requests.list_for_subject(subject)} == {open_old.id, recently_closed.id}
        assert await uow.privacy_request_events.list_for_request(long_closed.id) == []
        assert await uow.privacy_jobs.get(long_closed.id) is None
        assert await uow.privacy_jobs.get(open_old.id) is not None


async def test_expired_archives_are_found_locked_and_cleared(uow_factory: UnitOfWorkFactory) -> None:
    first, second, live = (make_request(uuid.uuid4()) for _ in range(3))
    jobs = [
        make_job(first, state="done", archive_key="exports/a/1.zip", expires_at=NOW - timedelta(days=2)),
        make_job(second, state="done", archive_key="exports/b/2.zip", expires_at=NOW - timedelta(days=1)),
        make_job(live, state="done", archive_key="exports/c/3.zip", expires_at=NOW + timedelta(days=1)),
    ]
    async with uow_factory() as uow:
        for job in jobs:
            await uow.privacy_jobs.add(job)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.privacy_jobs.count_expired_archives(NOW) == 2
        batch = await uow.privacy_jobs.lock_expired_archives(NOW, 1)
        assert [(j.request_id, j.archive_key) for j in batch] == [(first.id, "exports/a/1.zip")]
        assert await uow.privacy_jobs.clear_archives([first.id], NOW) == 1
        assert await uow.privacy_jobs.clear_archives([first.id], NOW) == 0
        await uow.commit()
    async with uow_factory() as uow:
        cleared = await uow.privacy_jobs.get(first.id)
        assert cleared is not None and cleared.archive_key is None and cleared.updated_at == NOW
        assert [j.request_id for j in await uow.privacy_jobs.lock_expired_archives(NOW, 10)] == [second.id]


async def test_checkouts_before_a_cutoff_go(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    async with uow_factory() as uow:
        for days in (3, 2, 1):
            await uow.billing.add_checkout(make_checkout(subject, NOW - timedelta(days=days)))
        await uow.commit()
    cutoff = NOW - timedelta(days=1, hours=12)
    async with uow_factory() as uow:
        assert await uow.billing.count_checkouts_before(cutoff) == 2
        assert await uow.billing.delete_checkouts_before(cutoff, 1) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.billing.count_checkouts_before(cutoff) == 1
        assert await uow.billing.delete_checkouts_before(cutoff, 5) == 1
        assert await uow.billing.count_checkouts_before(NOW) == 1


async def test_generations_past_their_owners_setting_are_found(uow_factory: UnitOfWorkFactory) -> None:
    weekly = await _account(uow_factory, 7)
    monthly = await _account(uow_factory, 30)
    keeper = await _account(uow_factory, None)
    made = {
        "weekly_old": make_generation(weekly, at=NOW - timedelta(days=8), status=GenerationStatus.SUCCEEDED),
        "weekly_new": make_generation(weekly, at=NOW - timedelta(days=6)),
        "monthly_old": make_generation(monthly, at=NOW - timedelta(days=31)),
        "monthly_mid": make_generation(monthly, at=NOW - timedelta(days=8)),
        "keeper_old": make_generation(keeper, at=NOW - timedelta(days=3000)),
    }
    async with uow_factory() as uow:
        for generation in made.values():
            await uow.generations.add(generation)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.generations.count_past_owner_retention(NOW) == 2
        found = await uow.generations.lock_past_owner_retention(NOW, 10)
        assert {g.id for g in found} == {made["weekly_old"].id, made["monthly_old"].id}
        assert found[0].status in (GenerationStatus.SUCCEEDED, GenerationStatus.QUEUED)
        assert len(await uow.generations.lock_past_owner_retention(NOW, 1)) == 1
        assert await uow.generations.lock_past_owner_retention(NOW, 0) == []


async def test_unused_uploads_past_their_owners_setting_are_found(uow_factory: UnitOfWorkFactory) -> None:
    weekly = await _account(uow_factory, 7)
    monthly = await _account(uow_factory, 30)
    keeper = await _account(uow_factory, None)
    made = {
        "weekly_old": make_upload(weekly, NOW - timedelta(days=8)),
        "weekly_new": make_upload(weekly, NOW - timedelta(days=6)),
        "weekly_used": make_upload(weekly, NOW - timedelta(days=9)),  # a younger generation still uses it
        "weekly_used_by_old": make_upload(weekly, NOW - timedelta(days=10)),  # that generation goes first
        "monthly_old": make_upload(monthly, NOW - timedelta(days=31)),
        "monthly_mid": make_upload(monthly, NOW - timedelta(days=8)),
        "keeper_old": make_upload(keeper, NOW - timedelta(days=3000)),
    }
    async with uow_factory() as uow:
        for upload in made.values():
            await uow.uploads.add(upload)
        await uow.generations.add(make_generation(weekly, (made["weekly_used"].id,), at=NOW - timedelta(days=1)))
        old_use = make_generation(weekly, (made["weekly_used_by_old"].id,), at=NOW - timedelta(days=10))
        await uow.generations.add(old_use)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.uploads.count_unused_past_owner_retention(NOW) == 2
        found = await uow.uploads.lock_unused_past_owner_retention(NOW, 10)
        assert sorted(found, key=lambda u: u.id) == sorted(
            [made["weekly_old"], made["monthly_old"]], key=lambda u: u.id
        )
        assert len(await uow.uploads.lock_unused_past_owner_retention(NOW, 1)) == 1
        assert await uow.uploads.lock_unused_past_owner_retention(NOW, 0) == []
    async with uow_factory() as uow:
        await uow.generations.delete(old_use.id)
        await uow.commit()
    async with uow_factory() as uow:  # no generation uses it any more: it is due too
        found = await uow.uploads.lock_unused_past_owner_retention(NOW, 10)
        assert {u.id for u in found} == {made["weekly_old"].id, made["weekly_used_by_old"].id, made["monthly_old"].id}
        assert await uow.uploads.count_unused_past_owner_retention(NOW) == 3
