"""Use cases of the support module on the in-memory fakes: intake, legal clock, encryption, queues, answers,
deadline flags, retention and the subject's export and erasure."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.database import InMemoryDatabase
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container, build_container, memory_database
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.domain.support.errors import TicketClosed
from dreamina.domain.support.tickets import NewTicket
from dreamina.settings import load_settings

from ..e2e.conftest import START, test_overrides
from ..e2e.helpers import verify_by_mail

PASSWORD = "correct horse battery staple"
STAFF = UUID(int=7)


@pytest.fixture
def db() -> InMemoryDatabase:
    return memory_database()


@pytest.fixture
async def container(db: InMemoryDatabase, tmp_path: Path) -> Container:
    wired = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=db.unit_of_work, **test_overrides()
    )
    await wired.start()
    return wired


async def _subject(container: Container, email: str, country: str = "DE", region: str | None = None) -> UUID:
    await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 4, 1), country, region, 1, None))
    await verify_by_mail(container, email)  # a verified address gets every kind of mail
    token = await container.identity.sessions.issue_token(email, PASSWORD)
    return (await container.identity.sessions.authenticate(token.access_token)).account_id


def _mailer(container: Container) -> InMemoryMailer:
    assert isinstance(container.infra.mailer, InMemoryMailer)
    return container.infra.mailer


def _clock(container: Container) -> MovableClock:
    assert isinstance(container.infra.clock, MovableClock)
    return container.infra.clock


PRIVACY = NewTicket("privacy", "What do you keep?", "Which data do you hold about my prompts, please?")


async def test_an_anonymous_ticket_needs_a_valid_reply_to(container: Container, db: InMemoryDatabase) -> None:
    with pytest.raises(InvalidInput) as missing:
        await container.support.tickets.submit(None, PRIVACY)
    assert missing.value.field == "reply_to"
    with pytest.raises(InvalidInput) as bad:
        await container.support.tickets.submit(
            None, NewTicket("other", "Hello", "A long enough message", "not-an-email")
        )
    assert bad.value.field == "reply_to"
    assert db.row_counts()["support_tickets"] == 0


@pytest.mark.parametrize(
    ("ticket", "field"),
    [
        (NewTicket("sales", "Hello there", "A long enough message", "a@example.com"), "category"),
        (NewTicket("other", "Hi", "A long enough message", "a@example.com"), "subject"),
        (NewTicket("other", "x" * 201, "A long enough message", "a@example.com"), "subject"),
        (NewTicket("other", "Line\nbreak", "A long enough message", "a@example.com"), "subject"),
        (NewTicket("other", "Hello there", "too short", "a@example.com"), "message"),
        (NewTicket("other", "Hello there", "m" * 5001, "a@example.com"), "message"),
        (NewTicket("other", "Hello there", "nul \x00 inside the message", "a@example.com"), "message"),
    ],
)
async def test_bad_input_is_refused_with_its_field(container: Container, ticket: NewTicket, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await container.support.tickets.submit(None, ticket)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("country", "region", "jurisdiction", "due"),
    [
        ("DE", None, "DE", START.replace(month=12)),  # GDPR: one month
        ("US", "US-CA", "US-CA", START + timedelta(days=45)),  # CCPA: 45 days
        ("JP", None, "JP", START + timedelta(days=14)),  # APPI
        ("NZ", None, "fallback", START + timedelta(days=30)),  # no row: the fallback
    ],
)
async def test_a_privacy_ticket_runs_on_the_subjects_legal_clock(
    container: Container, country: str, region: str | None, jurisdiction: str, due: Any
) -> None:
    subject = await _subject(container, "clock@example.com", country, region)
    ticket = await container.support.tickets.submit(subject, PRIVACY)
    assert (ticket.jurisdiction, ticket.due_at, ticket.subject_id) == (jurisdiction, due, subject)


async def test_an_anonymous_privacy_ticket_runs_on_the_gdpr_default_and_others_have_no_clock(
    container: Container,
) -> None:
    anonymous = await container.support.tickets.submit(
        None, NewTicket("privacy", PRIVACY.subject_line, PRIVACY.message, "me@example.org")
    )
    assert (anonymous.jurisdiction, anonymous.due_at) == ("EU", START.replace(month=12))
    billing = await container.support.tickets.submit(
        None, NewTicket("billing", "Refund", "Please refund my pack", "x@y.org")
    )
    assert (billing.jurisdiction, billing.due_at) == (None, None)


async def test_text_and_address_are_encrypted_with_the_right_key(container: Container, db: InMemoryDatabase) -> None:
    subject = await _subject(container, "sealed@example.com")
    mine = await container.support.tickets.submit(
        subject, NewTicket("other", "Secret subject", "My secret message text")
    )
    anon = await container.support.tickets.submit(
        None, NewTicket("other", "Anon subject", "Anon message text", "a@b.org")
    )
    for ticket in (db.rows("support_tickets")[mine.id], db.rows("support_tickets")[anon.id]):
        stored = repr(ticket).encode()
        for needle in (b"Secret subject", b"secret message", b"Anon message", b"a@b.org"):
            assert needle not in stored
    assert db.rows("support_tickets")[mine.id].wrapped_key is None  # the subject's data key seals it
    assert db.rows("support_tickets")[anon.id].wrapped_key  # its own key, wrapped by the master key
    assert (await container.support.tickets.view(subject, mine.id)).message == "My secret message text"
    async with container.infra.uow() as uow:  # erasure's crypto-shredding makes a signed-in ticket unreadable
        await uow.subject_keys.destroy(subject, container.infra.clock.now())
        await uow.commit()
    with pytest.raises(Exception, match="data key"):
        await container.support.tickets.view(subject, mine.id)


async def test_subjects_see_only_their_own_tickets(container: Container) -> None:
    ada = await _subject(container, "ada@example.com")
    eve = await _subject(container, "eve@example.com")
    ticket = await container.support.tickets.submit(ada, PRIVACY)
    assert [s.ticket.id for s in await container.support.tickets.list_for_subject(ada)] == [ticket.id]
    assert await container.support.tickets.list_for_subject(eve) == []
    with pytest.raises(NotFound):
        await container.support.tickets.view(eve, ticket.id)


async def test_each_queue_holds_its_own_categories_and_every_listing_is_audited(
    container: Container, db: InMemoryDatabase
) -> None:
    privacy = await container.support.tickets.submit(
        None, NewTicket("privacy", "Cookies?", "What cookies do you set?", "p@x.org")
    )
    billing = await container.support.tickets.submit(
        None, NewTicket("billing", "Refund", "Please refund my pack", "b@x.org")
    )
    other = await container.support.tickets.submit(
        None, NewTicket("other", "Hello", "How do I make videos?", "o@x.org")
    )
    listed = await container.support.tickets.queue(STAFF, "privacy")
    assert [(s.ticket.id, s.subject_line) for s in listed] == [(privacy.id, "Cookies?")]
    assert {s.ticket.id for s in await container.support.tickets.queue(STAFF, "support")} == {billing.id, other.id}
    with pytest.raises(NotFound):
        await container.support.tickets.staff_view(STAFF, "support", privacy.id, "looking around")
    with pytest.raises(NotFound):
        await container.support.tickets.reply(STAFF, "privacy", billing.id, "answer")
    with pytest.raises(InvalidInput):
        await container.support.tickets.queue(STAFF, "sales")
    view = await container.support.tickets.staff_view(STAFF, "privacy", privacy.id, "answering the question")
    assert (view.message, view.reply_to) == ("What cookies do you set?", "p@x.org")
    staff_reads = [
        e for e in db.rows("audit_events").values() if e.actor_id == STAFF and e.action == "staff_viewed_support_ticket"
    ]
    assert sorted(e.reason or "" for e in staff_reads) == sorted(
        [
            "listed in the privacy queue",
            "listed in the support queue",
            "listed in the support queue",
            "answering the question",
        ]
    )
    # an anonymous ticket's trail is keyed by the ticket's random id, never by an address
    assert {e.subject_id for e in staff_reads} == {privacy.id, billing.id, other.id}


async def test_an_answer_is_mailed_kept_and_stops_the_clock(container: Container, db: InMemoryDatabase) -> None:
    subject = await _subject(container, "ask@example.com")
    ticket = await container.support.tickets.submit(subject, PRIVACY)
    mailer = _mailer(container)
    before = len(mailer.sent)
    answered = await container.support.tickets.reply(
        STAFF, "privacy", ticket.id, "We keep prompts until you delete them.", close=False
    )
    assert answered.ticket.status == "answered" and answered.ticket.answered_at == START
    [mail] = mailer.sent[before:]
    assert (mail.to, mail.kind, mail.subject) == ("ask@example.com", "support_reply", "Re: What do you keep?")
    assert "We keep prompts until you delete them." in mail.body
    view = await container.support.tickets.view(subject, ticket.id)
    assert [r.text for r in view.replies] == ["We keep prompts until you delete them."]
    assert b"We keep prompts" not in repr(db.rows("support_tickets")[ticket.id]).encode()
    _clock(container).advance(timedelta(days=40))
    assert await container.support.tickets.flag_deadlines() == {"near_due": 0, "overdue": 0}  # answered: no longer due
    closed = await container.support.tickets.reply(STAFF, "privacy", ticket.id, "Anything else? Closing.")
    assert closed.ticket.status == "closed" and len(closed.replies) == 2
    with pytest.raises(TicketClosed):
        await container.support.tickets.reply(STAFF, "privacy", ticket.id, "again")
    with pytest.raises(TicketClosed):
        await container.support.tickets.close(STAFF, "privacy", ticket.id, "duplicate")


async def test_a_reply_to_address_beats_the_account_email(container: Container) -> None:
    subject = await _subject(container, "account@example.com")
    ticket = await container.support.tickets.submit(
        subject, NewTicket("billing", "Invoice", "Please send the invoice here", "Books@Example.com")
    )
    await container.support.tickets.reply(STAFF, "support", ticket.id, "Attached.")
    assert [m.kind for m in _mailer(container).sent_to("books@example.com")] == ["support_reply"]


async def test_an_answer_the_relay_refuses_is_recorded_and_mailed_once_it_is_back(
    container: Container, db: InMemoryDatabase
) -> None:
    ticket = await container.support.tickets.submit(
        None, NewTicket("other", "Hello", "How do I make videos?", "o@x.org")
    )
    mailer = _mailer(container)
    working = mailer.send

    async def broken(message: Any) -> None:
        raise ConnectionError("relay down")

    mailer.send = broken  # type: ignore[method-assign]
    answered = await container.support.tickets.reply(STAFF, "support", ticket.id, "Use the video kind.")
    assert answered.ticket.status == "closed" and db.rows("support_tickets")[ticket.id].replies_ciphertext
    assert mailer.sent_to("o@x.org") == [] and len(db.rows("mail_outbox")) == 1  # waiting, sealed
    assert b"video kind" not in repr(db.rows("mail_outbox")).encode()
    mailer.send = working  # type: ignore[method-assign]
    _clock(container).advance(timedelta(minutes=5))
    assert (await container.infra.mail.deliver_due()).sent == 1
    assert [m.kind for m in mailer.sent_to("o@x.org")] == ["support_reply"] and db.rows("mail_outbox") == {}


async def test_the_deadline_monitor_flags_unanswered_privacy_tickets(container: Container) -> None:
    subject = await _subject(container, "jp@example.com", "JP")  # 14 days
    jp = await container.support.tickets.submit(subject, PRIVACY)
    eu = await container.support.tickets.submit(
        None, NewTicket("privacy", "Question", "What about my rights?", "q@x.org")
    )
    await container.support.tickets.submit(None, NewTicket("billing", "Refund", "Please refund my pack", "b@x.org"))
    clock = _clock(container)
    assert await container.support.tickets.flag_deadlines() == {"near_due": 0, "overdue": 0}
    clock.advance(timedelta(days=11, hours=1))
    assert await container.support.tickets.flag_deadlines() == {"near_due": 1, "overdue": 0}
    assert await container.support.tickets.flag_deadlines() == {"near_due": 0, "overdue": 0}  # each change once
    clock.advance(timedelta(days=3))
    assert await container.support.tickets.flag_deadlines() == {"near_due": 0, "overdue": 1}
    assert [s.ticket.id for s in await container.support.tickets.queue(STAFF, "privacy", flag="overdue")] == [jp.id]
    assert [
        s.ticket.id for s in await container.support.tickets.queue(STAFF, "privacy", due_within=timedelta(days=0))
    ] == [jp.id]
    assert [s.ticket.id for s in await container.support.tickets.queue(STAFF, "privacy")] == [jp.id, eu.id]


async def test_retention_deletes_closed_tickets_after_their_period(container: Container, db: InMemoryDatabase) -> None:
    clock = _clock(container)
    privacy = await container.support.tickets.submit(
        None, NewTicket("privacy", "Question", "What about my rights?", "q@x.org")
    )
    billing = await container.support.tickets.submit(
        None, NewTicket("billing", "Refund", "Please refund my pack", "b@x.org")
    )
    still_open = await container.support.tickets.submit(
        None, NewTicket("other", "Hello", "Is anyone there at all?", "o@x.org")
    )
    await container.support.tickets.close(STAFF, "privacy", privacy.id, "answered by phone")
    await container.support.tickets.close(STAFF, "support", billing.id, "refunded")
    clock.advance(timedelta(days=365))
    reports = {r.task: r for r in await container.privacy.retention.run(dry_run=True)}
    assert reports["support_tickets.closed_other"].due == 0  # exactly one year: not yet
    clock.advance(timedelta(seconds=1))
    reports = {r.task: r for r in await container.privacy.retention.run()}
    assert (reports["support_tickets.closed_other"].applied, reports["support_tickets.closed_privacy"].applied) == (
        1,
        0,
    )
    assert set(db.rows("support_tickets")) == {privacy.id, still_open.id}
    clock.advance(timedelta(days=365))
    reports = {r.task: r for r in await container.privacy.retention.run()}
    assert reports["support_tickets.closed_privacy"].applied == 1
    assert set(db.rows("support_tickets")) == {still_open.id}  # open tickets are never swept


class _Sink:
    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {}

    async def write_records(self, category: str, description: str, records: Any) -> None:
        self.records[category] = [dict(r) for r in records]

    async def write_file(self, path: str, description: str, chunks: Any) -> None:
        raise AssertionError("tickets have no files")


async def test_the_holder_exports_counts_and_erases_the_subjects_tickets(
    container: Container, db: InMemoryDatabase
) -> None:
    [holder] = [h for h in container.data_rights.holders if h.name == "support"]
    ada = await _subject(container, "ada@example.com")
    eve = await _subject(container, "eve@example.com")
    mine = await container.support.tickets.submit(ada, PRIVACY)
    await container.support.tickets.reply(STAFF, "privacy", mine.id, "We hold your prompts.")
    await container.support.tickets.submit(eve, NewTicket("other", "Eve here", "Eve's own message text"))
    anonymous = await container.support.tickets.submit(
        None, NewTicket("other", "Anon", "Someone else writing", "z@x.org")
    )
    assert await holder.count(ada) == {"support_tickets": 1, "ticket_address_requests": 0}
    sink = _Sink()
    await holder.export(ada, sink)  # type: ignore[arg-type]
    [exported] = sink.records["support_tickets"]
    assert exported["id"] == str(mine.id) and exported["subject"] == "What do you keep?"
    assert exported["message"] == PRIVACY.message and exported["status"] == "closed"
    assert [a["text"] for a in exported["answers"]] == ["We hold your prompts."]
    assert "Eve" not in json.dumps(sink.records)
    assert (await holder.erase(ada)).deleted == 1
    assert (await holder.erase(ada)).deleted == 0
    assert mine.id not in db.rows("support_tickets") and anonymous.id in db.rows("support_tickets")
    assert await holder.count(eve) == {"support_tickets": 1, "ticket_address_requests": 0}
