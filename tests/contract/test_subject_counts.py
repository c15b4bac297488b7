"""What a store counts or sums of a subject for the access report (``count_for_subject``, ``count_entries``,
``groups_for_subject``) agrees with the records it lists of them, on every backend: another subject's records never
count, a subject without any counts nothing, and what the unit of work wrote before the commit counts in it."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from dreamina.domain.privacy.errors import Conflict
from dreamina.ports.disclosures import DisclosureGroup
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from tests.contract.billing_rows import make_entry
from tests.contract.consent_rows import consent_record
from tests.contract.generation_records import make_generation, make_upload
from tests.contract.test_repositories_contract import make_disclosure, make_event

AT = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
DISCLOSED = [
    ("openai", ("content",), "service", True),
    ("openai", ("content",), "service", False),
    ("openai", ("content", "usage"), "service", False),
    ("stripe", ("account", "payment"), "process_payments", False),
    ("openai", ("content",), "improve_service", True),
]


async def _write(uow: UnitOfWork, subject: UUID, scale: int) -> None:
    for n in range(scale):
        at = AT + timedelta(minutes=n)
        uploads = [make_upload(subject, at) for _ in range(n % 3)]
        for upload in uploads:
            await uow.uploads.add(upload)
        await uow.generations.add(make_generation(subject, tuple(u.id for u in uploads), at))
        await uow.audit.append(make_event(subject, at))
        await uow.consent_records.add(consent_record(at, subject_id=subject))
        await uow.billing.add_entry(make_entry(subject, at, amount=n - 3))
        processor, categories, purpose, improvement = DISCLOSED[n % len(DISCLOSED)]
        await uow.disclosures.record(
            make_disclosure(
                subject,
                at,
                processor=processor,
                categories=categories,
                purpose=purpose,
                improvement_allowed=improvement,
            )
        )


async def _counts(uow: UnitOfWork, subject: UUID) -> dict[str, object]:
    return {
        "uploads": await uow.uploads.count_for_subject(subject),
        "generations": await uow.generations.count_for_subject(subject),
        "audit": await uow.audit.count_for_subject(subject),
        "consent": await uow.consent_records.count_for_subject(subject),
        "ledger": await uow.billing.count_entries(subject),
        "groups": sorted(await uow.disclosures.groups_for_subject(subject), key=_group_key),
    }


async def _listed(uow: UnitOfWork, subject: UUID) -> dict[str, object]:
    generations, page = [], await uow.generations.page_for_subject(subject, 1000, None)
    generations.extend(page.items)
    disclosures = await uow.disclosures.list_for_subject(subject)
    grouped: dict[tuple[str, str, tuple[str, ...]], list[datetime]] = {}
    allowed: Counter[tuple[str, str, tuple[str, ...]]] = Counter()
    for d in disclosures:
        grouped.setdefault((d.processor, d.purpose, d.categories), []).append(d.occurred_at)
        allowed[(d.processor, d.purpose, d.categories)] += d.improvement_allowed
    return {
        "uploads": len(await uow.uploads.list_for_subject(subject)),
        "generations": (len(generations), sum(len(g.reference_upload_ids) for g in generations)),
        "audit": len(await uow.audit.list_for_subject(subject)),
        "consent": len(await uow.consent_records.history_for_subject(subject)),
        "ledger": len(await uow.billing.list_entries(subject, None, 1000)),
        "groups": sorted(
            (
                DisclosureGroup(processor, purpose, categories, len(times), allowed[key], min(times), max(times))
                for key, times in grouped.items()
                for processor, purpose, categories in [key]
            ),
            key=_group_key,
        ),
    }


def _group_key(group: DisclosureGroup) -> tuple[str, str, tuple[str, ...]]:
    return group.processor, group.purpose, group.categories


NOTHING = {"uploads": 0, "generations": (0, 0), "audit": 0, "consent": 0, "ledger": 0, "groups": []}


async def test_counts_and_groups_agree_with_what_is_listed(uow_factory: UnitOfWorkFactory) -> None:
    subject, other, nobody = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with uow_factory() as uow:
        await _write(uow, subject, 12)
        await _write(uow, other, 4)
        assert await _counts(uow, subject) == await _listed(uow, subject)  # before the commit, in the unit of work
        await uow.commit()
    async with uow_factory() as uow:
        counted = await _counts(uow, subject)
        assert counted == await _listed(uow, subject)
        assert counted["generations"] == (12, 12 // 3 * (0 + 1 + 2)) and counted["ledger"] == 12
        groups = counted["groups"]
        assert isinstance(groups, list) and len(groups) == len(DISCLOSED) - 1  # two of them share a group
        assert await _counts(uow, other) == await _listed(uow, other)
        assert await _counts(uow, nobody) == NOTHING


async def test_audit_events_and_disclosures_page_in_the_order_they_list(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    async with uow_factory() as uow:
        for n in range(23):
            at = AT + timedelta(seconds=n // 4)  # four at each instant: the id orders them
            await uow.audit.append(make_event(subject, at))
            await uow.disclosures.record(make_disclosure(subject, at))
            await uow.audit.append(make_event(other, at))
            await uow.disclosures.record(make_disclosure(other, at))
        await uow.commit()
    async with uow_factory() as uow:
        for store in (uow.audit, uow.disclosures):
            listed = await store.list_for_subject(subject)
            for size in (1, 5, 23, 50):
                paged: list[object] = []
                after = None
                while page := await store.page_for_subject(subject, size, after):
                    assert len(page) <= size
                    paged.extend(page)
                    after = (page[-1].occurred_at, page[-1].id)
                assert paged == listed and len(paged) == 23
            assert await store.page_for_subject(uuid.uuid4(), 10) == []


async def test_erasure_deletes_a_subjects_generations_links_and_uploads_at_once(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    async with uow_factory() as uow:
        await _write(uow, subject, 9)  # 9 generations, 9 links, 9 uploads
        await _write(uow, other, 5)
        await uow.commit()
    async with uow_factory() as uow:
        before_other = await _counts(uow, other)
        with pytest.raises(Conflict):  # generations still use them
            await uow.uploads.delete_for_subject(subject)
    async with uow_factory() as uow:
        assert await uow.generations.delete_for_subject(subject) == (9, 9)
        assert await uow.uploads.delete_for_subject(subject) == 9
        await uow.commit()
    async with uow_factory() as uow:
        assert (await _counts(uow, subject))["generations"] == (0, 0)
        assert await uow.uploads.count_for_subject(subject) == 0
        assert await _counts(uow, other) == before_other
        assert await uow.generations.delete_for_subject(subject) == (0, 0)
        assert await uow.uploads.delete_for_subject(subject) == 0
