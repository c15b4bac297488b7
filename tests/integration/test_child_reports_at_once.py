"""Two child reports about one account matched at the same moment end in ONE open report holding both reporters
(the stores allow one open report per account; the loser of the race merges into the winner's), each received
report matched once however many matchers run."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.crypto import InMemoryKeyVault
from dreamina.adapters.memory.generation import ManualJobQueue, RecordingCharges
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.adapters.passwords import Argon2PasswordHasher
from dreamina.bootstrap import build_container
from dreamina.domain.identity.child_report_intake import IncomingReport
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.privacy.errors import StoreBusy
from dreamina.ports.child_reports import ReportStatus
from dreamina.ports.identity import AccountStatus
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from dreamina.settings import load_settings
from tests.e2e.conftest import START


async def test_two_reports_at_once_make_one_open_report(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    container = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}),
        uow=uow_factory,
        clock=MovableClock(START),
        vault=InMemoryKeyVault(),
        mailer=InMemoryMailer(),
        passwords=Argon2PasswordHasher.fast(),
        object_store=InMemoryObjectStore(),
        job_queue=ManualJobQueue(),
        charges=RecordingCharges(),
    )
    await container.start()
    try:
        await container.identity.registrations.sign_up(
            SignUp("kid@example.com", "correct horse battery", date(1990, 1, 1), "DE", None, 1)
        )
        await asyncio.gather(
            container.children.intake.report(IncomingReport(contact="parent@example.org", email="kid@example.com")),
            container.children.intake.report(IncomingReport(contact="teacher@example.org", email="kid@example.com")),
        )
        passes = await asyncio.gather(container.children.matching.run_due(), container.children.matching.run_due())
        assert sum(p["child_reports_filed"] for p in passes) == 2  # each received report filed exactly once
        async with container.infra.uow() as uow:
            account = await uow.accounts.get_by_email_index(
                container.infra.vault.blind_index("email", "kid@example.com")
            )
            assert account is not None and account.status is AccountStatus.AGE_REVIEW
            assert await uow.child_report_inbox.oldest(10) == []
            reports = await uow.child_reports.list_for_subject(account.id)
        assert len(reports) == 1
        assert reports[0].reports_received == 2
        staff_view = container.children.review._filing.open(reports[0])[0]
        assert sorted(r["contact"] for r in staff_view) == ["parent@example.org", "teacher@example.org"]
    finally:
        await container.aclose()


async def test_two_staff_decisions_at_once_have_one_winner_and_one_erasure(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    from dreamina.domain.identity.child_report_review import ReportClosed

    container = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}),
        uow=uow_factory,
        clock=MovableClock(START),
        vault=InMemoryKeyVault(),
        mailer=InMemoryMailer(),
        passwords=Argon2PasswordHasher.fast(),
        object_store=InMemoryObjectStore(),
        job_queue=ManualJobQueue(),
        charges=RecordingCharges(),
    )
    await container.start()
    try:
        for email in ("kid@example.com", "officer@example.com"):
            await container.identity.registrations.sign_up(
                SignUp(email, "correct horse battery", date(1990, 1, 1), "DE", None, 1)
            )
        officer = (await container.identity.staff.grant("officer@example.com", "privacy_officer")).account_id
        await container.children.intake.report(IncomingReport(contact="parent@example.org", email="kid@example.com"))
        await container.children.matching.run_due()
        async with container.infra.uow() as uow:
            (report,) = await uow.child_reports.list_open(10)
        outcomes = await asyncio.gather(
            container.children.review.confirm(officer, report.id, "the parent sent proof"),
            container.children.review.confirm(officer, report.id, "the parent sent proof"),
            container.children.review.dismiss(officer, report.id, "looks unfounded"),
            return_exceptions=True,
        )
        won = [o for o in outcomes if not isinstance(o, BaseException)]
        lost = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(won) <= 1, outcomes
        assert all(isinstance(o, ReportClosed | StoreBusy) for o in lost), outcomes
        if not any(isinstance(o, StoreBusy) for o in lost):
            assert len(won) == 1, outcomes  # PostgreSQL: the row lock decides, nobody is told to retry
        if not won:  # SQLite told every decision to try again: nothing happened, and a retry decides
            async with container.infra.uow() as uow:
                still = await uow.child_reports.get(report.id)
                assert still is not None and still.status is ReportStatus.OPEN
                assert await uow.privacy_requests.list_for_subject(report.subject_id) == []
            won = [await container.children.review.confirm(officer, report.id, "the parent sent proof")]
        async with container.infra.uow() as uow:
            requests = await uow.privacy_requests.list_for_subject(report.subject_id)
            final = await uow.child_reports.get(report.id)
        assert final is not None and final.status is won[0].status
        assert len(requests) == (1 if final.status is ReportStatus.CONFIRMED else 0)
    finally:
        await container.aclose()
