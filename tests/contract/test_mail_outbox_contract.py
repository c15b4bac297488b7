"""The mail outbox's repository contract, on memory, SQLite and PostgreSQL: due order, claims by compare-and-set,
back-off, erasure and retention."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from dreamina.ports.unit_of_work import UnitOfWorkFactory

from .mail_rows import AT, make_mail


async def _add(uow_factory: UnitOfWorkFactory, *mails: object) -> None:
    async with uow_factory() as uow:
        for mail in mails:
            await uow.mail_outbox.add(mail)  # type: ignore[arg-type]
        await uow.commit()


async def test_due_messages_come_oldest_first_and_a_later_attempt_waits(uow_factory: UnitOfWorkFactory) -> None:
    first, second = make_mail(at=AT), make_mail(at=AT + timedelta(seconds=1))
    later = make_mail(at=AT, next_attempt_at=AT + timedelta(minutes=5))
    await _add(uow_factory, second, first, later)
    async with uow_factory() as uow:
        due = await uow.mail_outbox.due(AT + timedelta(seconds=2), 10)
        assert [m.id for m in due] == [first.id, second.id]
        assert [m.id for m in await uow.mail_outbox.due(AT + timedelta(seconds=2), 1)] == [first.id]
        assert await uow.mail_outbox.get(first.id) == first


async def test_a_claim_is_a_compare_and_set_on_the_attempts(uow_factory: UnitOfWorkFactory) -> None:
    mail = make_mail()
    await _add(uow_factory, mail)
    lease = AT + timedelta(minutes=2)
    async with uow_factory() as uow:
        assert await uow.mail_outbox.claim(mail.id, 0, lease) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.mail_outbox.claim(mail.id, 0, lease) is False  # someone else took attempt 1
        claimed = await uow.mail_outbox.get(mail.id)
        assert claimed is not None and (claimed.attempts, claimed.next_attempt_at) == (1, lease)
        assert await uow.mail_outbox.due(AT + timedelta(minutes=1), 10) == []  # leased
        assert await uow.mail_outbox.claim(uuid.uuid4(), 0, lease) is False


async def test_postpone_delete_and_erasure(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    mine, other, anonymous = make_mail(subject), make_mail(uuid.uuid4()), make_mail(None)
    await _add(uow_factory, mine, other, anonymous)
    async with uow_factory() as uow:
        await uow.mail_outbox.postpone(mine.id, AT + timedelta(hours=1))
        await uow.commit()
    async with uow_factory() as uow:
        assert [m.id for m in await uow.mail_outbox.due(AT, 10, subject)] == []
        assert [m.id for m in await uow.mail_outbox.due(AT + timedelta(hours=1), 10, subject)] == [mine.id]
        assert await uow.mail_outbox.count_for_subject(subject) == 1
        assert await uow.mail_outbox.delete(anonymous.id) is True
        assert await uow.mail_outbox.delete(anonymous.id) is False
        assert await uow.mail_outbox.delete_for_subject(subject) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert [m.id for m in await uow.mail_outbox.due(AT + timedelta(days=1), 10)] == [other.id]


async def test_retention_gives_up_on_the_oldest_in_bounded_batches(uow_factory: UnitOfWorkFactory) -> None:
    old = [make_mail(at=AT - timedelta(days=4, minutes=i)) for i in range(3)]
    fresh = make_mail(at=AT)
    await _add(uow_factory, *old, fresh)
    cutoff = AT - timedelta(days=3)
    async with uow_factory() as uow:
        assert await uow.mail_outbox.count_queued_before(cutoff) == 3
        assert await uow.mail_outbox.delete_queued_before(cutoff, 2) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.mail_outbox.delete_queued_before(cutoff, 10) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert [m.id for m in await uow.mail_outbox.due(AT + timedelta(days=1), 10)] == [fresh.id]
        with pytest.raises(ValueError):
            await uow.mail_outbox.delete_queued_before(cutoff, -1)
