"""Read-only units of work (``reader_of``): what the hot read paths open. They see what is committed and never keep
a write: on SQLite the commit is refused (and they never wait for the writer turn, see test_sqlite_writers.py); on
PostgreSQL they run in autocommit without BEGIN/ROLLBACK, so a write is refused before it reaches the database."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest

from dreamina.adapters.sql.repository_kit import DRIVER, SQLITE_READS
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import ConsentMethod, Objection
from dreamina.ports.generation import GenerationOutput, GenerationStatus
from dreamina.ports.keys import SubjectKey
from dreamina.ports.unit_of_work import UnitOfWorkFactory, reader_of
from tests.contract.consent_rows import consent_record
from tests.contract.generation_records import AT, make_generation, make_upload

from .test_repositories_contract import make_account, make_policy


async def test_a_reader_sees_what_is_committed_and_keeps_no_write(uow_factory: UnitOfWorkFactory) -> None:
    reader = reader_of(uow_factory)
    if reader is uow_factory:
        pytest.skip("the memory store has no separate readers: nothing waits on a writer there")
    committed = make_account()
    async with uow_factory() as uow:
        await uow.accounts.add(committed)
        await uow.commit()
    async with reader() as read:
        assert await read.accounts.get(committed.id) == committed

    stray = make_account()
    with pytest.raises(RuntimeError, match="read-only"):
        async with reader() as read:
            await read.accounts.add(stray)
            await read.commit()
    async with uow_factory() as uow:
        assert await uow.accounts.get(stray.id) is None


async def test_the_hot_reads_answer_alike_in_a_reader_and_in_a_unit_of_work_that_may_write(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """On PostgreSQL a reader and a unit of work that may write run the hot reads straight on asyncpg
    (``repository_kit.DriverRead``): both must hand back the records SQLAlchemy's own execution does, value for
    value and type for type (timestamps in UTC, bytes, JSON, UUIDs, every nullable column both ways, a page after a
    cursor, references in their order)."""
    reader = reader_of(uow_factory)
    subject = uuid.uuid4()
    account = make_account(id=subject, display_name_ciphertext=None, region="CA", email_verified_at=AT)
    other = make_account(content_retention_days=30)
    keyless = make_account()  # an account whose subject has no data key row at all
    uploads = [make_upload(subject), make_upload(subject)]
    generations = [
        make_generation(subject, at=AT + timedelta(seconds=i // 2), params={"n": i, "style": ["a", {"b": None}]})
        for i in range(5)
    ]
    generations[1] = make_generation(subject, (uploads[1].id, uploads[0].id), at=generations[1].created_at)
    generations[2] = make_generation(
        subject,
        at=generations[2].created_at,
        status=GenerationStatus.SUCCEEDED,
        provider_job_id="job-7",
        attempts=2,
        outputs=(GenerationOutput("outputs/s/g/0.png", "image/png", 10),),
    )
    generations[3] = make_generation(
        subject, at=generations[3].created_at, status=GenerationStatus.FAILED, failure_reason="provider_error"
    )
    async with uow_factory() as uow:
        for made in (account, other, keyless):
            await uow.accounts.add(made)
        for upload in uploads:
            await uow.uploads.add(upload)
        for generation in generations:
            await uow.generations.add(generation)
        await uow.subject_keys.add(SubjectKey(subject, b"\x01wrapped\x00key", AT, None))
        await uow.subject_keys.add(SubjectKey(other.id, None, AT, AT + timedelta(days=1)))
        await uow.commit()

    async def answers(factory: UnitOfWorkFactory) -> list[object]:
        async with factory() as uow:
            found: list[object] = [
                await uow.accounts.get(account.id),
                await uow.accounts.get(other.id),
                await uow.accounts.get(uuid.uuid4()),
                await uow.subject_keys.get(subject),
                await uow.subject_keys.get(other.id),
                await uow.subject_keys.get(uuid.uuid4()),
                await uow.accounts.get(keyless.id),
                await uow.subject_keys.get(keyless.id),
            ]
            cursor = None
            while True:
                page = await uow.generations.page_for_subject(subject, 2, cursor)
                found.append(page)
                if page.next_cursor is None:
                    return found
                cursor = page.next_cursor

    in_reader, in_writer = await answers(reader), await answers(uow_factory)
    in_sqlalchemy = await answers(through_sqlalchemy(uow_factory))
    assert in_reader == in_writer == in_sqlalchemy
    assert [type(value) for value in _values(in_reader)] == [type(value) for value in _values(in_sqlalchemy)]
    assert [type(value) for value in _values(in_writer)] == [type(value) for value in _values(in_sqlalchemy)]
    assert in_writer[0] == account and in_writer[3] == SubjectKey(subject, b"\x01wrapped\x00key", AT, None)
    assert in_writer[4] == SubjectKey(other.id, None, AT, AT + timedelta(days=1))
    assert in_writer[6] == keyless and in_writer[7] is None
    paged = [g for page in in_writer[8:] for g in page.items]  # type: ignore[attr-defined]
    assert paged == sorted(generations, key=lambda g: (g.created_at, g.id), reverse=True)
    assert all(g.created_at.utcoffset() == timedelta(0) for g in paged)


def through_sqlalchemy(factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """Units of work of ``factory`` whose driver reads run through SQLAlchemy's own execution (as on SQLite): the
    yardstick the driver's answers are held to on PostgreSQL."""

    class Plain:
        def __init__(self) -> None:
            self._uow = factory()

        async def __aenter__(self) -> object:
            entered = await self._uow.__aenter__()
            session = getattr(entered, "_session", None)
            if session is not None:
                session.info.pop(DRIVER, None)
                session.info.pop(SQLITE_READS, None)
            return entered

        async def __aexit__(self, *exc: object) -> None:
            await self._uow.__aexit__(*exc)  # type: ignore[arg-type]

    return Plain  # type: ignore[return-value]


def _values(found: list[object]) -> list[object]:
    """Every field value of the records read, pages opened up."""
    values: list[object] = []
    for item in found:
        records = item if isinstance(item, list) else getattr(item, "items", None) or [item]
        for record in records:
            values.extend(dataclasses.astuple(record) if dataclasses.is_dataclass(record) else [record])
    return values


async def test_the_consent_checks_answer_alike_in_a_reader_and_in_a_unit_of_work_that_may_write(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """The reads every consent answer and analytics batch makes (the policy versions, the latest record and the
    newest page of a subject's and of a device's history, an objection, a restriction, an analytics batch's gate,
    which reads the three at once, and a subject's newest page with a device's latest record) go straight to
    asyncpg in a reader on PostgreSQL: they answer as SQLAlchemy does, and each read of several as the reads it
    stands for."""
    reader = reader_of(uow_factory)
    subject, restricted, plain = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    records = [
        consent_record(AT + timedelta(minutes=i), subject_id=subject, analytics=i % 2 == 0, gpc=i == 2)
        for i in range(4)
    ] + [
        consent_record(AT, device_key="device-key-1", method=ConsentMethod.SETTINGS, marketing=True),
        consent_record(AT, subject_id=plain, analytics=False),
    ]
    async with uow_factory() as uow:
        for version in (1, 2):
            await uow.policies.add(make_policy(version))
        for record in records:
            await uow.consent_records.add(record)
        await uow.objections.put(Objection(subject, Purpose.ANALYTICS, True, AT))
        await uow.objections.put(Objection(subject, Purpose.MARKETING, False, AT))
        await uow.restrictions.restrict(restricted, "accuracy contested", AT)
        await uow.objections.put(Objection(plain, Purpose.MARKETING, True, AT))
        await uow.restrictions.restrict(plain, None, AT)
        await uow.commit()

    async def answers(factory: UnitOfWorkFactory) -> list[object]:
        async with factory() as uow:
            gates = [await uow.analytics_events.gate(s) for s in (subject, restricted, plain, uuid.uuid4())]
            return [
                *[value for gate in gates for value in (gate.latest, gate.objected, gate.restricted)],
                await uow.consent_records.newest_with_device(subject, 3, "device-key-1"),
                await uow.consent_records.newest_with_device(subject, 10, "device-key-2"),
                await uow.consent_records.newest_with_device(uuid.uuid4(), 3, "device-key-1"),
                await uow.policies.list(),
                await uow.consent_records.latest_for_subject(subject),
                await uow.consent_records.latest_for_subject(uuid.uuid4()),
                await uow.consent_records.latest_for_device("device-key-1"),
                await uow.consent_records.page_for_subject(subject, 3),
                await uow.consent_records.page_for_device("device-key-1", 3),
                await uow.objections.objects_to(subject, Purpose.ANALYTICS),
                await uow.objections.objects_to(subject, Purpose.MARKETING),
                await uow.objections.objects_to(uuid.uuid4(), Purpose.ANALYTICS),
                await uow.restrictions.get(restricted),
                await uow.restrictions.is_restricted(restricted),
                await uow.restrictions.is_restricted(subject),
            ]

    in_reader, in_writer = await answers(reader), await answers(uow_factory)
    in_sqlalchemy = await answers(through_sqlalchemy(uow_factory))
    assert in_reader == in_writer == in_sqlalchemy
    # each gate answers as the three reads it stands for: the latest record, the objection, the restriction
    assert in_writer[:12] == [records[3], True, False, None, False, True, records[5], False, True, None, False, False]
    # the newest page and the device's latest, read together, answer as the two reads they stand for
    assert in_writer[12:15] == [(records[3:0:-1], records[4]), (records[3::-1], None), ([], records[4])]
    reads = in_writer[15:]
    assert reads[1] == records[3] and reads[4] == records[3:0:-1]
    assert reads[6:9] == [True, False, False] and reads[10:] == [True, False]
    assert [type(value) for value in _values(in_reader)] == [type(value) for value in _values(in_sqlalchemy)]
    assert [type(value) for value in _values(in_writer)] == [type(value) for value in _values(in_sqlalchemy)]


async def test_a_reader_that_never_began_ends_without_a_trip_through_sqlalchemy(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader whose reads were all driver reads (PostgreSQL, or an SQLite file) never made a session, let alone
    began a transaction on one: it ends without the session's rollback and close (each a trip through SQLAlchemy's
    greenlet bridge), and its driver connection is back in the pool. A read through the session begins, and that
    reader is rolled back and closed as before."""
    from sqlalchemy.ext.asyncio import AsyncSession

    reader = reader_of(uow_factory)
    if reader is uow_factory:
        pytest.skip("the memory store has no sessions")
    account = make_account()
    async with uow_factory() as uow:
        await uow.accounts.add(account)
        await uow.commit()
    ended: list[str] = []
    rollback, close = AsyncSession.rollback, AsyncSession.close

    async def counted_rollback(self: AsyncSession) -> None:
        ended.append("rollback")
        await rollback(self)

    async def counted_close(self: AsyncSession) -> None:
        ended.append("close")
        await close(self)

    monkeypatch.setattr(AsyncSession, "rollback", counted_rollback)
    monkeypatch.setattr(AsyncSession, "close", counted_close)
    async with reader() as read:
        assert await read.accounts.get(account.id) == account
        info = read._session.info  # type: ignore[attr-defined]
        driver = info.get(DRIVER) or info.get(SQLITE_READS)
        never_made = getattr(read._session, "made", False) is None  # type: ignore[attr-defined]
    assert ended == ([] if driver is not None else ["rollback", "close"])
    assert never_made == (driver is not None)  # no session was even made (lazy_session.LazySession)
    ended.clear()
    async with reader() as read:
        assert await read.accounts.get_by_email_index(account.email_index) == account
        assert await read.accounts.get(account.id) == account  # on the connection the session now holds
    assert ended == ["rollback", "close"]
    for _ in range(50):  # every connection went back: a pool of a few would run dry otherwise
        async with reader() as read:
            assert await read.accounts.get(account.id) == account


async def test_a_driver_read_in_a_unit_of_work_that_may_write_sees_its_writes(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a unit of work that may write runs its driver reads on its session's connection: before its
    first write they see what is committed, after it they see the write (one transaction), and what it did not commit
    is gone for every later reader. Elsewhere the same reads go through the session."""
    from dreamina.adapters.sql.repository_kit import DriverConnection

    driven: list[str] = []
    fetch = DriverConnection.fetch

    async def counted(self: DriverConnection, *args: object) -> list[object]:
        driven.append("read")
        return await fetch(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(DriverConnection, "fetch", counted)
    committed, pending = make_account(), make_account()
    async with uow_factory() as uow:
        await uow.accounts.add(committed)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.accounts.get(committed.id) == committed  # before any write: what is committed
        assert await uow.accounts.get(pending.id) is None
        await uow.accounts.add(pending)
        assert await uow.accounts.get(pending.id) == pending  # after the write, in its transaction
        session = getattr(uow, "_session", None)
        postgres = session is not None and session.get_bind().dialect.name == "postgresql"
    assert len(driven) == (3 if postgres else 0)
    for factory in (uow_factory, reader_of(uow_factory)):
        async with factory() as uow:
            assert await uow.accounts.get(pending.id) is None  # never committed
            assert await uow.accounts.get(committed.id) == committed


async def test_the_submission_checks_answer_alike_in_a_reader_and_in_a_unit_of_work_that_may_write(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """The reads every generation submission makes besides the account's (its reservation's ledger entry, the
    balance, an open moderation review) run straight on asyncpg on PostgreSQL: they answer as SQLAlchemy does, for
    a subject with entries and a review and for one with neither. A wallet bumped twice keeps one row."""
    from dreamina.ports.billing import EntryKind, LedgerEntry
    from dreamina.ports.moderation import ModerationReview, ReviewStatus

    subject, other = uuid.uuid4(), uuid.uuid4()
    entries = [
        LedgerEntry(uuid.uuid4(), subject, EntryKind.WELCOME_GRANT, 50, "welcome:s", None, AT),
        LedgerEntry(uuid.uuid4(), subject, EntryKind.RESERVE, -3, "reserve:g1", "g1", AT + timedelta(seconds=1)),
    ]
    review = ModerationReview(uuid.uuid4(), subject, ReviewStatus.OPEN, 5, AT, None)
    async with uow_factory() as uow:
        await uow.billing.lock_wallet(subject, AT)
        await uow.billing.lock_wallet(subject, AT + timedelta(seconds=1))
        for entry in entries:
            await uow.billing.add_entry(entry)
        await uow.moderation_reviews.add(review)
        await uow.moderation_reviews.add(ModerationReview(uuid.uuid4(), other, ReviewStatus.LIFTED, 5, AT, AT))
        await uow.commit()

    async def answers(factory: UnitOfWorkFactory) -> list[object]:
        async with factory() as uow:
            return [
                await uow.billing.get_entry("reserve:g1"),
                await uow.billing.get_entry("welcome:s"),
                await uow.billing.get_entry("reserve:none"),
                await uow.billing.balance(subject),
                await uow.billing.balance(other),
                await uow.moderation_reviews.open_for(subject),
                await uow.moderation_reviews.open_for(other),
            ]

    in_reader, in_writer = await answers(reader_of(uow_factory)), await answers(uow_factory)
    in_sqlalchemy = await answers(through_sqlalchemy(uow_factory))
    assert in_reader == in_writer == in_sqlalchemy == [entries[1], entries[0], None, 47, 0, review, None]
    assert [type(value) for value in _values(in_reader)] == [type(value) for value in _values(in_sqlalchemy)]
    assert [type(value) for value in _values(in_writer)] == [type(value) for value in _values(in_sqlalchemy)]


def counted_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, each statement a unit of work runs: ``driver`` (straight on asyncpg, or on an SQLite reader
    thread) or ``session``."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from dreamina.adapters.sql.repository_kit import DriverConnection
    from dreamina.adapters.sql.sqlite_reads import SqliteReads

    statements: list[str] = []
    fetch, execute, sqlite_rows = DriverConnection.fetch, AsyncSession.execute, SqliteReads.rows

    async def counted_fetch(self: DriverConnection, *args: object) -> list[object]:
        statements.append("driver")
        return await fetch(self, *args)  # type: ignore[arg-type]

    async def counted_sqlite_rows(self: SqliteReads, *args: object) -> list[object] | None:
        found = await sqlite_rows(self, *args)  # type: ignore[arg-type]
        if found is not None:  # None: it runs through the session instead (counted there)
            statements.append("driver")
        return found

    async def counted_execute(self: AsyncSession, *args: object, **kwargs: object) -> object:
        statements.append("session")
        return await execute(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DriverConnection, "fetch", counted_fetch)
    monkeypatch.setattr(SqliteReads, "rows", counted_sqlite_rows)
    monkeypatch.setattr(AsyncSession, "execute", counted_execute)
    return statements


async def test_a_reader_reads_an_account_and_its_data_key_in_one_statement(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``GET /v1/me`` reads the account, then its subject's data key to open the sealed fields: in a read-only unit
    of work the key comes with the account (one statement on SQLite and PostgreSQL alike), and what it answers is
    what the key's own read answers, a destroyed key included."""

    reader = reader_of(uow_factory)
    if reader is uow_factory:
        pytest.skip("the memory store runs no statements")
    account, shredded = make_account(), make_account()
    async with uow_factory() as uow:
        for made in (account, shredded):
            await uow.accounts.add(made)
        await uow.subject_keys.add(SubjectKey(account.id, b"wrapped", AT, None))
        await uow.subject_keys.add(SubjectKey(shredded.id, None, AT, AT))
        await uow.commit()
    statements = counted_statements(monkeypatch)
    expected = [
        (account, SubjectKey(account.id, b"wrapped", AT, None)),
        (shredded, SubjectKey(shredded.id, None, AT, AT)),
    ]
    for subject, key in expected:
        statements.clear()
        async with reader() as read:
            assert await read.accounts.get(subject.id) == subject
            assert await read.subject_keys.get(subject.id) == key
        assert len(statements) == 1, statements


async def test_a_readers_page_of_generations_brings_its_references_and_the_subjects_data_key(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``GET /v1/generations`` reads a page, its references, then the subject's data key to open the prompts: in a
    read-only unit of work the references and the key come with the page (one statement, on asyncpg or on an SQLite
    reader thread), and what it answers is what their own reads answer, for a live key, a destroyed one and none at
    all, and for references in their order."""

    reader = reader_of(uow_factory)
    if reader is uow_factory:
        pytest.skip("the memory store runs no statements")
    live, shredded, keyless = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    uploads = [make_upload(live) for _ in range(12)]  # positions past 9: ordered as numbers, not as text
    async with uow_factory() as uow:
        await uow.subject_keys.add(SubjectKey(live, b"wrapped", AT, None))
        await uow.subject_keys.add(SubjectKey(shredded, None, AT, AT))
        for upload in uploads:
            await uow.uploads.add(upload)
        referenced = tuple(upload.id for upload in reversed(uploads))
        await uow.generations.add(make_generation(live, referenced, at=AT + timedelta(seconds=1)))
        for subject in (live, shredded, keyless):
            await uow.generations.add(make_generation(subject))
        await uow.commit()
    statements = counted_statements(monkeypatch)
    for subject in (live, shredded, keyless):
        async with uow_factory() as uow:
            own_read = await uow.subject_keys.get(subject)
        async with through_sqlalchemy(uow_factory)() as plain:
            expected = await plain.generations.page_for_subject(subject, 20, None)
        statements.clear()
        async with reader() as read:
            page = await read.generations.page_for_subject(subject, 20, None)
            assert page == expected and {g.subject_id for g in page.items} == {subject}
            assert await read.subject_keys.get(subject) == own_read
        assert len(statements) == 1, statements
    assert own_read is None  # the keyless subject's
    async with reader() as read:
        newest = (await read.generations.page_for_subject(live, 1, None)).items[0]
    assert newest.reference_upload_ids == referenced and len(referenced) == 12


async def test_the_token_check_answers_alike_on_the_driver_and_through_sqlalchemy(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """The bearer-token check's read (the process's token cache missed) runs straight on asyncpg on PostgreSQL, in
    a reader on asyncpg's own pool and in a unit of work that may write on its session's connection: both answer as
    SQLAlchemy's own execution does, value types included, for a live session, an expired one, an unknown token and
    a suspended account's."""
    from .test_repositories_contract import add_account, make_session

    live_account, suspended_account = await add_account(uow_factory), await add_account(uow_factory)
    live, of_suspended = make_session(live_account.id), make_session(suspended_account.id)
    async with uow_factory() as uow:
        await uow.sessions.add(live)
        await uow.sessions.add(of_suspended)
        stored = await uow.accounts.get(suspended_account.id)
        assert stored is not None
        stored.suspend(AT)
        await uow.accounts.update(stored)
        await uow.commit()
    before_expiry = live.expires_at - timedelta(seconds=1)

    async def answers(factory: UnitOfWorkFactory) -> list[object]:
        async with factory() as uow:
            return [
                await uow.sessions.get_live_by_token_hash(live.token_hash, before_expiry),
                await uow.sessions.get_live_by_token_hash(live.token_hash, live.expires_at),
                await uow.sessions.get_live_by_token_hash("f" * 64, before_expiry),
                await uow.sessions.get_live_by_token_hash(of_suspended.token_hash, before_expiry),
            ]

    in_reader, in_writer = await answers(reader_of(uow_factory)), await answers(uow_factory)
    in_sqlalchemy = await answers(through_sqlalchemy(uow_factory))
    assert in_reader == in_writer == in_sqlalchemy == [live, None, None, None]
    assert [type(value) for value in _values(in_reader)] == [type(value) for value in _values(in_sqlalchemy)]
    assert [type(value) for value in _values(in_writer)] == [type(value) for value in _values(in_sqlalchemy)]
