"""The children's flow (section 9, G8) as use cases on the in-memory fakes: intake and matching, the age review,
the staff queue, confirmation, dismissal, birth-date corrections and the retention of reporter data."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.database import InMemoryDatabase
from dreamina.adapters.memory.generation import RecordingCharges
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container, build_container, memory_database
from dreamina.domain.generation.validation import GenerationRequest
from dreamina.domain.identity.child_report_intake import IncomingReport
from dreamina.domain.identity.child_report_review import ReportClosed
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.privacy.errors import InvalidInput, TooManyAttempts, UnderAgeReview
from dreamina.ports.child_reports import ReportSource, ReportStatus
from dreamina.ports.generation import GenerationStatus
from dreamina.ports.identity import AccountStatus
from dreamina.settings import load_settings
from tests.e2e.conftest import test_overrides

PASSWORD = "correct horse battery staple"
REPORTER = "worried.parent@example.org"
DETAILS = "She is my daughter and she is nine years old"


CHARGES: dict[int, RecordingCharges] = {}  # each test's charge recorder, by its container


@pytest.fixture
async def wired(tmp_path: Path) -> AsyncIterator[tuple[Container, InMemoryDatabase]]:
    database = memory_database()
    overrides = test_overrides()
    container = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=database.unit_of_work, **overrides
    )
    CHARGES[id(container)] = overrides["charges"]
    await container.start()
    yield container, database
    CHARGES.pop(id(container))
    await container.aclose()


async def _account(container: Container, email: str, birth: date = date(1990, 4, 1)) -> tuple[UUID, str]:
    await container.identity.registrations.sign_up(SignUp(email, PASSWORD, birth, "DE", None, 1))
    token = (await container.identity.sessions.issue_token(email, PASSWORD)).access_token
    return (await container.identity.sessions.authenticate(token)).account_id, token


def _mailer(container: Container) -> InMemoryMailer:
    assert isinstance(container.infra.mailer, InMemoryMailer)
    return container.infra.mailer


async def _report(container: Container, incoming: IncomingReport) -> None:
    """Report, then match what was received (the embedded profile does it seconds later, the worker in production)."""
    await container.children.intake.report(incoming)
    await container.children.matching.run_due()


async def _staff(container: Container, email: str, role: str = "privacy_officer") -> UUID:
    staff_id, _ = await _account(container, email)
    await container.identity.staff.grant(email, role)
    return staff_id


async def test_a_report_opens_an_age_review_stops_generations_and_keeps_no_report_text_in_clear(
    wired: tuple[Container, InMemoryDatabase],
) -> None:
    container, database = wired
    subject, token = await _account(container, "kid@example.com")
    assert container.generation.generations is not None
    queued = await container.generation.generations.submit(subject, GenerationRequest(kind="image", prompt="a cat"))
    other, other_token = await _account(container, "adult@example.com")
    untouched = await container.generation.generations.submit(other, GenerationRequest(kind="image", prompt="a dog"))

    await container.children.intake.report(
        IncomingReport(contact=REPORTER, email="KID@example.com", details=DETAILS, relationship="parent")
    )
    assert database.row_counts()["child_report_inbox"] == 1  # received sealed; nothing looked for the account yet
    assert database.row_counts()["child_reports"] == 0
    await container.children.matching.run_due()
    assert database.row_counts()["child_report_inbox"] == 0

    # the holder keeps their session and can sign in again; they create nothing new
    assert await container.identity.sessions.authenticate(token)
    assert await container.identity.sessions.issue_token("kid@example.com", PASSWORD)
    with pytest.raises(UnderAgeReview):
        await container.generation.generations.submit(subject, GenerationRequest(kind="image", prompt="a cat"))
    assert (await container.generation.generations.get(subject, queued.id)).status is GenerationStatus.CANCELED
    charges = CHARGES[id(container)]
    assert charges.effective(queued.id) == "release"  # the reserved credits went back
    assert (await container.generation.generations.get(other, untouched.id)).status is GenerationStatus.QUEUED
    assert await container.identity.sessions.authenticate(other_token)  # nobody else is touched
    async with container.infra.uow() as uow:
        account = await uow.accounts.get(subject)
        assert account is not None and account.status is AccountStatus.AGE_REVIEW
        report = await uow.child_reports.open_for_subject(subject)
        audit = await uow.audit.list_for_subject(subject)
    assert report is not None and report.suspended_account and report.source is ReportSource.REPORT
    stored = b"".join(v for v in (report.reporters_ciphertext, report.details_ciphertext) if v)
    assert REPORTER.encode() not in stored and b"daughter" not in stored  # sealed with the report's key
    opened = [e for e in audit if e.action == "age_review_opened"]
    assert len(opened) == 1
    assert all(DETAILS not in (e.reason or "") and REPORTER not in (e.reason or "") for e in audit)
    assert database.row_counts()["child_reports"] == 1


async def test_an_unknown_account_leaves_no_trace_and_answers_the_same(
    wired: tuple[Container, InMemoryDatabase],
) -> None:
    container, database = wired
    before = database.row_counts()
    assert await container.children.intake.report(IncomingReport(contact=REPORTER, email="nobody@example.com")) is None
    assert await container.children.intake.report(IncomingReport(contact=REPORTER, account_id=uuid.uuid4())) is None
    assert await container.children.matching.run_due() == {"child_reports_filed": 0, "child_reports_dropped": 2}
    assert database.row_counts() == before
    assert _mailer(container).sent_to(REPORTER) == []


async def test_bad_reports_are_refused(wired: tuple[Container, InMemoryDatabase]) -> None:
    container, _ = wired
    for incoming in (
        IncomingReport(contact=REPORTER),  # neither
        IncomingReport(contact=REPORTER, email="a@example.com", account_id=uuid.uuid4()),  # both
        IncomingReport(contact="not an address", email="a@example.com"),
        IncomingReport(contact=REPORTER, email="a@example.com", relationship="neighbour"),
        IncomingReport(contact=REPORTER, email="a@example.com", details="x" * 2001),
        IncomingReport(contact=REPORTER, email="a@example.com", details="bad\x00text"),
    ):
        with pytest.raises(InvalidInput):
            await container.children.intake.report(incoming)


async def test_reports_about_one_account_merge_and_stop_piling_up(wired: tuple[Container, InMemoryDatabase]) -> None:
    container, database = wired
    subject, _ = await _account(container, "kid@example.com")
    await _report(container, IncomingReport(contact=REPORTER, account_id=subject, details=DETAILS))
    await _report(container, IncomingReport(contact="teacher@example.org", email="kid@example.com"))
    limit = container.children.intake.rules.per_target_limit
    for i in range(limit - 1):
        await _report(container, IncomingReport(contact=f"r{i}@example.org", email="kid@example.com"))
    with pytest.raises(TooManyAttempts):  # per target (the email, the id) at most 5 reports a day
        await container.children.intake.report(IncomingReport(contact="late@example.org", email="kid@example.com"))
    assert database.row_counts()["child_reports"] == 1
    async with container.infra.uow() as uow:
        report = await uow.child_reports.open_for_subject(subject)
    assert report is not None
    # the email and the id count apart; all of them merged into the one open report
    assert report.reports_received == 1 + limit
    staff = await _staff(container, "officer@example.com")
    view = await container.children.review.view(staff, report.id, "reviewing the report")
    assert [r.contact for r in view.reporters][:2] == [REPORTER, "teacher@example.org"]
    assert len(view.reporters) == 5  # later reporters are counted, not stored
    assert view.details == [DETAILS]


async def test_staff_views_are_audited_and_dismissal_lifts_the_review_and_tells_the_reporter(
    wired: tuple[Container, InMemoryDatabase],
) -> None:
    container, _ = wired
    subject, token = await _account(container, "adult@example.com")
    staff = await _staff(container, "officer@example.com")
    await _report(container, IncomingReport(contact=REPORTER, email="adult@example.com", details=DETAILS))
    queue = await container.children.review.queue(staff)
    assert [r.subject_id for r in queue] == [subject]
    with pytest.raises(InvalidInput):
        await container.children.review.view(staff, queue[0].id, "   ")
    await container.children.review.view(staff, queue[0].id, "checking the age")
    dismissed = await container.children.review.dismiss(staff, queue[0].id, "verified ID: adult")
    assert dismissed.status is ReportStatus.DISMISSED and dismissed.closed_at is not None
    with pytest.raises(ReportClosed):
        await container.children.review.confirm(staff, queue[0].id, "too late")
    assert await container.children.review.queue(staff) == []
    # active again; the holder's session lived through the review
    assert await container.identity.sessions.authenticate(token)
    assert container.generation.generations is not None
    assert await container.generation.generations.submit(subject, GenerationRequest(kind="image", prompt="a cat"))
    async with container.infra.uow() as uow:
        audit = await uow.audit.list_for_subject(subject)
    staff_actions = [(e.action, e.reason) for e in audit if e.actor_kind == "staff"]
    assert ("staff_viewed_child_report", "listed in the queue") in staff_actions
    assert ("staff_viewed_child_report", "checking the age") in staff_actions
    assert ("child_report_dismissed", "verified ID: adult") in staff_actions
    assert ("age_review_lifted", "verified ID: adult") in staff_actions
    told = _mailer(container).sent_to(REPORTER)
    assert [m.kind for m in told] == ["child_report_outcome"]
    assert "adult@example.com" not in told[0].body and "verified" not in told[0].body
    holder = [
        m.kind for m in _mailer(container).sent_to("adult@example.com") if m.kind not in ("welcome", "verify_email")
    ]
    assert holder == ["age_review_opened", "age_review_lifted"]


async def test_confirmation_opens_an_erasure_due_at_once(wired: tuple[Container, InMemoryDatabase]) -> None:
    container, _ = wired
    subject, _ = await _account(container, "kid@example.com")
    staff = await _staff(container, "officer@example.com")
    await _report(container, IncomingReport(contact=REPORTER, email="kid@example.com"))
    report = (await container.children.review.queue(staff))[0]
    confirmed = await container.children.review.confirm(staff, report.id, "confirmed with the parent")
    assert confirmed.status is ReportStatus.CONFIRMED and confirmed.erasure_request_id is not None
    requests = await container.data_rights.requests.list_for_subject(subject)
    assert [(r.id, r.type, r.status) for r in requests] == [(confirmed.erasure_request_id, "erasure", "scheduled")]
    assert requests[0].scheduled_for == container.infra.clock.now()
    assert [m.kind for m in _mailer(container).sent_to(REPORTER)] == ["child_report_outcome"]
    assert (await container.data_rights.jobs.run_due())["done"] == 1
    async with container.infra.uow() as uow:
        assert await uow.accounts.get(subject) is None
        (kept,) = await uow.child_reports.list_for_subject(subject) or [None]
    assert kept is None  # the report no longer points at the subject


async def test_a_birth_date_below_the_minimum_age_opens_an_age_review_with_a_report(
    wired: tuple[Container, InMemoryDatabase],
) -> None:
    container, _ = wired
    subject, token = await _account(container, "young@example.com")
    principal = await container.identity.sessions.authenticate(token)
    adult = await container.identity.profiles.update_profile(principal, {"birth_date": "1991-06-02"})
    assert adult.birth_date == date(1991, 6, 2) and adult.status == "active"
    with pytest.raises(InvalidInput):
        await container.identity.profiles.update_profile(principal, {"birth_date": "2999-01-01"})
    with pytest.raises(InvalidInput):
        await container.identity.profiles.update_profile(principal, {"birth_date": "yesterday"})

    child = await container.identity.profiles.update_profile(principal, {"birth_date": "2016-03-04"})
    assert child.birth_date == date(2016, 3, 4) and child.status == "age_review"  # the correction is stored
    assert await container.identity.sessions.authenticate(token)  # the holder keeps their rights
    async with container.infra.uow() as uow:
        report = await uow.child_reports.open_for_subject(subject)
        audit = await uow.audit.list_for_subject(subject)
    assert report is not None and report.source is ReportSource.BIRTH_DATE and report.reporter_key is None
    rectifications = [e.fields for e in audit if e.action == "rectification"]
    assert rectifications == [("birth_date",), ("birth_date",)]
    assert all("2016" not in (e.reason or "") for e in audit)


async def test_retention_drops_reporter_data_after_90_days_and_the_record_after_3_years(
    wired: tuple[Container, InMemoryDatabase],
) -> None:
    container, _ = wired
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    await _account(container, "adult@example.com")
    staff = await _staff(container, "officer@example.com")
    await _report(container, IncomingReport(contact=REPORTER, email="adult@example.com", details=DETAILS))
    report = (await container.children.review.queue(staff))[0]
    await container.children.review.dismiss(staff, report.id, "unfounded")
    names = {"child_reports.reporter_data", "child_reports.closed"}

    async def sweep() -> dict[str, int]:
        return {r.task: r.applied for r in await container.privacy.retention.run() if r.task in names}

    clock.advance(timedelta(days=89))
    assert await sweep() == dict.fromkeys(names, 0)
    clock.advance(timedelta(days=2))
    assert await sweep() == {"child_reports.reporter_data": 1, "child_reports.closed": 0}
    view = await container.children.review.view(staff, report.id, "after the period")
    assert view.reporters == [] and view.details == []
    assert await sweep() == dict.fromkeys(names, 0)  # idempotent
    clock.advance(timedelta(days=3 * 365))
    assert await sweep() == {"child_reports.reporter_data": 0, "child_reports.closed": 1}
    async with container.infra.uow() as uow:
        assert await uow.child_reports.get(report.id) is None


class _Sink:
    """Keeps what a holder exports, per category."""

    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, object]]] = {}

    async def write_records(self, category: str, description: str, records: Any) -> None:
        self.records[category] = [dict(r) async for r in records] if hasattr(records, "__aiter__") else list(records)

    async def write_file(self, path: str, description: str, chunks: Any) -> None:
        raise AssertionError("identity exports no files")


async def test_the_subjects_export_lists_reports_about_them_without_the_reporters_data(
    wired: tuple[Container, InMemoryDatabase],
) -> None:
    container, _ = wired
    subject, _ = await _account(container, "kid@example.com")
    await _report(container, IncomingReport(contact=REPORTER, email="kid@example.com", details=DETAILS))
    await container.children.statements.answer(subject, "I am 36; my birth date is right")
    (identity,) = [h for h in container.data_rights.holders if h.name == "identity"]
    assert (await identity.count(subject))["child_reports"] == 1
    sink = _Sink()
    await identity.export(subject, sink)  # type: ignore[arg-type]
    (exported,) = sink.records["child_reports"]
    assert exported["status"] == "open" and exported["source"] == "report"
    assert exported["your_statement"] == "I am 36; my birth date is right"  # the holder's own words are theirs
    assert REPORTER not in str(exported) and "daughter" not in str(exported)
