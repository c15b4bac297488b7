"""G7 proofs, generated from the retention schedule: for every entry a task enforces, a record just inside its
deadline survives one full sweep and a record just past it is gone (or cleared) after it, objects included; two
sweeps at once apply each record once; a sweep killed after its first batch loses nothing and the next finishes.

Runs on memory, SQLite and PostgreSQL (``uow_factory``). A schedule entry with tasks but no scenario here fails.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.crypto import InMemoryKeyVault
from dreamina.adapters.mail.outbox import OutboxMailer, read_outbox
from dreamina.adapters.memory.database import InMemoryDatabase
from dreamina.adapters.memory.generation import ManualJobQueue, RecordingCharges
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import Container, build_container, declared_data_map
from dreamina.domain.billing.data_map import SANDBOX_SESSION_DAYS
from dreamina.domain.generation.abuse_report_data import INBOX_DAYS as ABUSE_INBOX_DAYS
from dreamina.domain.generation.abuse_report_data import REPORT_RECORD_DAYS as ABUSE_RECORD_DAYS
from dreamina.domain.generation.abuse_report_data import REPORTER_DATA_DAYS as ABUSE_REPORTER_DATA_DAYS
from dreamina.domain.generation.moderation_data import MODERATION_RECORD_DAYS, MODERATION_REVIEW_DAYS
from dreamina.domain.identity.child_report_data import INBOX_DAYS as CHILD_REPORT_INBOX_DAYS
from dreamina.domain.identity.child_report_data import REPORT_RECORD_DAYS as CHILD_REPORT_RECORD_DAYS
from dreamina.domain.identity.child_report_data import REPORTER_DATA_DAYS as CHILD_REPORTER_DATA_DAYS
from dreamina.domain.identity.sessions import hash_token
from dreamina.domain.privacy.retention import RetentionSweep
from dreamina.domain.privacy.schedule import ScheduleEntry
from dreamina.domain.support.data_map import ADDRESS_REQUEST_DAYS, OTHER_TICKET_DAYS, PRIVACY_TICKET_DAYS
from dreamina.ports.audit import AuditEvent
from dreamina.ports.generation import GenerationOutput, GenerationStatus
from dreamina.ports.identity import Account, AccountStatus, AuthSession
from dreamina.ports.mail import MailMessage
from dreamina.ports.moderation import CheckedContent, ModerationRecord, ModerationReview, ReviewStatus
from dreamina.ports.tokens import AccountToken, TokenPurpose
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import load_settings

from ..contract.billing_rows import make_checkout, make_payment, make_sandbox_session
from ..contract.consent_rows import analytics_event, consent_record
from ..contract.data_rights_records import make_job, make_request, make_request_event
from ..contract.generation_records import make_generation, make_upload
from ..contract.idempotency_rows import ROUTE, make_record
from ..contract.mail_rows import make_mail
from ..contract.test_abuse_reports_contract import closed_abuse_report
from ..contract.test_child_reports_contract import closed as closed_report
from ..contract.test_child_reports_contract import make_received
from ..contract.test_support_tickets_contract import make_address_request, make_ticket

NOW = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)
JUST = timedelta(seconds=1)
Check = Callable[[Container], Awaitable[None]]


@dataclass
class Scenario:
    """Two records either side of the deadline, written before the sweep; ``check`` asserts after it."""

    seed: Callable[[Container], Awaitable[Check]]


def _container(uow_factory: UnitOfWorkFactory, tmp_path: Path, clock: MovableClock) -> Container:
    return build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}),
        uow=uow_factory,
        clock=clock,
        vault=InMemoryKeyVault(),
        mailer=InMemoryMailer(),
        passwords=Argon2PasswordHasher.fast(),
        object_store=InMemoryObjectStore(),
        job_queue=ManualJobQueue(),
        charges=RecordingCharges(),
    )


async def _account(c: Container, content_retention_days: int | None = None) -> uuid.UUID:
    account_id = uuid.uuid4()
    async with c.infra.uow() as uow:
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


# --- one scenario per schedule entry ------------------------------------------------------------------------


async def _sessions(c: Container) -> Check:
    account = await _account(c)
    gone, kept = uuid.uuid4(), uuid.uuid4()
    async with c.infra.uow() as uow:
        for session_id, expires in ((gone, NOW - JUST), (kept, NOW + JUST)):
            await uow.sessions.add(AuthSession(session_id, account, hash_token(session_id.hex), NOW, expires))
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert await uow.sessions.get_by_token_hash(hash_token(gone.hex)) is None
            assert await uow.sessions.get_by_token_hash(hash_token(kept.hex)) is not None

    return check


async def _account_tokens(c: Container) -> Check:
    account = await _account(c)
    gone = AccountToken(uuid.uuid4(), account, TokenPurpose.RESET_PASSWORD, "g" * 64, NOW - JUST * 10, NOW - JUST)
    kept = AccountToken(uuid.uuid4(), account, TokenPurpose.VERIFY_EMAIL, "k" * 64, NOW - JUST * 10, NOW + JUST)
    async with c.infra.uow() as uow:
        await uow.account_tokens.add(gone)
        await uow.account_tokens.add(kept)
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert [t.id for t in await uow.account_tokens.list_for_account(account)] == [kept.id]

    return check


async def _queued_mail(c: Container) -> Check:
    gone, kept = make_mail(at=NOW - timedelta(days=3) - JUST), make_mail(at=NOW - timedelta(days=3) + JUST)
    async with c.infra.uow() as uow:
        for mail in (gone, kept):
            await uow.mail_outbox.add(mail)
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert await uow.mail_outbox.get(gone.id) is None
            assert await uow.mail_outbox.get(kept.id) is not None

    return check


async def _kept_answers(c: Container) -> Check:
    subject = uuid.uuid4()
    gone = make_record(subject, key="gone", at=NOW - timedelta(hours=24) - JUST)
    kept = make_record(subject, key="kept", at=NOW - timedelta(hours=24) + JUST)
    async with c.infra.uow() as uow:
        for record in (gone, kept):
            await uow.idempotency_records.add(record)
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert await uow.idempotency_records.get(subject, ROUTE, "gone") is None
            assert await uow.idempotency_records.get(subject, ROUTE, "kept") == kept

    return check


async def _outbox_folder(c: Container) -> Check:
    """Files in the embedded outbox folder, dated by their modification time; a crash's temporary file too."""
    folder = c.infra.settings.resolved_mail_outbox
    mailer = OutboxMailer(folder)
    await mailer.send(MailMessage(to="gone@example.com", subject="old", body="code 123456", kind="welcome"))
    await mailer.send(MailMessage(to="kept@example.com", subject="new", body="hello", kind="welcome"))
    gone, kept = sorted(folder.glob("*.eml"))
    os.utime(gone, ((NOW - timedelta(days=7) - JUST).timestamp(),) * 2)
    os.utime(kept, ((NOW - timedelta(days=7) + JUST).timestamp(),) * 2)

    async def check(c: Container) -> None:
        assert not gone.exists() and kept.exists()
        assert [m.to for m in read_outbox(folder)] == ["kept@example.com"]

    return check


async def _analytics(c: Container) -> Check:
    today = NOW.date()
    async with c.infra.uow() as uow:
        await uow.analytics_events.add_many(
            [
                analytics_event(today - timedelta(days=181), page="/gone"),
                analytics_event(today - timedelta(days=180), page="/kept"),
            ]
        )
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            counts = await uow.analytics_events.daily_counts(today - timedelta(days=400), today)
            assert [(x.day, x.count) for x in counts] == [(today - timedelta(days=180), 1)]

    return check


async def _device_consent(c: Container) -> Check:
    subject = await _account(c)
    deadline = NOW - timedelta(days=396)
    async with c.infra.uow() as uow:
        await uow.consent_records.add(consent_record(deadline - JUST, device_key="g" * 64))
        await uow.consent_records.add(consent_record(deadline + JUST, device_key="k" * 64))
        await uow.consent_records.add(consent_record(deadline - timedelta(days=900), subject_id=subject))
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert await uow.consent_records.history_for_device("g" * 64) == []
            assert len(await uow.consent_records.history_for_device("k" * 64)) == 1
            assert len(await uow.consent_records.history_for_subject(subject)) == 1  # an account's records stay

    return check


async def _codes(c: Container) -> Check:
    gone = make_request(uuid.uuid4(), code_hash="h-gone", code_expires_at=NOW - JUST)
    kept = make_request(uuid.uuid4(), code_hash="h-kept", code_expires_at=NOW + JUST)
    async with c.infra.uow() as uow:
        await uow.privacy_requests.add(gone)
        await uow.privacy_requests.add(kept)
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            cleared, live = await uow.privacy_requests.get(gone.id), await uow.privacy_requests.get(kept.id)
        assert cleared is not None and cleared.code_hash is None and cleared.code_expires_at is None
        assert live is not None and live.code_hash == "h-kept"

    return check


async def _archives(c: Container) -> Check:
    gone, kept = make_request(uuid.uuid4()), make_request(uuid.uuid4())
    keys = {r.id: f"exports/{r.subject_id}/{r.id}.zip" for r in (gone, kept)}
    async with c.infra.uow() as uow:
        for request, expires in ((gone, NOW - JUST), (kept, NOW + JUST)):
            await uow.privacy_jobs.add(
                make_job(request, state="done", archive_key=keys[request.id], expires_at=expires)
            )
            await c.infra.object_store.put(keys[request.id], b"PK zip", "application/zip")
        await uow.commit()

    async def check(c: Container) -> None:
        assert not await c.infra.object_store.exists(keys[gone.id])
        assert await c.infra.object_store.exists(keys[kept.id])
        async with c.infra.uow() as uow:
            cleared, live = await uow.privacy_jobs.get(gone.id), await uow.privacy_jobs.get(kept.id)
        assert cleared is not None and cleared.archive_key is None
        assert live is not None and live.archive_key == keys[kept.id]

    return check


async def _request_records(c: Container) -> Check:
    deadline = NOW - timedelta(days=1095)
    gone = make_request(uuid.uuid4(), status="completed", updated_at=deadline - JUST)
    kept = make_request(uuid.uuid4(), status="cancelled", updated_at=deadline + JUST)
    still_open = make_request(uuid.uuid4(), status="in_review", updated_at=deadline - timedelta(days=99))
    async with c.infra.uow() as uow:
        for request in (gone, kept, still_open):
            await uow.privacy_requests.add(request)
            await uow.privacy_request_events.append(make_request_event(request))
            await uow.privacy_jobs.add(make_job(request, state="done"))
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert await uow.privacy_requests.get(gone.id) is None
            assert await uow.privacy_request_events.list_for_request(gone.id) == []
            assert await uow.privacy_jobs.get(gone.id) is None
            for request in (kept, still_open):
                assert await uow.privacy_requests.get(request.id) is not None
                assert len(await uow.privacy_request_events.list_for_request(request.id)) == 1

    return check


async def _audit(c: Container) -> Check:
    subject = uuid.uuid4()
    deadline = NOW - timedelta(days=1095)
    async with c.infra.uow() as uow:
        for action, at in (("gone", deadline - JUST), ("kept", deadline + JUST)):
            await uow.audit.append(AuditEvent(uuid.uuid4(), subject, "system", None, action, ("f",), None, at))
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert [e.action for e in await uow.audit.list_for_subject(subject)] == ["kept"]

    return check


async def _payments(c: Container) -> Check:
    subject = uuid.uuid4()
    recent = NOW - timedelta(days=30)  # the checkouts themselves are young: only the payments' hold decides
    gone_checkout, kept_checkout = make_checkout(subject, recent), make_checkout(subject, recent)
    gone = make_payment(subject, recent, gone_checkout)
    kept = make_payment(subject, recent, kept_checkout)
    gone.retain_until, kept.retain_until = NOW - JUST, NOW + JUST
    async with c.infra.uow() as uow:
        for checkout, payment in ((gone_checkout, gone), (kept_checkout, kept)):
            await uow.billing.add_checkout(checkout)
            await uow.billing.add_payment(payment)
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert [p.id for p in await uow.billing.list_payments(subject)] == [kept.id]

    return check


async def _checkouts(c: Container) -> Check:
    subject = uuid.uuid4()
    deadline = NOW - timedelta(days=c.settings.billing_record_retention_days)
    gone, kept = make_checkout(subject, deadline - JUST), make_checkout(subject, deadline + JUST)
    async with c.infra.uow() as uow:
        await uow.billing.add_checkout(gone)
        await uow.billing.add_checkout(kept)
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert await uow.billing.get_checkout(gone.session_id) is None
            assert await uow.billing.get_checkout(kept.session_id) is not None

    return check


async def _sandbox_sessions(c: Container) -> Check:
    deadline = NOW - timedelta(days=SANDBOX_SESSION_DAYS)
    gone, kept = make_sandbox_session(deadline - JUST), make_sandbox_session(deadline + JUST)
    async with c.infra.uow() as uow:
        await uow.sandbox_sessions.add(gone)
        await uow.sandbox_sessions.add(kept)
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert await uow.sandbox_sessions.get(gone.id) is None
            assert await uow.sandbox_sessions.get(kept.id) is not None

    return check


async def _handled_events(c: Container) -> Check:
    deadline = NOW - timedelta(days=90)
    async with c.infra.uow() as uow:
        await uow.billing.record_event("evt_gone", "checkout.session.completed", deadline - JUST)
        await uow.billing.record_event("evt_kept", "checkout.session.completed", deadline + JUST)
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert not await uow.billing.event_handled("evt_gone")
            assert await uow.billing.event_handled("evt_kept")

    return check


async def _content(c: Container) -> Check:
    owner = await _account(c, content_retention_days=7)
    keeper = await _account(c, content_retention_days=None)
    deadline = NOW - timedelta(days=7)
    shared, alone = make_upload(owner), make_upload(owner)  # both long past the deadline, but in use
    unused_gone, unused_kept = make_upload(owner, deadline - JUST), make_upload(owner, deadline + JUST)
    unused_forever = make_upload(keeper, deadline - timedelta(days=3000))
    old = make_generation(owner, (alone.id, shared.id), at=deadline - JUST, status=GenerationStatus.SUCCEEDED)
    young = make_generation(owner, (shared.id,), at=deadline + JUST, status=GenerationStatus.SUCCEEDED)
    ancient = make_generation(keeper, at=deadline - timedelta(days=3000), status=GenerationStatus.FAILED)
    outputs = {g.id: f"outputs/{g.subject_id}/{g.id}/0.png" for g in (old, young, ancient)}
    async with c.infra.uow() as uow:
        for upload in (shared, alone, unused_gone, unused_kept, unused_forever):
            await uow.uploads.add(upload)
            await c.infra.object_store.put(upload.object_key, b"png", "image/png")
        for generation in (old, young, ancient):
            generation.outputs = (GenerationOutput(outputs[generation.id], "image/png", 3),)
            await uow.generations.add(generation)
            await c.infra.object_store.put(outputs[generation.id], b"png", "image/png")
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert await uow.generations.get(old.id) is None
            assert await uow.generations.get(young.id) is not None
            assert await uow.generations.get(ancient.id) is not None  # no setting: kept until deleted
            assert await uow.uploads.get(alone.id) is None  # used by nothing else any more
            assert await uow.uploads.get(shared.id) is not None  # the young generation still uses it
            assert await uow.uploads.get(unused_gone.id) is None  # never used, and past the owner's setting
            assert await uow.uploads.get(unused_kept.id) is not None
            assert await uow.uploads.get(unused_forever.id) is not None  # no setting: kept until deleted
            audit = await uow.audit.list_for_subject(owner)
        expired = [e for e in audit if e.action == "generation_expired"]
        assert [e.fields for e in expired] == [("prompt", "outputs", "reference_uploads")]
        assert [e.fields for e in audit if e.action == "upload_expired"] == [("reference_uploads",)]
        assert not await c.infra.object_store.exists(unused_gone.object_key)
        assert await c.infra.object_store.exists(unused_kept.object_key)
        assert await c.infra.object_store.exists(unused_forever.object_key)
        assert not await c.infra.object_store.exists(outputs[old.id])
        assert not await c.infra.object_store.exists(alone.object_key)
        assert await c.infra.object_store.exists(outputs[young.id]) and await c.infra.object_store.exists(
            shared.object_key
        )
        assert await c.infra.object_store.exists(outputs[ancient.id])

    return check


async def _closed_reports_around(c: Container, days: int) -> tuple[Any, Any]:
    """Two closed child reports: one closed a second more than ``days`` ago, one a second less."""
    deadline = NOW - timedelta(days=days)
    gone, kept = closed_report(uuid.uuid4(), deadline - JUST), closed_report(uuid.uuid4(), deadline + JUST)
    async with c.infra.uow() as uow:
        await uow.child_reports.add(gone)
        await uow.child_reports.add(kept)
        await uow.commit()
    return gone, kept


def _unmatched(inbox: str, days: int) -> Callable[[Container], Awaitable[Check]]:
    """Received reports a fault left unmatched in ``inbox``: one arrived a second more than ``days`` ago, one a
    second less."""

    async def seed(c: Container) -> Check:
        deadline = NOW - timedelta(days=days)
        gone, kept = make_received(deadline - JUST), make_received(deadline + JUST)
        async with c.infra.uow() as uow:
            await getattr(uow, inbox).add(gone)
            await getattr(uow, inbox).add(kept)
            await uow.commit()

        async def check(c: Container) -> None:
            async with c.infra.uow() as uow:
                assert await getattr(uow, inbox).oldest(10) == [kept.id]

        return check

    return seed


async def _child_reporter_data(c: Container) -> Check:
    gone, kept = await _closed_reports_around(c, CHILD_REPORTER_DATA_DAYS)

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            cleared, still = await uow.child_reports.get(gone.id), await uow.child_reports.get(kept.id)
        assert cleared is not None and still is not None  # the record stays; only the reporter's data goes
        assert (cleared.reporter_key, cleared.reporters_ciphertext, cleared.details_ciphertext) == (None, None, None)
        assert still.reporter_key is not None and still.reporters_ciphertext is not None

    return check


async def _child_reports(c: Container) -> Check:
    gone, kept = await _closed_reports_around(c, CHILD_REPORT_RECORD_DAYS)

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert await uow.child_reports.get(gone.id) is None
            assert await uow.child_reports.get(kept.id) is not None

    return check


async def _closed_abuse_reports_around(c: Container, days: int) -> tuple[uuid.UUID, uuid.UUID]:
    deadline = NOW - timedelta(days=days)
    gone, kept = closed_abuse_report(deadline - JUST), closed_abuse_report(deadline + JUST)
    async with c.infra.uow() as uow:
        await uow.abuse_reports.add(gone)
        await uow.abuse_reports.add(kept)
        await uow.commit()
    return gone.id, kept.id


async def _abuse_reporter_data(c: Container) -> Check:
    gone, kept = await _closed_abuse_reports_around(c, ABUSE_REPORTER_DATA_DAYS)

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            cleared, still = await uow.abuse_reports.get(gone), await uow.abuse_reports.get(kept)
        assert cleared is not None and still is not None  # the record stays; only the reporter's data goes
        assert (cleared.reporter_key, cleared.reporter_ciphertext) == (None, None)
        assert still.reporter_key is not None and still.reporter_ciphertext is not None

    return check


async def _abuse_reports(c: Container) -> Check:
    gone, kept = await _closed_abuse_reports_around(c, ABUSE_RECORD_DAYS)

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert await uow.abuse_reports.get(gone) is None
            assert await uow.abuse_reports.get(kept) is not None

    return check


def _tickets(days: int, category: str, other_category: str) -> Callable[[Container], Awaitable[Check]]:
    async def seed(c: Container) -> Check:
        deadline = NOW - timedelta(days=days)
        gone = make_ticket(category=category, status="closed", closed_at=deadline - JUST)
        kept = make_ticket(category=category, status="closed", closed_at=deadline + JUST)
        # the other period's category, closed just as long ago, is not this entry's to delete
        other = make_ticket(category=other_category, status="closed", closed_at=deadline - JUST)
        still_open = make_ticket(uuid.uuid4(), category=category, received_at=deadline - timedelta(days=30))
        async with c.infra.uow() as uow:
            for ticket in (gone, kept, other, still_open):
                await uow.support_tickets.add(ticket)
            await uow.commit()

        async def check(c: Container) -> None:
            async with c.infra.uow() as uow:
                assert await uow.support_tickets.get(gone.id) is None
                for ticket in (kept, still_open):
                    assert await uow.support_tickets.get(ticket.id) is not None
                if days > OTHER_TICKET_DAYS:  # the shorter period's ticket went with its own task
                    assert await uow.support_tickets.get(other.id) is None
                else:
                    assert await uow.support_tickets.get(other.id) is not None

        return check

    return seed


async def _address_requests(c: Container) -> Check:
    """A request by address goes a day after its link expired (issue 16 finding 13)."""
    deadline = NOW - timedelta(days=ADDRESS_REQUEST_DAYS)
    gone = make_address_request(expires_at=deadline - JUST)
    kept = make_address_request("b" * 64, expires_at=deadline + JUST)
    async with c.infra.uow() as uow:
        await uow.ticket_address_requests.add(gone)
        await uow.ticket_address_requests.add(kept)
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert await uow.ticket_address_requests.count_for_address(gone.address_index) == 0
            assert await uow.ticket_address_requests.count_for_address(kept.address_index) == 1

    return check


async def _moderation_records(c: Container) -> Check:
    """Two refusals either side of the 1-year deadline (issue 17)."""
    deadline = NOW - timedelta(days=MODERATION_RECORD_DAYS)
    subject = uuid.uuid4()
    gone, kept = (
        ModerationRecord(uuid.uuid4(), subject, CheckedContent.PROMPT, "violence", "h" * 64, at)
        for at in (deadline - JUST, deadline + JUST)
    )
    async with c.infra.uow() as uow:
        await uow.moderation_records.add(gone)
        await uow.moderation_records.add(kept)
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            assert [r.id for r in await uow.moderation_records.for_subject(subject)] == [kept.id]

    return check


async def _moderation_reviews(c: Container) -> Check:
    """Two reviews closed either side of the 1-year deadline, and one still open long after (kept until decided)."""
    deadline = NOW - timedelta(days=MODERATION_REVIEW_DAYS)
    subject = uuid.uuid4()
    old = deadline - timedelta(days=30)
    gone = ModerationReview(uuid.uuid4(), subject, ReviewStatus.LIFTED, 5, old, deadline - JUST)
    kept = ModerationReview(uuid.uuid4(), subject, ReviewStatus.SUSPENDED, 5, old, deadline + JUST)
    still_open = ModerationReview(uuid.uuid4(), subject, ReviewStatus.OPEN, 5, old)
    async with c.infra.uow() as uow:
        for review in (gone, kept, still_open):
            await uow.moderation_reviews.add(review)
        await uow.commit()

    async def check(c: Container) -> None:
        async with c.infra.uow() as uow:
            left = {r.id for r in await uow.moderation_reviews.for_subject(subject)}
        assert left == {kept.id, still_open.id}

    return check


SCENARIOS: dict[str, Scenario] = {
    "moderation_records": Scenario(_moderation_records),
    "moderation_reviews": Scenario(_moderation_reviews),
    "ticket_address_requests": Scenario(_address_requests),
    "privacy_support_tickets": Scenario(_tickets(PRIVACY_TICKET_DAYS, "privacy", "billing")),
    "other_support_tickets": Scenario(_tickets(OTHER_TICKET_DAYS, "other", "privacy")),
    "child_report_inbox": Scenario(_unmatched("child_report_inbox", CHILD_REPORT_INBOX_DAYS)),
    "child_report_reporter_data": Scenario(_child_reporter_data),
    "child_reports": Scenario(_child_reports),
    "abuse_report_inbox": Scenario(_unmatched("abuse_report_inbox", ABUSE_INBOX_DAYS)),
    "abuse_report_reporter_data": Scenario(_abuse_reporter_data),
    "abuse_reports": Scenario(_abuse_reports),
    "sessions": Scenario(_sessions),
    "queued_mail": Scenario(_queued_mail),
    "idempotency_records": Scenario(_kept_answers),
    "outbox_folder": Scenario(_outbox_folder),
    "account_tokens": Scenario(_account_tokens),
    "analytics_events": Scenario(_analytics),
    "device_consent_records": Scenario(_device_consent),
    "one_time_codes": Scenario(_codes),
    "export_archives": Scenario(_archives),
    "privacy_request_records": Scenario(_request_records),
    "audit_events": Scenario(_audit),
    "payment_records": Scenario(_payments),
    "checkout_sessions": Scenario(_checkouts),
    "handled_payment_events": Scenario(_handled_events),
    "sandbox_checkout_sessions": Scenario(_sandbox_sessions),
    "prompts_and_outputs": Scenario(_content),
}

ENFORCED = [e for e in declared_data_map().schedule if e.tasks]


def test_every_enforced_entry_has_a_scenario() -> None:
    assert sorted(e.key for e in ENFORCED) == sorted(SCENARIOS)


@pytest.mark.parametrize("entry", ENFORCED, ids=lambda e: e.key)
async def test_one_sweep_enforces_the_entry_at_its_deadline(
    entry: ScheduleEntry, uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    scenario = SCENARIOS.get(entry.key)
    assert scenario is not None, f"schedule entry {entry.key} has no injected-clock proof"
    clock = MovableClock(NOW)
    container = _container(uow_factory, tmp_path, clock)
    try:
        check = await scenario.seed(container)
        dry = {r.task: r.due for r in await container.privacy.retention.run(dry_run=True)}
        assert all(dry[t] == 1 for t in entry.tasks), dry  # exactly the record past its deadline is due
        applied = {r.task: r.applied for r in await container.privacy.retention.run()}
        assert all(applied[t] == 1 for t in entry.tasks), applied
        await check(container)
        again = await container.privacy.retention.run()
        assert sum(r.applied for r in again) == 0  # idempotent
    finally:
        await container.aclose()


# --- concurrency and resumption -----------------------------------------------------------------------------


async def _backlog(c: Container, n: int) -> None:
    """``n`` expired records in each of three stores, in one go."""
    old = NOW - timedelta(days=2000)
    async with c.infra.uow() as uow:
        for i in range(n):
            await uow.audit.append(AuditEvent(uuid.uuid4(), uuid.uuid4(), "system", None, "x", (), None, old))
            await uow.consent_records.add(consent_record(old, device_key=f"{i:064d}"))
            await uow.privacy_requests.add(make_request(uuid.uuid4(), code_hash="h", code_expires_at=old))
        await uow.commit()


def _applied(reports: list[Any]) -> dict[str, int]:
    return {r.task: r.applied for r in reports if r.applied}


async def test_two_sweeps_at_once_apply_each_record_once(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    container = _container(uow_factory, tmp_path, MovableClock(NOW))
    try:
        await _backlog(container, 60)
        first = RetentionSweep(container.privacy.retention.tasks, container.infra.clock, batch_size=7)
        second = RetentionSweep(container.privacy.retention.tasks, container.infra.clock, batch_size=5)
        one, two = await asyncio.gather(first.run(), second.run())
        totals = {t: _applied(one).get(t, 0) + _applied(two).get(t, 0) for t in {*_applied(one), *_applied(two)}}
        assert totals == {
            "audit_events.legal_period_over": 60,
            "consent_records.device_expired": 60,
            "privacy_requests.expired_codes": 60,
        }
        assert _applied(await container.privacy.retention.run()) == {}
        assert sum(r.due for r in await container.privacy.retention.run(dry_run=True)) == 0
    finally:
        await container.aclose()


class _Killed(Exception):
    pass


async def test_a_killed_sweep_keeps_its_batches_and_the_next_one_finishes(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    container = _container(uow_factory, tmp_path, MovableClock(NOW))
    try:
        await _backlog(container, 25)
        sweep = RetentionSweep(container.privacy.retention.tasks, container.infra.clock, batch_size=10)

        committed: list[int] = []

        def die_after_first_batch(task: str, done: int) -> None:
            committed.append(done)
            raise _Killed(task)

        with pytest.raises(_Killed):
            await sweep.run(progress=die_after_first_batch)
        # a batch of 10 (or, should PostgreSQL hold that month's audit events in a partition, the month at once)
        assert committed in ([10], [25])
        left = {r.task: r.due for r in await sweep.run(dry_run=True) if r.due}
        assert sum(left.values()) == 75 - committed[0]  # the committed transaction stayed done
        finished = _applied(await sweep.run())
        assert finished == left
        assert _applied(await sweep.run()) == {}
    finally:
        await container.aclose()


async def test_a_cancelled_sweep_resumes(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    if isinstance(getattr(uow_factory, "__self__", None), InMemoryDatabase):
        pytest.skip("the fakes never suspend, so a cancel lands only once the sweep is done")
    container = _container(uow_factory, tmp_path, MovableClock(NOW))
    try:
        await _backlog(container, 12)
        sweep = RetentionSweep(container.privacy.retention.tasks, container.infra.clock, batch_size=4)
        batches: list[int] = []

        def cancel_after_two(task: str, done: int) -> None:
            batches.append(done)
            if len(batches) == 2:
                running.cancel()  # as a worker shutdown or SAQ's timeout would

        running = asyncio.create_task(sweep.run(progress=cancel_after_two))
        with pytest.raises(asyncio.CancelledError):
            await running
        assert sum(r.due for r in await sweep.run(dry_run=True)) == 36 - sum(batches)  # 8, or a whole period first
        assert sum(_applied(await sweep.run()).values()) == 36 - sum(batches)
    finally:
        await container.aclose()
