"""Contract of the consent-module repositories and staff roles, on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from dreamina.domain.privacy.errors import Conflict
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import ConsentMethod, ImprovementChoice, Objection, PolicyNotice
from dreamina.ports.identity import AccountStatus
from dreamina.ports.staff import StaffMember, StaffRole
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.consent_rows import analytics_event, consent_record, improvement_choice
from tests.contract.test_repositories_contract import make_account

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def test_consent_history_keeps_append_order_even_at_one_instant(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    records = [consent_record(NOW, subject_id=subject, analytics=bool(i % 2)) for i in range(5)]
    async with uow_factory() as uow:
        for record in records[:3]:
            await uow.consent_records.add(record)
        await uow.commit()
    async with uow_factory() as uow:
        for record in records[3:]:
            await uow.consent_records.add(record)
        await uow.consent_records.add(consent_record(NOW, device_key="device-a"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.consent_records.history_for_subject(subject) == records
        assert await uow.consent_records.latest_for_subject(subject) == records[-1]
        assert await uow.consent_records.latest_for_subject(uuid.uuid4()) is None
        device = await uow.consent_records.latest_for_device("device-a")
        assert device is not None and device.subject_id is None and device.method is ConsentMethod.BANNER
        assert await uow.consent_records.history_for_device("device-b") == []


async def test_every_read_gives_back_every_field_of_a_record(uow_factory: UnitOfWorkFactory) -> None:
    """Each boolean set alone in one record, so a read that mapped one column into another field shows."""
    subject, device = uuid.uuid4(), "device-fields"
    flags = ("functional", "analytics", "marketing", "sale_share_opt_out", "gpc")
    records = [
        consent_record(
            NOW + timedelta(seconds=i),
            subject_id=subject,
            method=ConsentMethod.SETTINGS,
            policy_version=7 + i,
            content_sha256=f"{i:x}" * 64,
            **{flag: flag == each for flag in flags},
        )
        for i, each in enumerate(flags)
    ]
    on_device = consent_record(
        NOW, device_key=device, method=ConsentMethod.API, functional=False, analytics=False, sale_share_opt_out=True
    )
    async with uow_factory() as uow:
        for record in [*records, on_device]:
            await uow.consent_records.add(record)
        await uow.commit()
    async with uow_factory() as uow:
        newest = records[::-1]
        assert await uow.consent_records.history_for_subject(subject) == records
        assert await uow.consent_records.page_for_subject(subject, 10) == newest
        assert await uow.consent_records.newest_with_device(subject, 10, device) == (newest, on_device)
        assert await uow.consent_records.latest_for_subject(subject) == records[-1]
        assert await uow.consent_records.latest_for_device(device) == on_device


async def test_consent_history_pages_newest_first_behind_a_cursor(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    records = [consent_record(NOW, subject_id=subject, analytics=bool(i % 2)) for i in range(7)]
    async with uow_factory() as uow:
        for record in records:
            await uow.consent_records.add(record)
            await uow.consent_records.add(consent_record(NOW, subject_id=other))
            await uow.consent_records.add(consent_record(NOW, device_key="device-p"))
        await uow.commit()
    async with uow_factory() as uow:
        pages, before = [], None
        while page := await uow.consent_records.page_for_subject(subject, 3, before):
            pages.append(page)
            before = page[-1].id
        assert pages == [records[6:3:-1], records[3:0:-1], records[0:1]]
        # another owner's record is no cursor into this history
        foreign = (await uow.consent_records.page_for_subject(other, 1))[0].id
        assert await uow.consent_records.page_for_subject(subject, 3, foreign) == []
        assert await uow.consent_records.page_for_subject(subject, 3, uuid.uuid4()) == []
        device = await uow.consent_records.page_for_device("device-p", 10)
        assert len(device) == 7 and all(r.device_key == "device-p" for r in device)
        assert await uow.consent_records.page_for_device("device-q", 10) == []


@pytest.mark.parametrize("owners", [(None, None), ("subject", "device-x")], ids=["no-owner", "two-owners"])
async def test_a_consent_record_has_exactly_one_owner(
    uow_factory: UnitOfWorkFactory, owners: tuple[str | None, str | None]
) -> None:
    subject = uuid.uuid4() if owners[0] else None
    async with uow_factory() as uow:
        with pytest.raises(ValueError):
            await uow.consent_records.add(consent_record(NOW, subject_id=subject, device_key=owners[1]))


async def test_objections_are_one_stance_per_purpose(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    async with uow_factory() as uow:
        await uow.objections.put(Objection(subject, Purpose.MARKETING, True, NOW))
        await uow.objections.put(Objection(subject, Purpose.ANALYTICS, True, NOW))
        await uow.objections.put(Objection(other, Purpose.ANALYTICS, True, NOW))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.objections.put(Objection(subject, Purpose.ANALYTICS, False, NOW + timedelta(hours=1)))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.objections.for_subject(subject) == [
            Objection(subject, Purpose.ANALYTICS, False, NOW + timedelta(hours=1)),
            Objection(subject, Purpose.MARKETING, True, NOW),
        ]
        assert not await uow.objections.objects_to(subject, Purpose.ANALYTICS)
        assert await uow.objections.objects_to(subject, Purpose.MARKETING)
        assert not await uow.objections.objects_to(subject, Purpose.PRODUCT_IMPROVEMENT)
        assert await uow.objections.objects_to(other, Purpose.ANALYTICS)


async def test_notices_go_to_active_accounts_once_per_version(uow_factory: UnitOfWorkFactory) -> None:
    accounts = [make_account() for _ in range(4)]
    accounts.append(make_account(status=AccountStatus.AGE_REVIEW))  # the holder keeps using the service
    accounts.append(make_account(status=AccountStatus.SUSPENDED))
    async with uow_factory() as uow:
        for account in accounts:
            await uow.accounts.add(account)
        await uow.commit()
    active = sorted((a.id for a in accounts[:5]), key=lambda i: i.bytes)
    async with uow_factory() as uow:
        first = await uow.policy_notices.subjects_without_notice(2, 3)
        assert first == active[:3]
        for subject in first:
            await uow.policy_notices.add(PolicyNotice(uuid.uuid4(), subject, 2, NOW + timedelta(days=30), NOW))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.policy_notices.subjects_without_notice(2, 10) == active[3:]
        assert await uow.policy_notices.subjects_without_notice(3, 10) == active
        with pytest.raises(Conflict):
            await uow.policy_notices.add(PolicyNotice(uuid.uuid4(), first[0], 2, NOW, NOW))
        with pytest.raises(ValueError):
            await uow.policy_notices.subjects_without_notice(2, -1)


async def test_notices_fall_due_at_their_effective_time_and_resolve_once(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    effective = NOW + timedelta(days=30)
    notice = PolicyNotice(uuid.uuid4(), subject, 2, effective, NOW)
    async with uow_factory() as uow:
        await uow.policy_notices.add(notice)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.policy_notices.due_for_subject(subject, effective - timedelta(seconds=1)) == []
        assert await uow.policy_notices.due_for_subject(subject, effective) == [notice]
        assert await uow.policy_notices.resolve(notice.id, effective)
        assert not await uow.policy_notices.resolve(notice.id, effective)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.policy_notices.due_for_subject(subject, effective + timedelta(days=1)) == []
        [stored] = await uow.policy_notices.for_subject(subject)
        assert stored.resolved_at == effective


async def test_analytics_counts_per_day_name_and_feature_and_retention(uow_factory: UnitOfWorkFactory) -> None:
    day = date(2026, 11, 25)
    events = [analytics_event(day) for _ in range(3)]
    events += [analytics_event(day, name="feature_used", feature="upscale", page=None) for _ in range(2)]
    events += [analytics_event(day - timedelta(days=200)) for _ in range(4)]
    async with uow_factory() as uow:
        await uow.analytics_events.add_many(events)
        await uow.analytics_events.add_many([])
        await uow.commit()
    async with uow_factory() as uow:
        counts = await uow.analytics_events.daily_counts(day - timedelta(days=1), day)
        assert [(c.day, c.name, c.feature, c.count) for c in counts] == [
            (day, "feature_used", "upscale", 2),
            (day, "page_view", None, 3),
        ]
        assert await uow.analytics_events.delete_before(day - timedelta(days=180), 3) == 3
        assert await uow.analytics_events.delete_before(day - timedelta(days=180), 3) == 1
        await uow.commit()
    async with uow_factory() as uow:
        everything = await uow.analytics_events.daily_counts(day - timedelta(days=365), day)
        assert sum(c.count for c in everything) == 5


async def test_an_analytics_batch_keeps_every_value_of_every_event(uow_factory: UnitOfWorkFactory) -> None:
    day = date(2026, 11, 25)
    batch = [
        analytics_event(day, pseudonym="a" * 32),
        analytics_event(day, name="feature_used", feature="upscale", page=None, country=None, pseudonym="a" * 32),
        analytics_event(day - timedelta(days=1), page="/p/styles/ö-and-ß", browser_family="Other", pseudonym="a" * 32),
        analytics_event(day, device_class="mobile", pseudonym="b" * 32),
    ]
    alone = analytics_event(day, pseudonym="a" * 32, page="/alone")  # a batch of one
    async with uow_factory() as uow:
        await uow.analytics_events.add_many(batch)
        await uow.analytics_events.add_many([alone])
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.analytics_events.for_pseudonyms(["a" * 32, "b" * 32])
    assert sorted(found, key=lambda e: e.id) == sorted([*batch, alone], key=lambda e: e.id)
    assert [e.day for e in found] == sorted(e.day for e in found)  # oldest day first


async def test_analytics_retention_deletes_the_oldest_days_first_and_keeps_the_cutoff_day(
    uow_factory: UnitOfWorkFactory,
) -> None:
    cutoff = date(2026, 6, 1)
    days = [cutoff - timedelta(days=n) for n in (1, 3, 2, 0)]  # stored out of order
    async with uow_factory() as uow:
        await uow.analytics_events.add_many([analytics_event(day) for day in days for _ in range(2)])
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.analytics_events.count_before(cutoff) == 6
        assert await uow.analytics_events.delete_before(cutoff, 4) == 4
        await uow.commit()
    async with uow_factory() as uow:
        left = await uow.analytics_events.daily_counts(cutoff - timedelta(days=10), cutoff)
        assert [(c.day, c.count) for c in left] == [(cutoff - timedelta(days=1), 2), (cutoff, 2)]
        assert await uow.analytics_events.delete_before(cutoff, 4) == 2
        assert await uow.analytics_events.delete_before(cutoff, 4) == 0
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.analytics_events.count_before(cutoff + timedelta(days=1)) == 2


async def test_analytics_batches_refuse_nul_the_same_way_everywhere(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError):
            await uow.analytics_events.add_many([analytics_event(date(2026, 1, 1), page="/a\x00b")])


async def test_staff_roles_are_granted_changed_and_revoked(uow_factory: UnitOfWorkFactory) -> None:
    member = uuid.uuid4()
    async with uow_factory() as uow:
        await uow.staff.put(StaffMember(member, StaffRole.SUPPORT, NOW))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.staff.put(StaffMember(member, StaffRole.ADMIN, NOW + timedelta(days=1)))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.staff.get(member) == StaffMember(member, StaffRole.ADMIN, NOW + timedelta(days=1))
        assert await uow.staff.list() == [StaffMember(member, StaffRole.ADMIN, NOW + timedelta(days=1))]
        assert await uow.staff.remove(member)
        assert not await uow.staff.remove(member)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.staff.get(member) is None


async def test_improvement_history_is_appended_paged_newest_first_and_erased(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    choices = [improvement_choice(subject, NOW, allowed=bool(i % 2)) for i in range(5)]  # one instant: order decides
    async with uow_factory() as uow:
        for choice in choices:
            await uow.improvement_choices.add(choice)
            await uow.improvement_choices.add(improvement_choice(other, NOW))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.improvement_choices.history_for_subject(subject) == choices
        assert await uow.improvement_choices.latest_for_subject(subject) == choices[-1]
        assert await uow.improvement_choices.latest_for_subject(uuid.uuid4()) is None
        first = await uow.improvement_choices.page_for_subject(subject, 2)
        assert first == choices[4:2:-1]
        assert await uow.improvement_choices.page_for_subject(subject, 5, first[-1].id) == choices[2::-1]
        foreign = (await uow.improvement_choices.page_for_subject(other, 1))[0].id
        assert await uow.improvement_choices.page_for_subject(subject, 5, foreign) == []
        with pytest.raises(Conflict):
            await uow.improvement_choices.add(choices[0])  # a record is appended once
    async with uow_factory() as uow:
        assert await uow.improvement_choices.delete_for_subject(subject) == 5
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.improvement_choices.history_for_subject(subject) == []
        assert len(await uow.improvement_choices.history_for_subject(other)) == 5


async def test_improvement_choices_refuse_nul_and_naive_times_everywhere(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    async with uow_factory() as uow:
        with pytest.raises(ValueError):
            await uow.improvement_choices.add(improvement_choice(subject, NOW.replace(tzinfo=None)))
        bad = improvement_choice(subject, NOW)
        with pytest.raises(ValueError):
            await uow.improvement_choices.add(ImprovementChoice(bad.id, subject, True, bad.method, 1, "a\x00b", NOW))


async def test_a_consent_record_is_appended_once_and_a_repeat_leaves_the_unit_of_work_usable(
    uow_factory: UnitOfWorkFactory,
) -> None:
    subject = uuid.uuid4()
    record = consent_record(NOW, subject_id=subject)
    later = consent_record(NOW + timedelta(seconds=1), subject_id=subject)
    async with uow_factory() as uow:
        await uow.consent_records.add(record)
        with pytest.raises(Conflict):
            await uow.consent_records.add(record)
        await uow.consent_records.add(later)  # the transaction goes on: both records are kept
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.consent_records.latest_for_subject(subject) == later
        assert [r.id for r in await uow.consent_records.history_for_subject(subject)] == [record.id, later.id]


async def test_consent_records_appended_together_keep_their_order_and_are_checked_alike(
    uow_factory: UnitOfWorkFactory,
) -> None:
    subject = uuid.uuid4()
    first = consent_record(NOW, subject_id=subject)
    together = [
        consent_record(NOW, subject_id=subject, analytics=True),
        consent_record(NOW, device_key="device-t"),
        consent_record(NOW, subject_id=subject, marketing=True),
    ]
    async with uow_factory() as uow:
        await uow.consent_records.add(first)
        await uow.consent_records.add_many(together)
        await uow.consent_records.add_many([])
        await uow.commit()
    async with uow_factory() as uow:
        # appended at one instant, after the first: the order they were given in is the order kept
        assert await uow.consent_records.history_for_subject(subject) == [first, together[0], together[2]]
        assert await uow.consent_records.page_for_subject(subject, 2) == [together[2], together[0]]
        assert await uow.consent_records.latest_for_device("device-t") == together[1]
    async with uow_factory() as uow:
        with pytest.raises(Conflict):  # one of them is there already: refused now, or by the commit that sends it
            await uow.consent_records.add_many([consent_record(NOW, subject_id=subject), together[1]])
            await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(ValueError):  # each is checked as one added alone is
            await uow.consent_records.add_many(
                [consent_record(NOW, subject_id=subject), consent_record(NOW, subject_id=subject, device_key="d")]
            )
    async with uow_factory() as uow:  # nothing of the refused batches was kept
        assert len(await uow.consent_records.history_for_subject(subject)) == 3
