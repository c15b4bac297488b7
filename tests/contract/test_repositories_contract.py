"""One contract for the repository ports and their unit of work, run on the fakes, SQLite and PostgreSQL.

Whatever passes here behaves the same on every backend, so use cases proven on the fakes hold on the
databases. The tests at the end (``sql_database``) check what only the SQL adapters can show: the bytes on
disk, the SQL a retention sweep sends, the SQLite connection settings.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import event, text

from dreamina.adapters.sql.database import SQLITE_BUSY_TIMEOUT_MS, Database
from dreamina.adapters.sql.schema import metadata
from dreamina.bootstrap import sql_database
from dreamina.domain.privacy.errors import Conflict, NotFound
from dreamina.domain.privacy.policy import PolicyVersion, content_sha256
from dreamina.ports.audit import AuditEvent
from dreamina.ports.disclosures import Disclosure
from dreamina.ports.identity import Account, AccountStatus, AuthSession
from dreamina.ports.keys import SubjectKey
from dreamina.ports.marketing import CampaignStatus, MarketingCampaign
from dreamina.ports.moderation import CheckedContent, ModerationRecord, ModerationReview, ReviewStatus
from dreamina.ports.policy import NoticeRunStatus, PolicyAcceptance, PolicyNoticeRun
from dreamina.ports.processor_notices import NoticeMethod, NoticeStatus, ProcessorNotification
from dreamina.ports.tokens import AccountToken, TokenPurpose
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from tests.contract.generation_records import write_generation_rows

from .billing_rows import write_one_of_each_billing_row
from .consent_rows import write_one_of_each_consent_row
from .data_rights_records import write_one_of_each_data_rights_record
from .idempotency_rows import make_record
from .mail_rows import make_mail
from .test_abuse_reports_contract import make_abuse_report
from .test_child_reports_contract import make_received, make_report
from .test_support_tickets_contract import make_address_request, make_ticket

NOW = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


def make_account(**changes: Any) -> Account:
    suffix = uuid.uuid4().hex
    account = Account(
        id=uuid.uuid4(),
        email_index=f"idx-{suffix}",
        email_ciphertext=b"\x00sealed-email\x00" + suffix.encode(),
        display_name_ciphertext=b"sealed-name",
        birth_date_ciphertext=b"sealed-birth-date",
        country="DE",
        region=None,
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        status=AccountStatus.ACTIVE,
        created_at=NOW,
        updated_at=NOW,
    )
    return dataclasses.replace(account, **changes)


def make_session(account_id: UUID, **changes: Any) -> AuthSession:
    session = AuthSession(
        id=uuid.uuid4(),
        account_id=account_id,
        token_hash=uuid.uuid4().hex * 2,
        created_at=NOW,
        expires_at=NOW + timedelta(days=30),
    )
    return dataclasses.replace(session, **changes)


def make_policy(version: int, **changes: Any) -> PolicyVersion:
    body = f"Privacy Policy v{version}\nLast updated: May 2026\n1. Introduction\nWe care — «ünïcödé» 🔐\n"
    policy = PolicyVersion(
        version=version,
        text=body,
        content_sha256=content_sha256(body),
        last_updated=date(2026, 5, version % 28 + 1),
        effective_at=NOW + timedelta(days=version),
        published_at=NOW,
    )
    return dataclasses.replace(policy, **changes)


def make_acceptance(subject_id: UUID, at: datetime, **changes: Any) -> PolicyAcceptance:
    acceptance = PolicyAcceptance(
        id=uuid.uuid4(),
        subject_id=subject_id,
        policy_version=1,
        content_sha256="a" * 64,
        method="sign_up",
        accepted_at=at,
    )
    return dataclasses.replace(acceptance, **changes)


def make_event(subject_id: UUID, at: datetime, **changes: Any) -> AuditEvent:
    event_ = AuditEvent(
        id=uuid.uuid4(),
        subject_id=subject_id,
        actor_kind="staff",
        actor_id=uuid.uuid4(),
        action="rectification",
        fields=("display_name", "country"),
        reason="ticket 42",
        occurred_at=at,
    )
    return dataclasses.replace(event_, **changes)


def make_disclosure(subject_id: UUID, at: datetime, **changes: Any) -> Disclosure:
    disclosure = Disclosure(
        id=uuid.uuid4(),
        subject_id=subject_id,
        processor="stripe",
        categories=("account", "payment"),
        purpose="process_payments",
        reference="cus_123",
        occurred_at=at,
    )
    return dataclasses.replace(disclosure, **changes)


async def committed(uow_factory: UnitOfWorkFactory, work: Callable[[UnitOfWork], Awaitable[Any]]) -> Any:
    """Run ``work`` in a fresh unit of work and commit it."""
    async with uow_factory() as uow:
        result = await work(uow)
        await uow.commit()
    return result


async def add_account(uow_factory: UnitOfWorkFactory, **changes: Any) -> Account:
    account = make_account(**changes)
    await committed(uow_factory, lambda uow: uow.accounts.add(account))
    return account


# --- accounts -----------------------------------------------------------------------------------------------


async def test_account_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory, region="DE-BY", display_name_ciphertext=None)

    async with uow_factory() as uow:
        assert await uow.accounts.get(account.id) == account
        assert await uow.accounts.get_by_email_index(account.email_index) == account
        assert await uow.accounts.get(uuid.uuid4()) is None
        assert await uow.accounts.get_by_email_index("nobody") is None


async def test_account_update_persists_every_field(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory)
    changed = dataclasses.replace(
        account,
        email_index="idx-new",
        email_ciphertext=b"new-email",
        display_name_ciphertext=None,
        birth_date_ciphertext=b"new-birth",
        country="US",
        region="US-CA",
        password_hash="$argon2id$new",
        status=AccountStatus.SUSPENDED,
        updated_at=NOW + timedelta(hours=1),
    )
    await committed(uow_factory, lambda uow: uow.accounts.update(changed))

    async with uow_factory() as uow:
        assert await uow.accounts.get(account.id) == changed
        assert await uow.accounts.get_by_email_index(account.email_index) is None
        assert await uow.accounts.get_by_email_index("idx-new") == changed


async def test_updating_a_missing_account_raises_not_found(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(NotFound):
            await uow.accounts.update(make_account())


async def test_duplicate_email_index_is_a_conflict_and_the_unit_of_work_lives_on(
    uow_factory: UnitOfWorkFactory,
) -> None:
    first = await add_account(uow_factory, email_index="taken")
    other = make_account()

    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await uow.accounts.add(make_account(email_index="taken"))
        await uow.accounts.add(other)  # the failed insert did not poison the transaction
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.accounts.get_by_email_index("taken") == first
        assert await uow.accounts.get(other.id) == other


async def test_duplicate_account_id_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    first = await add_account(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await uow.accounts.add(make_account(id=first.id))


async def test_duplicate_email_index_within_one_unit_of_work_is_a_conflict(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.accounts.add(make_account(email_index="same"))
        with pytest.raises(Conflict):
            await uow.accounts.add(make_account(email_index="same"))


async def test_update_to_a_taken_email_index_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    await add_account(uow_factory, email_index="taken")
    mine = await add_account(uow_factory, email_index="mine")

    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await uow.accounts.update(dataclasses.replace(mine, email_index="taken", country="FR"))
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.accounts.get(mine.id) == mine


async def test_stored_accounts_cannot_be_mutated_through_records(uow_factory: UnitOfWorkFactory) -> None:
    account = make_account()
    original = dataclasses.replace(account)
    async with uow_factory() as uow:
        await uow.accounts.add(account)
        account.country = "FR"  # the caller's object, after handing it over
        loaded = await uow.accounts.get(account.id)
        assert loaded is not None
        loaded.status = AccountStatus.ERASED  # a loaded object, without update()
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.accounts.get(account.id) == original


# --- sessions -----------------------------------------------------------------------------------------------


async def test_session_is_found_by_token_hash(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory)
    session = make_session(account.id)
    await committed(uow_factory, lambda uow: uow.sessions.add(session))

    async with uow_factory() as uow:
        assert await uow.sessions.get_by_token_hash(session.token_hash) == session
        assert await uow.sessions.get_by_token_hash("f" * 64) is None


async def test_duplicate_token_hash_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory)
    session = make_session(account.id)
    await committed(uow_factory, lambda uow: uow.sessions.add(session))

    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await uow.sessions.add(make_session(account.id, token_hash=session.token_hash))


async def test_session_for_an_unknown_account_is_not_found(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(NotFound):
            await uow.sessions.add(make_session(uuid.uuid4()))


async def test_delete_session(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory)
    session = make_session(account.id)
    await committed(uow_factory, lambda uow: uow.sessions.add(session))

    assert await committed(uow_factory, lambda uow: uow.sessions.delete(session.id)) is True
    assert await committed(uow_factory, lambda uow: uow.sessions.delete(session.id)) is False
    async with uow_factory() as uow:
        assert await uow.sessions.get_by_token_hash(session.token_hash) is None


async def test_delete_for_account_revokes_only_that_accounts_sessions(uow_factory: UnitOfWorkFactory) -> None:
    mine, other = await add_account(uow_factory), await add_account(uow_factory)
    my_sessions = [make_session(mine.id) for _ in range(3)]
    other_session = make_session(other.id)

    async def add_all(uow: UnitOfWork) -> None:
        for session in [*my_sessions, other_session]:
            await uow.sessions.add(session)

    await committed(uow_factory, add_all)
    assert await committed(uow_factory, lambda uow: uow.sessions.delete_for_account(mine.id)) == 3
    assert await committed(uow_factory, lambda uow: uow.sessions.delete_for_account(mine.id)) == 0

    async with uow_factory() as uow:
        for session in my_sessions:
            assert await uow.sessions.get_by_token_hash(session.token_hash) is None
        assert await uow.sessions.get_by_token_hash(other_session.token_hash) == other_session


async def test_delete_expired_works_in_bounded_batches(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory)
    expired = [make_session(account.id, expires_at=NOW - timedelta(minutes=m)) for m in range(1, 6)]
    at_the_edge = make_session(account.id, expires_at=NOW)  # expires *at* now: not yet before it
    live = make_session(account.id, expires_at=NOW + timedelta(seconds=1))

    async def add_all(uow: UnitOfWork) -> None:
        for session in [*expired, at_the_edge, live]:
            await uow.sessions.add(session)

    await committed(uow_factory, add_all)

    async with uow_factory() as uow:
        assert await uow.sessions.count_expired(NOW) == 5
    batches = [await committed(uow_factory, lambda uow: uow.sessions.delete_expired(NOW, 2)) for _ in range(4)]
    assert batches == [2, 2, 1, 0]
    async with uow_factory() as uow:
        assert await uow.sessions.count_expired(NOW) == 0
    assert await committed(uow_factory, lambda uow: uow.sessions.delete_expired(NOW, 0)) == 0

    async with uow_factory() as uow:
        for session in expired:
            assert await uow.sessions.get_by_token_hash(session.token_hash) is None
        assert await uow.sessions.get_by_token_hash(at_the_edge.token_hash) == at_the_edge
        assert await uow.sessions.get_by_token_hash(live.token_hash) == live


async def test_delete_expired_takes_the_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory)
    newer = make_session(account.id, expires_at=NOW - timedelta(minutes=1))
    oldest = make_session(account.id, expires_at=NOW - timedelta(days=1))

    async def add_all(uow: UnitOfWork) -> None:
        await uow.sessions.add(newer)
        await uow.sessions.add(oldest)

    await committed(uow_factory, add_all)
    assert await committed(uow_factory, lambda uow: uow.sessions.delete_expired(NOW, 1)) == 1
    async with uow_factory() as uow:
        assert await uow.sessions.get_by_token_hash(oldest.token_hash) is None
        assert await uow.sessions.get_by_token_hash(newer.token_hash) == newer


async def test_delete_expired_refuses_a_negative_limit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError):
            await uow.sessions.delete_expired(NOW, -1)


# --- subject keys -------------------------------------------------------------------------------------------


async def test_subject_key_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    key = SubjectKey(subject_id=uuid.uuid4(), wrapped_key=b"\x00\x01wrapped\xff", created_at=NOW)
    await committed(uow_factory, lambda uow: uow.subject_keys.add(key))

    async with uow_factory() as uow:
        assert await uow.subject_keys.get(key.subject_id) == key
        assert await uow.subject_keys.get(uuid.uuid4()) is None


async def test_a_second_key_for_a_subject_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    key = SubjectKey(subject_id=uuid.uuid4(), wrapped_key=b"k1", created_at=NOW)
    await committed(uow_factory, lambda uow: uow.subject_keys.add(key))
    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await uow.subject_keys.add(SubjectKey(subject_id=key.subject_id, wrapped_key=b"k2", created_at=NOW))


async def test_destroy_wipes_the_key_once(uow_factory: UnitOfWorkFactory) -> None:
    key = SubjectKey(subject_id=uuid.uuid4(), wrapped_key=b"wrapped", created_at=NOW)
    await committed(uow_factory, lambda uow: uow.subject_keys.add(key))
    destroyed_at = NOW + timedelta(days=30)

    assert await committed(uow_factory, lambda uow: uow.subject_keys.destroy(key.subject_id, destroyed_at))
    later = destroyed_at + timedelta(days=1)
    assert not await committed(uow_factory, lambda uow: uow.subject_keys.destroy(key.subject_id, later))
    assert not await committed(uow_factory, lambda uow: uow.subject_keys.destroy(uuid.uuid4(), later))

    async with uow_factory() as uow:
        assert await uow.subject_keys.get(key.subject_id) == SubjectKey(
            subject_id=key.subject_id, wrapped_key=None, created_at=NOW, destroyed_at=destroyed_at
        )


# --- policy versions and acceptances ------------------------------------------------------------------------


async def test_policy_versions_list_in_version_order(uow_factory: UnitOfWorkFactory) -> None:
    second, first, third = make_policy(2), make_policy(1), make_policy(3)

    async def add_all(uow: UnitOfWork) -> None:
        for policy in (second, first, third):
            await uow.policies.add(policy)

    await committed(uow_factory, add_all)

    async with uow_factory() as uow:
        assert await uow.policies.list() == [first, second, third]
        assert await uow.policies.get(2) == second
        assert await uow.policies.get(9) is None


async def test_duplicate_policy_version_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    await committed(uow_factory, lambda uow: uow.policies.add(make_policy(1)))
    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await uow.policies.add(make_policy(1, text="another text"))
        assert await uow.policies.list() == [make_policy(1)]


async def test_acceptances_list_oldest_first_per_subject(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    late = make_acceptance(subject, NOW + timedelta(days=2), policy_version=2, method="explicit")
    early = make_acceptance(subject, NOW)
    middle = make_acceptance(subject, NOW + timedelta(days=1), method="continued_use")
    foreign = make_acceptance(other, NOW + timedelta(hours=1))

    async def add_all(uow: UnitOfWork) -> None:
        for acceptance in (late, foreign, early, middle):
            await uow.acceptances.add(acceptance)

    await committed(uow_factory, add_all)

    async with uow_factory() as uow:
        assert await uow.acceptances.list_for_subject(subject) == [early, middle, late]
        assert await uow.acceptances.list_for_subject(other) == [foreign]
        assert await uow.acceptances.list_for_subject(uuid.uuid4()) == []
        with pytest.raises(Conflict):
            await uow.acceptances.add(early)


# --- audit trail and disclosure ledger ----------------------------------------------------------------------


async def test_audit_events_list_oldest_first_per_subject(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    second = make_event(subject, NOW + timedelta(seconds=1), actor_kind="system", actor_id=None, reason=None)
    first = make_event(subject, NOW, fields=())
    foreign = make_event(other, NOW)

    async def add_all(uow: UnitOfWork) -> None:
        for event_ in (second, foreign, first):
            await uow.audit.append(event_)

    await committed(uow_factory, add_all)

    async with uow_factory() as uow:
        assert await uow.audit.list_for_subject(subject) == [first, second]
        assert await uow.audit.list_for_subject(other) == [foreign]
        assert await uow.audit.list_for_subject(uuid.uuid4()) == []
        with pytest.raises(Conflict):
            await uow.audit.append(first)


async def test_events_at_the_same_instant_list_in_the_same_order_everywhere(
    uow_factory: UnitOfWorkFactory,
) -> None:
    subject = uuid.uuid4()
    ids = sorted(uuid.uuid4() for _ in range(5))
    events = [make_event(subject, NOW, id=event_id) for event_id in reversed(ids)]

    async def add_all(uow: UnitOfWork) -> None:
        for event_ in events:
            await uow.audit.append(event_)

    await committed(uow_factory, add_all)
    async with uow_factory() as uow:
        assert [e.id for e in await uow.audit.list_for_subject(subject)] == ids


async def test_disclosures_list_oldest_first_per_subject(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    later = make_disclosure(subject, NOW + timedelta(minutes=5), processor="openai", categories=("content",))
    earlier = make_disclosure(subject, NOW, reference=None)
    foreign = make_disclosure(other, NOW)

    async def add_all(uow: UnitOfWork) -> None:
        for disclosure in (later, foreign, earlier):
            await uow.disclosures.record(disclosure)

    await committed(uow_factory, add_all)

    async with uow_factory() as uow:
        assert await uow.disclosures.list_for_subject(subject) == [earlier, later]
        assert await uow.disclosures.list_for_subject(other) == [foreign]
        assert await uow.disclosures.list_for_subject(uuid.uuid4()) == []
        with pytest.raises(Conflict):
            await uow.disclosures.record(earlier)


# --- unit of work -------------------------------------------------------------------------------------------


async def _write_one_of_everything(uow: UnitOfWork) -> dict[str, Any]:
    account = make_account()
    subject = account.id
    await uow.accounts.add(account)
    session = make_session(subject)
    await uow.sessions.add(session)
    await uow.subject_keys.add(SubjectKey(subject_id=subject, wrapped_key=b"k", created_at=NOW))
    await uow.policies.add(make_policy(1))
    await uow.notice_runs.add(PolicyNoticeRun(1, NoticeRunStatus.PENDING, 0, requested_at=NOW))
    await uow.acceptances.add(make_acceptance(subject, NOW))
    await uow.audit.append(make_event(subject, NOW))
    await uow.disclosures.record(make_disclosure(subject, NOW))
    await write_one_of_each_consent_row(uow, subject, NOW)
    await write_one_of_each_data_rights_record(uow, subject)
    await write_generation_rows(uow, subject)
    await write_one_of_each_billing_row(uow, subject, NOW)
    await uow.child_reports.add(make_report(subject))
    await uow.child_report_inbox.add(make_received())
    await uow.abuse_reports.add(make_abuse_report(subject))
    await uow.abuse_report_inbox.add(make_received())
    await uow.support_tickets.add(make_ticket(subject))
    await uow.ticket_address_requests.add(make_address_request())
    await uow.mail_outbox.add(make_mail(subject))
    await uow.marketing_campaigns.add(MarketingCampaign(uuid.uuid4(), "News", "Body", CampaignStatus.PENDING, NOW))
    await uow.moderation_records.add(ModerationRecord(uuid.uuid4(), subject, CheckedContent.PROMPT, "hate", "h", NOW))
    await uow.moderation_reviews.add(ModerationReview(uuid.uuid4(), subject, ReviewStatus.OPEN, 5, NOW))
    await uow.processor_notifications.add(
        ProcessorNotification(
            id=uuid.uuid4(),
            request_id=uuid.uuid4(),
            completion_id=uuid.uuid4(),
            processor="runway",
            method=NoticeMethod.API,
            status=NoticeStatus.OPEN,
            idempotency_key="dsr-1-runway",
            created_at=NOW,
            next_attempt_at=NOW,
        )
    )
    await uow.idempotency_records.add(make_record(subject))
    await uow.account_tokens.add(
        AccountToken(uuid.uuid4(), subject, TokenPurpose.VERIFY_EMAIL, "t" * 64, NOW, NOW + timedelta(hours=1))
    )
    return {"account": account, "session": session}


async def _nothing_is_there(uow: UnitOfWork, written: dict[str, Any]) -> None:
    account: Account = written["account"]
    session: AuthSession = written["session"]
    assert await uow.accounts.get(account.id) is None
    assert await uow.accounts.get_by_email_index(account.email_index) is None
    assert await uow.sessions.get_by_token_hash(session.token_hash) is None
    assert await uow.subject_keys.get(account.id) is None
    assert await uow.policies.list() == []
    assert await uow.acceptances.list_for_subject(account.id) == []
    assert await uow.audit.list_for_subject(account.id) == []
    assert await uow.disclosures.list_for_subject(account.id) == []
    assert await uow.child_reports.list_for_subject(account.id) == []
    assert await uow.support_tickets.list_for_subject(account.id) == []
    assert await uow.mail_outbox.count_for_subject(account.id) == 0
    assert await uow.account_tokens.list_for_account(account.id) == []
    assert await uow.moderation_records.for_subject(account.id) == []
    assert await uow.moderation_reviews.for_subject(account.id) == []


async def test_leaving_without_commit_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        written = await _write_one_of_everything(uow)
    async with uow_factory() as uow:
        await _nothing_is_there(uow, written)


async def test_an_exception_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    written: dict[str, Any] = {}
    with pytest.raises(RuntimeError, match="boom"):
        async with uow_factory() as uow:
            written = await _write_one_of_everything(uow)
            raise RuntimeError("boom")
    async with uow_factory() as uow:
        await _nothing_is_there(uow, written)


async def test_explicit_rollback_discards_and_the_unit_of_work_goes_on(
    uow_factory: UnitOfWorkFactory,
) -> None:
    kept = make_account()
    async with uow_factory() as uow:
        written = await _write_one_of_everything(uow)
        await uow.rollback()
        await uow.accounts.add(kept)
        await uow.commit()
    async with uow_factory() as uow:
        await _nothing_is_there(uow, written)
        assert await uow.accounts.get(kept.id) == kept


async def test_commit_makes_everything_visible_and_later_writes_need_another_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    late = make_account()
    async with uow_factory() as uow:
        written = await _write_one_of_everything(uow)
        await uow.commit()
        await uow.accounts.add(late)  # after the commit, never committed itself
    async with uow_factory() as uow:
        assert await uow.accounts.get(written["account"].id) == written["account"]
        assert await uow.sessions.get_by_token_hash(written["session"].token_hash) == written["session"]
        assert await uow.accounts.get(late.id) is None


async def test_uncommitted_writes_are_invisible_to_other_units_of_work(
    uow_factory: UnitOfWorkFactory,
) -> None:
    account = make_account()
    async with uow_factory() as writer:
        await writer.accounts.add(account)
        async with uow_factory() as reader:
            assert await reader.accounts.get(account.id) is None
        await writer.commit()
    async with uow_factory() as reader:
        assert await reader.accounts.get(account.id) == account


# --- values the databases disagree about --------------------------------------------------------------------


async def test_aware_datetimes_round_trip_as_the_same_instant_in_utc(uow_factory: UnitOfWorkFactory) -> None:
    tokyo = timezone(timedelta(hours=9))
    created = datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=tokyo)
    account = await add_account(uow_factory, created_at=created, updated_at=created)
    key = SubjectKey(subject_id=account.id, wrapped_key=b"k", created_at=created)
    await committed(uow_factory, lambda uow: uow.subject_keys.add(key))

    async with uow_factory() as uow:
        loaded = await uow.accounts.get(account.id)
        loaded_key = await uow.subject_keys.get(account.id)
    assert loaded is not None and loaded_key is not None
    for value in (loaded.created_at, loaded.updated_at, loaded_key.created_at):
        assert value == created
        assert value.utcoffset() == timedelta(0)
        assert value.microsecond == 999999


NAIVE = datetime(2026, 5, 1, 12, 0)

NAIVE_WRITES: dict[str, Callable[[UnitOfWork, UUID], Awaitable[Any]]] = {
    "account": lambda uow, _: uow.accounts.add(make_account(created_at=NAIVE)),
    "session": lambda uow, account_id: uow.sessions.add(make_session(account_id, expires_at=NAIVE)),
    "expiry sweep": lambda uow, _: uow.sessions.delete_expired(NAIVE, 10),
    "subject key": lambda uow, _: uow.subject_keys.add(SubjectKey(uuid.uuid4(), b"k", NAIVE)),
    "key destruction": lambda uow, account_id: uow.subject_keys.destroy(account_id, NAIVE),
    "policy": lambda uow, _: uow.policies.add(make_policy(1, effective_at=NAIVE)),
    "acceptance": lambda uow, _: uow.acceptances.add(make_acceptance(uuid.uuid4(), NAIVE)),
    "audit": lambda uow, _: uow.audit.append(make_event(uuid.uuid4(), NAIVE)),
    "disclosure": lambda uow, _: uow.disclosures.record(make_disclosure(uuid.uuid4(), NAIVE)),
}


@pytest.mark.parametrize("write", list(NAIVE_WRITES.values()), ids=list(NAIVE_WRITES))
async def test_naive_datetimes_are_refused(
    uow_factory: UnitOfWorkFactory, write: Callable[[UnitOfWork, UUID], Awaitable[Any]]
) -> None:
    account = await add_account(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="timezone-aware"):
            await write(uow, account.id)


NUL = "bad\x00value"

NUL_OPERATIONS: dict[str, Callable[[UnitOfWork, Account], Awaitable[Any]]] = {
    "account email index": lambda uow, _: uow.accounts.add(make_account(email_index=NUL)),
    "account country": lambda uow, _: uow.accounts.add(make_account(country=NUL)),
    "account region": lambda uow, _: uow.accounts.add(make_account(region=NUL)),
    "account password hash": lambda uow, _: uow.accounts.add(make_account(password_hash=NUL)),
    "account update": lambda uow, a: uow.accounts.update(dataclasses.replace(a, region=NUL)),
    "email look-up": lambda uow, _: uow.accounts.get_by_email_index(NUL),
    "session token": lambda uow, a: uow.sessions.add(make_session(a.id, token_hash=NUL)),
    "token look-up": lambda uow, _: uow.sessions.get_by_token_hash(NUL),
    "policy text": lambda uow, _: uow.policies.add(make_policy(1, text=NUL)),
    "policy hash": lambda uow, _: uow.policies.add(make_policy(1, content_sha256=NUL)),
    "acceptance method": lambda uow, a: uow.acceptances.add(make_acceptance(a.id, NOW, method=NUL)),
    "acceptance hash": lambda uow, a: uow.acceptances.add(make_acceptance(a.id, NOW, content_sha256=NUL)),
    "audit action": lambda uow, a: uow.audit.append(make_event(a.id, NOW, action=NUL)),
    "audit actor kind": lambda uow, a: uow.audit.append(make_event(a.id, NOW, actor_kind=NUL)),
    "audit fields": lambda uow, a: uow.audit.append(make_event(a.id, NOW, fields=("ok", NUL))),
    "audit reason": lambda uow, a: uow.audit.append(make_event(a.id, NOW, reason=NUL)),
    "disclosure processor": lambda uow, a: uow.disclosures.record(make_disclosure(a.id, NOW, processor=NUL)),
    "disclosure categories": lambda uow, a: uow.disclosures.record(make_disclosure(a.id, NOW, categories=(NUL,))),
    "disclosure purpose": lambda uow, a: uow.disclosures.record(make_disclosure(a.id, NOW, purpose=NUL)),
    "disclosure reference": lambda uow, a: uow.disclosures.record(make_disclosure(a.id, NOW, reference=NUL)),
}


@pytest.mark.parametrize("operation", list(NUL_OPERATIONS.values()), ids=list(NUL_OPERATIONS))
async def test_nul_characters_in_text_are_refused_the_same_way_everywhere(
    uow_factory: UnitOfWorkFactory, operation: Callable[[UnitOfWork, Account], Awaitable[Any]]
) -> None:
    account = await add_account(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="NUL"):
            await operation(uow, account)
        # Refused before reaching the database: the unit of work is still usable.
        assert await uow.accounts.get(account.id) == account


async def test_nul_bytes_in_sealed_values_are_fine(uow_factory: UnitOfWorkFactory) -> None:
    account = await add_account(uow_factory, email_ciphertext=b"\x00" * 40, birth_date_ciphertext=b"a\x00b")
    async with uow_factory() as uow:
        assert await uow.accounts.get(account.id) == account


async def test_unknown_account_status_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError):
            await uow.accounts.add(make_account(status="deleted"))


# --- SQL only: what the fakes cannot show -------------------------------------------------------------------


async def test_destroyed_key_leaves_no_bytes_in_the_row(sql_database: Database) -> None:
    subject = uuid.uuid4()
    async with sql_database.unit_of_work() as uow:
        await uow.subject_keys.add(SubjectKey(subject_id=subject, wrapped_key=b"secret", created_at=NOW))
        await uow.subject_keys.destroy(subject, NOW)
        await uow.commit()
    async with sql_database.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT wrapped_key, destroyed_at FROM subject_keys"))).all()
    assert len(rows) == 1
    assert rows[0][0] is None
    assert rows[0][1] is not None


async def test_expiry_sweep_is_one_bounded_statement(sql_database: Database) -> None:
    async with sql_database.unit_of_work() as uow:
        account = make_account()
        await uow.accounts.add(account)
        for minutes in range(1, 4):
            await uow.sessions.add(make_session(account.id, expires_at=NOW - timedelta(minutes=minutes)))
        await uow.commit()

    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(sql_database.unit_of_work_engine.sync_engine, "before_cursor_execute", record)
    try:
        async with sql_database.unit_of_work() as uow:
            assert await uow.sessions.delete_expired(NOW, 2) == 2
            await uow.commit()
    finally:
        event.remove(sql_database.unit_of_work_engine.sync_engine, "before_cursor_execute", record)

    data_statements = [s for s in statements if s.split()[0].upper() in {"SELECT", "DELETE", "UPDATE", "INSERT"}]
    assert len(data_statements) == 1, statements
    sweep = " ".join(data_statements[0].split()).upper()
    assert sweep.startswith("DELETE FROM AUTH_SESSIONS")
    assert "LIMIT" in sweep
    assert "EXPIRES_AT <" in sweep


async def test_ping(sql_database: Database) -> None:
    assert await sql_database.ping() is True


async def test_ping_is_false_when_the_server_is_unreachable() -> None:
    database = sql_database("postgresql+asyncpg://nobody:nothing@127.0.0.1:1/nowhere")
    try:
        assert await database.ping() is False
    finally:
        await database.dispose()


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there" / "dreamina.db"
    database = sql_database(f"sqlite:///{path}")  # plain URL: the async driver is added
    try:
        assert database.url.drivername == "sqlite+aiosqlite"
        async with database.engine.connect() as connection:
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
            busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert (journal, foreign_keys, busy) == ("wal", 1, SQLITE_BUSY_TIMEOUT_MS)
        assert path.parent.is_dir()
    finally:
        await database.dispose()


async def test_stored_rows_counts_committed_rows_per_table(
    uow_factory: UnitOfWorkFactory, stored_rows: Callable[[], Awaitable[dict[str, int]]]
) -> None:
    empty = await stored_rows()
    assert set(empty) == {table.name for table in metadata.sorted_tables}
    assert set(empty.values()) == {0}
    async with uow_factory() as uow:
        await _write_one_of_everything(uow)
        assert await stored_rows() == empty  # not committed yet
        await uow.commit()
    assert set((await stored_rows()).values()) == {1}


async def test_concurrent_units_of_work_cannot_both_claim_an_email(uow_factory: UnitOfWorkFactory) -> None:
    first, second = make_account(email_index="race"), make_account(email_index="race")
    async with uow_factory() as one:
        await one.accounts.add(first)
        await one.commit()
        async with uow_factory() as two:
            with pytest.raises(Conflict):
                await two.accounts.add(second)
    async with uow_factory() as uow:
        assert await uow.accounts.get_by_email_index("race") == first


async def test_a_session_added_and_deleted_in_one_unit_of_work_leaves_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    account = await add_account(uow_factory)
    session = make_session(account.id)
    async with uow_factory() as uow:
        await uow.sessions.add(session)
        assert await uow.sessions.delete(session.id) is True
        assert await uow.sessions.get_by_token_hash(session.token_hash) is None
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.sessions.get_by_token_hash(session.token_hash) is None
        assert await uow.sessions.delete_for_account(account.id) == 0


async def test_a_live_session_is_found_with_its_account_status_in_one_read(uow_factory: UnitOfWorkFactory) -> None:
    """The bearer-token check: unexpired, and the account may sign in (active or under age review) - not suspended."""
    account = await add_account(uow_factory)
    session = make_session(account.id)
    await committed(uow_factory, lambda uow: uow.sessions.add(session))
    before_expiry = session.expires_at - timedelta(seconds=1)
    async with uow_factory() as uow:
        assert await uow.sessions.get_live_by_token_hash(session.token_hash, before_expiry) == session
        assert await uow.sessions.get_live_by_token_hash(session.token_hash, session.expires_at) is None
        assert await uow.sessions.get_live_by_token_hash("f" * 64, before_expiry) is None

    changes = ((Account.place_under_age_review, True), (Account.lift_age_review, True), (Account.suspend, False))
    for change, live in changes:

        async def apply(uow: UnitOfWork, change: Any = change) -> None:
            stored = await uow.accounts.get(account.id)
            assert stored is not None
            change(stored, before_expiry)
            await uow.accounts.update(stored)

        await committed(uow_factory, apply)
        async with uow_factory() as uow:
            found = await uow.sessions.get_live_by_token_hash(session.token_hash, before_expiry)
        assert (found == session) is live, change
