"""One contract for every Mailer: the in-memory fake and the outbox of ``.eml`` files (read back)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from dreamina.adapters.mail.outbox import OutboxMailer, read_outbox
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.ports.mail import Mailer, MailMessage


@dataclass(frozen=True, slots=True)
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass(frozen=True, slots=True)
class MailerUnderTest:
    mailer: Mailer
    delivered: Callable[[], list[MailMessage]]


@pytest.fixture(params=["memory", "outbox"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> MailerUnderTest:
    if request.param == "memory":
        memory = InMemoryMailer()
        return MailerUnderTest(memory, lambda: list(memory.sent))
    outbox = tmp_path / "outbox"
    return MailerUnderTest(OutboxMailer(outbox), lambda: read_outbox(outbox))


WELCOME = MailMessage(to="ada@example.com", subject="Welcome", body="Hello Ada.", kind="welcome")


async def test_a_sent_message_is_delivered_unchanged(subject: MailerUnderTest) -> None:
    await subject.mailer.send(WELCOME)
    assert subject.delivered() == [WELCOME]


async def test_a_marketing_message_keeps_its_unsubscribe_link(subject: MailerUnderTest) -> None:
    link = "https://dreamina.test/v1/marketing/unsubscribe?token=" + "A" * 32 + "." + "0" * 64
    message = MailMessage("ada@example.com", "News", "New styles.", "marketing", list_unsubscribe=link)
    await subject.mailer.send(message)
    assert subject.delivered() == [message]


async def test_messages_are_delivered_in_sending_order(subject: MailerUnderTest) -> None:
    messages = [
        MailMessage(to=f"user{index}@example.com", subject=f"Code {index}", body=f"{index:06d}", kind="otp")
        for index in range(5)
    ]
    for message in messages:
        await subject.mailer.send(message)
    assert subject.delivered() == messages


@pytest.mark.parametrize(
    "message",
    [
        MailMessage("jürgen@example.com", "Grüße — Ihr Konto", "Zeile 1\nZeile 2\n\n— Dreamina ✨", "welcome"),
        MailMessage("a@example.com", "long", "x" * 500 + "\n" + "y" * 80, "notice"),
        MailMessage("a@example.com", "trailing newline", "body\n", "notice"),
        MailMessage("a@example.com", "empty body", "", "notice"),
        MailMessage("a@example.com", "From me", "From the start of a line\n.\n..", "notice"),
    ],
    ids=["unicode", "long-lines", "trailing-newline", "empty", "mbox-traps"],
)
async def test_bodies_and_subjects_survive_exactly(subject: MailerUnderTest, message: MailMessage) -> None:
    await subject.mailer.send(message)
    assert subject.delivered() == [message]


@pytest.mark.parametrize(
    "message",
    [
        MailMessage("a@example.com", "Hi\nBcc: victim@example.com", "body", "welcome"),
        MailMessage("a@example.com\r\nBcc: victim@example.com", "Hi", "body", "welcome"),
        MailMessage("a@example.com, b@example.com", "Hi", "body", "welcome"),
        MailMessage("not-an-address", "Hi", "body", "welcome"),
        MailMessage("a@example.com", "Hi", "body", ""),
        MailMessage("a@example.com", "Hi", "body", "welcome\nX-Evil: 1"),
        MailMessage("a@example.com", "Hi", "body", "marketing", list_unsubscribe="https://x.test/u?t=1\r\nBcc: v"),
        MailMessage("a@example.com", "Hi", "body", "marketing", list_unsubscribe="javascript:alert(1)"),
        MailMessage("a@example.com", "Hi", "body", "marketing", list_unsubscribe="https://x.test/a>, <https://y.test"),
    ],
    ids=[
        "subject-injection",
        "to-injection",
        "two-recipients",
        "no-at",
        "empty-kind",
        "kind-injection",
        "unsubscribe-injection",
        "unsubscribe-not-http",
        "unsubscribe-two-links",
    ],
)
async def test_messages_a_header_cannot_carry_are_refused(subject: MailerUnderTest, message: MailMessage) -> None:
    with pytest.raises(ValueError):
        await subject.mailer.send(message)
    assert subject.delivered() == []


# --- outbox specifics -----------------------------------------------------------------------------------


async def test_outbox_files_are_private_rfc5322_messages(tmp_path: Path) -> None:
    outbox = tmp_path / "mail" / "outbox"
    sent_at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    mailer = OutboxMailer(outbox, sender="Dreamina <hello@dreamina.test>", clock=FixedClock(sent_at))

    await mailer.send(WELCOME)
    await mailer.send(WELCOME)

    assert outbox.stat().st_mode & 0o777 == 0o700
    files = sorted(outbox.iterdir())
    assert [path.suffix for path in files] == [".eml", ".eml"]  # no temporary files left behind
    parsed = [BytesParser(policy=policy.default).parsebytes(path.read_bytes()) for path in files]
    for path, email in zip(files, parsed, strict=True):
        assert path.stat().st_mode & 0o777 == 0o600
        assert email["From"] == "Dreamina <hello@dreamina.test>"
        assert email["To"] == "ada@example.com"
        assert email["X-Dreamina-Kind"] == "welcome"
        assert parsedate_to_datetime(email["Date"]) == sent_at
        assert email["Message-ID"].endswith("@dreamina.test>")
    assert parsed[0]["Message-ID"] != parsed[1]["Message-ID"]
    assert b"\r\n" in files[0].read_bytes()  # RFC 5322 line endings


async def test_a_message_delivered_again_under_its_delivery_id_is_written_once(tmp_path: Path) -> None:
    """A deliverer killed after the mailer took a message and before the outbox forgot it sends it again (issue 18):
    the same outbox message, the same ``delivery_id``. Other messages, with ids or without, all arrive. (The
    in-memory fake records every attempt, as SMTP delivers each, so tests can count sends.)"""
    mailer = OutboxMailer(tmp_path)
    first, second = replace(WELCOME, delivery_id=uuid.uuid4()), replace(WELCOME, delivery_id=uuid.uuid4())
    for message in (first, WELCOME, first, second, WELCOME, first):
        await mailer.send(message)
    assert read_outbox(tmp_path) == [WELCOME] * 4  # first, WELCOME, second, WELCOME (delivery ids are not compared)


async def test_an_outbox_message_is_one_file_named_and_identified_by_its_delivery_id(tmp_path: Path) -> None:
    delivery = uuid.uuid4()
    mailer = OutboxMailer(tmp_path, sender="Dreamina <hello@dreamina.test>")
    await mailer.send(replace(WELCOME, delivery_id=delivery))
    await OutboxMailer(tmp_path).send(replace(WELCOME, delivery_id=delivery))  # another process, after a restart
    [name] = os.listdir(tmp_path)
    assert name.endswith(f"-{delivery.hex}.eml")
    path = tmp_path / name
    email = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert email["Message-ID"] == f"<{delivery.hex}@dreamina.test>"


async def test_outbox_file_names_sort_in_sending_order(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path)
    for index in range(20):
        await mailer.send(MailMessage("a@example.com", f"{index:02d}", "b", "k"))
    names = os.listdir(tmp_path)
    assert len(set(names)) == 20
    assert [message.subject for message in read_outbox(tmp_path)] == [f"{index:02d}" for index in range(20)]


def test_reading_an_outbox_that_does_not_exist_finds_nothing(tmp_path: Path) -> None:
    assert read_outbox(tmp_path / "missing") == []


async def test_in_memory_mailer_finds_messages_by_recipient() -> None:
    mailer = InMemoryMailer()
    await mailer.send(WELCOME)
    await mailer.send(MailMessage("bob@example.com", "Hi", "b", "welcome"))
    assert mailer.sent_to("ada@example.com") == [WELCOME]
