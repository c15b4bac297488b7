"""Two child reports about one account arriving at the same moment end in ONE open report holding both reporters
(the stores allow one open report per account; the loser of the race merges into the winner's)."""

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
from dreamina.domain.identity.accounts import SignUp
from dreamina.domain.identity.child_reports import IncomingReport
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
        await container.accounts.sign_up(
            SignUp("kid@example.com", "correct horse battery", date(1990, 1, 1), "DE", None, 1)
        )
        await asyncio.gather(
            container.children.report(IncomingReport(contact="parent@example.org", email="kid@example.com")),
            container.children.report(IncomingReport(contact="teacher@example.org", email="kid@example.com")),
        )
        async with container.uow() as uow:
            account = await uow.accounts.get_by_email_index(container.vault.blind_index("email", "kid@example.com"))
            assert account is not None and account.status is AccountStatus.SUSPENDED
            reports = await uow.child_reports.list_for_subject(account.id)
        assert len(reports) == 1
        assert reports[0].reports_received == 2
        staff_view = container.children._filing.open(reports[0])[0]
        assert sorted(r["contact"] for r in staff_view) == ["parent@example.org", "teacher@example.org"]
    finally:
        await container.aclose()
