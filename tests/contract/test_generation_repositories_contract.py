"""The generation repositories behave the same in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from dreamina.domain.privacy.errors import NotFound
from dreamina.ports.generation import GenerationOutput, GenerationStatus
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.generation_records import AT, make_generation, make_upload


async def test_uploads_round_trip_and_delete(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    first, second = make_upload(subject), make_upload(subject, AT + timedelta(seconds=1))
    async with uow_factory() as uow:
        await uow.uploads.add(second)
        await uow.uploads.add(first)
        await uow.uploads.add(make_upload(uuid.uuid4()))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.uploads.get(first.id) == first
        assert await uow.uploads.list_for_subject(subject) == [first, second]
        assert await uow.uploads.delete(first.id) is True
        assert await uow.uploads.delete(first.id) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.uploads.get(first.id) is None


async def test_uploads_page_newest_first_with_a_cursor(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    same_time = [make_upload(subject, AT + timedelta(seconds=5)) for _ in range(2)]
    uploads = [make_upload(subject, AT + timedelta(seconds=n)) for n in range(3)] + same_time
    async with uow_factory() as uow:
        for upload in [*uploads, make_upload(uuid.uuid4(), AT + timedelta(seconds=9))]:
            await uow.uploads.add(upload)
        await uow.commit()
    newest_first = sorted(uploads, key=lambda u: (u.created_at, u.id), reverse=True)
    async with uow_factory() as uow:
        page, more = await uow.uploads.page_for_subject(subject, 2, None)
        assert (page, more) == (newest_first[:2], True)  # the same second: ordered by id
        cursor = (page[-1].created_at, page[-1].id)
        page, more = await uow.uploads.page_for_subject(subject, 2, cursor)
        assert (page, more) == (newest_first[2:4], True)
        page, more = await uow.uploads.page_for_subject(subject, 2, (page[-1].created_at, page[-1].id))
        assert (page, more) == (newest_first[4:], False)
        assert await uow.uploads.page_for_subject(uuid.uuid4(), 5, None) == ([], False)


async def test_generations_round_trip_with_their_references_in_order(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    a, b = make_upload(subject), make_upload(subject)
    generation = make_generation(subject, (b.id, a.id))
    async with uow_factory() as uow:
        await uow.uploads.add(a)
        await uow.uploads.add(b)
        await uow.generations.add(generation)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.generations.get(generation.id)
        assert stored == generation
        assert (await uow.generations.page_for_subject(subject, 5, None)).items == [generation]  # in their order
        assert await uow.generations.count_referencing(a.id) == 1


async def test_a_reference_to_a_missing_upload_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(NotFound):
            await uow.generations.add(make_generation(uuid.uuid4(), (uuid.uuid4(),)))


async def test_update_changes_only_the_job_state(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    generation = make_generation(subject)
    async with uow_factory() as uow:
        await uow.generations.add(generation)
        await uow.commit()
    generation.status = GenerationStatus.SUCCEEDED
    generation.provider_job_id = "job-1"
    generation.attempts = 2
    generation.outputs = (GenerationOutput("outputs/s/g/0.png", "image/png", 10),)
    generation.updated_at = AT + timedelta(minutes=1)
    async with uow_factory() as uow:
        await uow.generations.update(generation)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.generations.get(generation.id) == generation
        assert await uow.generations.unfinished(10) == []
        # the page maps its rows on a path of its own (references folded into it on PostgreSQL): every field
        assert (await uow.generations.page_for_subject(subject, 5, None)).items == [generation]
        with pytest.raises(NotFound):
            await uow.generations.update(make_generation(subject))


async def test_pages_are_newest_first_and_cursors_continue_them(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    made = [make_generation(subject, at=AT + timedelta(seconds=i // 2)) for i in range(7)]  # ties on time
    async with uow_factory() as uow:
        for generation in made:
            await uow.generations.add(generation)
        await uow.generations.add(make_generation(uuid.uuid4()))
        await uow.commit()
    seen = []
    cursor = None
    async with uow_factory() as uow:
        while True:
            page = await uow.generations.page_for_subject(subject, 3, cursor)
            seen.extend(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert len(seen) == 7 and len({g.id for g in seen}) == 7
    times = [g.created_at for g in seen]
    assert times == sorted(times, reverse=True)


async def test_deleting_a_generation_frees_its_references(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    upload = make_upload(subject)
    generation = make_generation(subject, (upload.id,))
    async with uow_factory() as uow:
        await uow.uploads.add(upload)
        await uow.generations.add(generation)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.generations.delete(generation.id) is True
        assert await uow.generations.count_referencing(upload.id) == 0
        assert await uow.uploads.delete(upload.id) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.generations.get(generation.id) is None
        assert await uow.generations.delete(generation.id) is False


async def test_unfinished_lists_queued_and_running_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    running = make_generation(subject, at=AT, status=GenerationStatus.RUNNING)
    queued = make_generation(subject, at=AT + timedelta(seconds=1))
    done = make_generation(subject, at=AT, status=GenerationStatus.FAILED)
    async with uow_factory() as uow:
        for generation in (queued, done, running):
            await uow.generations.add(generation)
        await uow.commit()
    async with uow_factory() as uow:
        assert [g.id for g in await uow.generations.unfinished(10)] == [running.id, queued.id]
        assert [g.id for g in await uow.generations.unfinished(1)] == [running.id]


async def test_unfinished_for_subject_lists_only_that_subjects_unfinished_jobs(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    running = make_generation(subject, at=AT, status=GenerationStatus.RUNNING)
    queued = make_generation(subject, at=AT + timedelta(seconds=1))
    done = make_generation(subject, at=AT, status=GenerationStatus.SUCCEEDED)
    elsewhere = make_generation(other, at=AT)
    async with uow_factory() as uow:
        for generation in (queued, done, elsewhere, running):
            await uow.generations.add(generation)
        await uow.commit()
    async with uow_factory() as uow:
        assert [g.id for g in await uow.generations.unfinished_for_subject(subject, 10)] == [running.id, queued.id]
        assert [g.id for g in await uow.generations.unfinished_for_subject(subject, 1)] == [running.id]
        assert [g.id for g in await uow.generations.unfinished_for_subject(other, 10)] == [elsewhere.id]
        assert await uow.generations.unfinished_for_subject(uuid.uuid4(), 10) == []


async def test_text_with_nul_is_refused_everywhere(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError):
            await uow.generations.add(make_generation(uuid.uuid4(), failure_reason="a\x00b"))
        with pytest.raises(ValueError):
            await uow.restrictions.restrict(uuid.uuid4(), "a\x00b", AT)


async def test_unfinished_pages_by_keyset_after_a_cursor(uow_factory: UnitOfWorkFactory) -> None:
    """The reaper's paging: ``after`` (created_at, id) gives what comes after it, ties on the time broken by id."""
    subject = uuid.uuid4()
    same_time = [make_generation(subject, at=AT) for _ in range(3)]
    later = make_generation(subject, at=AT + timedelta(seconds=1))
    async with uow_factory() as uow:
        for generation in (later, *same_time):
            await uow.generations.add(generation)
        await uow.commit()
    async with uow_factory() as uow:
        everything = [g.id for g in await uow.generations.unfinished(10)]
        assert everything[-1] == later.id and sorted(everything[:3], key=lambda i: i.bytes) == everything[:3]
        pages, after = [], None
        while page := await uow.generations.unfinished(2, after=after):
            pages.append([g.id for g in page])
            after = (page[-1].created_at, page[-1].id)
        assert pages == [everything[:2], everything[2:]]
