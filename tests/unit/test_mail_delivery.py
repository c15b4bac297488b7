"""The mail outbox, on memory, SQLite and PostgreSQL: a message exists exactly if the change it reports commits, is
sealed at rest, is delivered once even by two deliverers at once, waits out a relay outage with back-off, reaches
internationalised domains in their ASCII form, and goes with an erasure only after due mail was delivered."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.crypto import AesGcmCipher, InMemoryKeyVault
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.domain.privacy.mail import DeliveryReport, MailDelivery
from dreamina.ports.mail import MailMessage
from dreamina.ports.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _message(to: str = "ada@example.com", body: str = "Your code is 123456.") -> MailMessage:
    return MailMessage(to=to, subject="Your code", body=body, kind="privacy_request_code")


class _Flaky(InMemoryMailer):
    """A relay that refuses while ``down``, and can be slow, to let two deliverers overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.calls = 0

    async def send(self, message: MailMessage) -> None:
        self.calls += 1
        await asyncio.sleep(0)
        if self.down:
            raise ConnectionError("relay down")
        await super().send(message)


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> tuple[MailDelivery, _Flaky, MovableClock]:
    clock, mailer = MovableClock(NOW), _Flaky()
    delivery = MailDelivery(
        uow=uow_factory, vault=InMemoryKeyVault(), cipher=AesGcmCipher(), mailer=mailer, clock=clock
    )
    return delivery, mailer, clock


async def _queue(uow_factory: UnitOfWorkFactory, delivery: MailDelivery, *messages: MailMessage, **kw: Any) -> None:
    async with uow_factory() as uow:
        for message in messages:
            await delivery.queue(uow, message, **kw)
        await uow.commit()


async def test_a_message_exists_exactly_if_its_change_commits(
    uow_factory: UnitOfWorkFactory, world: tuple[MailDelivery, _Flaky, MovableClock]
) -> None:
    delivery, mailer, _ = world
    async with uow_factory() as uow:
        await delivery.queue(uow, _message())  # left without commit: the change did not happen
    assert (await delivery.flush()).sent == 0
    await _queue(uow_factory, delivery, _message())
    assert (await delivery.flush()).sent == 1
    assert [m.body for m in mailer.sent] == ["Your code is 123456."]
    assert (await delivery.flush()).sent == 0  # delivered messages are gone


async def test_messages_rest_sealed(
    uow_factory: UnitOfWorkFactory, world: tuple[MailDelivery, _Flaky, MovableClock]
) -> None:
    delivery, mailer, _ = world
    mailer.down = True
    await _queue(uow_factory, delivery, _message())
    await delivery.flush()
    async with uow_factory() as uow:
        (waiting,) = await uow.mail_outbox.due(NOW + timedelta(days=1), 10)
    stored = repr(waiting).encode() + waiting.sealed
    assert b"ada@example.com" not in stored and b"123456" not in stored and b"Your code" not in stored


async def test_a_relay_outage_is_waited_out_with_back_off(
    uow_factory: UnitOfWorkFactory, world: tuple[MailDelivery, _Flaky, MovableClock]
) -> None:
    delivery, mailer, clock = world
    mailer.down = True
    await _queue(uow_factory, delivery, _message())
    assert (await delivery.flush()).failed == 1
    clock.advance(timedelta(seconds=29))
    assert await delivery.deliver_due() == DeliveryReport()  # not due yet: nothing tried
    assert mailer.calls == 1
    clock.advance(timedelta(seconds=2))
    assert (await delivery.deliver_due()).failed == 1  # second attempt, then a minute's wait
    clock.advance(timedelta(seconds=59))
    assert mailer.calls == 2 and (await delivery.deliver_due()).sent == 0
    mailer.down = False
    clock.advance(timedelta(seconds=2))
    assert (await delivery.deliver_due()).sent == 1 and len(mailer.sent) == 1


async def test_two_deliverers_at_once_send_each_message_once(
    uow_factory: UnitOfWorkFactory, world: tuple[MailDelivery, _Flaky, MovableClock]
) -> None:
    delivery, mailer, _ = world
    await _queue(uow_factory, delivery, *(_message(f"user{i}@example.com") for i in range(5)))
    reports = await asyncio.gather(delivery.deliver_due(), delivery.deliver_due())
    assert sum(r.sent for r in reports) == 5
    assert sorted(m.to for m in mailer.sent) == sorted(f"user{i}@example.com" for i in range(5))


async def test_internationalised_domains_are_mailed_in_ascii(
    uow_factory: UnitOfWorkFactory, world: tuple[MailDelivery, _Flaky, MovableClock]
) -> None:
    delivery, mailer, _ = world
    await _queue(uow_factory, delivery, _message("jörg@münchen.de".replace("ö", "o")))
    await delivery.flush()
    assert [m.to for m in mailer.sent] == ["jorg@xn--mnchen-3ya.de"]


async def test_erasure_delivers_what_is_due_then_deletes_the_rest(
    uow_factory: UnitOfWorkFactory, world: tuple[MailDelivery, _Flaky, MovableClock]
) -> None:
    delivery, mailer, _ = world
    subject, other = uuid.uuid4(), uuid.uuid4()
    mailer.down = True
    await _queue(uow_factory, delivery, _message(body="earlier"), subject_id=subject)
    await delivery.flush()  # refused: waits out its back-off
    mailer.down = False
    await _queue(uow_factory, delivery, _message(body="your erasure runs now"), subject_id=subject)
    await _queue(uow_factory, delivery, _message("other@example.com", body="someone else"), subject_id=other)
    assert await delivery.erase_subject(subject) == 1  # the one still backing off is deleted undelivered
    assert [m.body for m in mailer.sent] == ["your erasure runs now"]
    assert await delivery.count_for_subject(subject) == 0
    assert await delivery.count_for_subject(other) == 1


async def test_an_unverified_address_is_sent_only_the_verification_and_security_notices(
    uow_factory: UnitOfWorkFactory, world: tuple[MailDelivery, _Flaky, MovableClock]
) -> None:
    """Finding 3 of the account-security issue: registering somebody else's address mails them nothing but the
    question whether it is theirs (and security notices), whichever module queues the mail."""
    from dreamina.domain.identity.accounts import EMAIL_INDEX, email_index_of
    from dreamina.domain.privacy.mail import ACCOUNT_EMAIL_INDEX, UNVERIFIED_ADDRESS_KINDS
    from dreamina.ports.identity import Account, AccountStatus

    assert ACCOUNT_EMAIL_INDEX == EMAIL_INDEX  # the outbox recognises the account's address by the same index
    delivery, mailer, _ = world
    vault = delivery._vault
    subject = uuid.uuid4()
    account = Account(
        id=subject,
        email_index=email_index_of(vault, "ada@example.com"),
        email_ciphertext=b"sealed",
        display_name_ciphertext=None,
        birth_date_ciphertext=b"sealed",
        country="DE",
        region=None,
        password_hash="x",
        status=AccountStatus.ACTIVE,
        created_at=NOW,
        updated_at=NOW,
    )
    async with uow_factory() as uow:
        await uow.accounts.add(account)
        await uow.commit()

    def kind(name: str, to: str = "ada@example.com") -> MailMessage:
        return MailMessage(to=to, subject="s", body="b", kind=name)

    async with uow_factory() as uow:
        queued = {
            name: await delivery.queue(uow, kind(name), subject_id=subject)
            for name in ("policy_change", "privacy_request_code", "support_reply", *sorted(UNVERIFIED_ADDRESS_KINDS))
        }
        elsewhere = await delivery.queue(uow, kind("support_reply", "books@example.com"), subject_id=subject)
        await uow.commit()
    assert {name for name, ok in queued.items() if ok} == UNVERIFIED_ADDRESS_KINDS
    assert elsewhere  # a reply-to address of the subject's own choosing is not the unverified one
    await delivery.flush()
    assert sorted(m.kind for m in mailer.sent) == sorted([*UNVERIFIED_ADDRESS_KINDS, "support_reply"])

    async with uow_factory() as uow:
        stored = await uow.accounts.get(subject)
        assert stored is not None
        stored.verify_email(NOW)
        await uow.accounts.update(stored)
        await uow.commit()
    async with uow_factory() as uow:
        assert await delivery.queue(uow, kind("policy_change"), subject_id=subject)
        await uow.commit()
