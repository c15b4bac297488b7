"""Issue 7's "done when": the child-report flow runs end to end and the residue test passes after it.

A rich account (upload, generation, consents, analytics, checkout, requests, an export) is reported by someone who
is not signed in; it is under age review once matched (the holder also answers the review with a statement); a
privacy officer confirms; the data-rights worker runs the erasure. Then
no table and no object holds the child's id, email, prompt or images, and the report survives only as the declared
pseudonymised record: no link to the subject, no details, the reporter's contact until its own 90 days are up.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.sql.database import Database
from dreamina.bootstrap import Container
from dreamina.domain.identity.child_report_intake import IncomingReport
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.privacy.errors import UnderAgeReview
from dreamina.domain.privacy.pseudonyms import erasure_pseudonym
from dreamina.ports.child_reports import ReportStatus

from .test_erasure_residue import PASSWORD, _needles, _rich_account, scan_objects, scan_tables, wired  # noqa: F401

REPORTER = "worried.parent@example.org"
DETAILS = "my daughter Lily made this account, she is eleven"


async def test_a_confirmed_child_report_leaves_nothing_linking_to_the_child(
    wired: tuple[Container, Database],  # noqa: F811 - the residue test's fixture
) -> None:
    container, database = wired
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    image_a = b"\x89PNG\r\n\x1a\n" + b"child-image-bytes" * 8
    image_b = b"\x89PNG\r\n\x1a\n" + b"adult-image-bytes" * 8
    child = await _rich_account(container, "child@example.com", "a pony in the garden", image_a)
    adult = await _rich_account(container, "adult@example.com", "a lighthouse in fog", image_b)
    child_needles = {
        **_needles(container, child, "child@example.com", "a pony in the garden", image_a),
        "details": b"Lily",
    }
    adult_needles = _needles(container, adult, "adult@example.com", "a lighthouse in fog", image_b)

    token = (await container.identity.sessions.issue_token("child@example.com", PASSWORD)).access_token
    await container.children.intake.report(
        IncomingReport(contact=REPORTER, email="child@example.com", details=DETAILS, relationship="parent")
    )
    await container.children.matching.run_due()
    principal = await container.identity.sessions.authenticate(token)  # the holder keeps their rights
    with pytest.raises(UnderAgeReview):
        await container.billing.checkout.start(principal.account_id, "starter")
    await container.children.statements.answer(child, "I am Lily's mother, this is my account")
    child_needles["statement"] = b"Lily's mother"

    await container.identity.registrations.sign_up(
        SignUp("officer@example.com", PASSWORD, date(1980, 1, 1), "DE", None, 1)
    )
    officer = (await container.identity.staff.grant("officer@example.com", "privacy_officer")).account_id
    (report,) = await container.children.review.queue(officer)
    assert report.subject_id == child
    assert any(f.startswith("child_reports.subject_id") for f in await scan_tables(database, child_needles))
    confirmed = await container.children.review.confirm(officer, report.id, "confirmed with the parent")
    assert (await container.data_rights.jobs.run_due())["done"] >= 1

    assert await scan_tables(database, child_needles) == []
    assert await scan_objects(container, child_needles) == []
    # the report is kept as declared: under the erasure pseudonym, without details, reporter contact still sealed
    async with container.infra.uow() as uow:
        kept = await uow.child_reports.get(report.id)
        assert await uow.child_reports.list_for_subject(child) == []
    assert kept is not None and kept.status is ReportStatus.CONFIRMED
    assert kept.subject_id == erasure_pseudonym(container.infra.vault, child)
    assert kept.details_ciphertext is None and kept.reporters_ciphertext is not None
    assert kept.erasure_request_id == confirmed.erasure_request_id
    # ...and the reporter's contact goes once its 90 days after closing are up
    clock.advance(timedelta(days=91))
    await container.privacy.retention.run()
    async with container.infra.uow() as uow:
        purged = await uow.child_reports.get(report.id)
    assert purged is not None and purged.reporter_key is None and purged.reporters_ciphertext is None

    # the other subject is untouched and the scanner still finds them everywhere
    kept_rows = await scan_tables(database, adult_needles)
    for table in ("accounts", "generations", "uploads", "consent_records", "privacy_requests"):
        assert any(f.startswith(table + ".") for f in kept_rows), table
