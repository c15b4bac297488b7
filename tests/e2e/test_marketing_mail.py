"""Marketing mail (issue 16 finding 10): the ``marketing`` consent and the ``marketing`` objection mean something.

An admin's campaign is mailed by a job, batch by batch, to exactly the subjects who may receive it at the moment
their batch runs; every mail carries a one-click unsubscribe link (RFC 8058) that records an objection without
signing in; a killed run resumes without skipping or repeating anybody; the logs carry counts, never addresses.
Every test runs on memory, SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container
from dreamina.domain.consent.marketing import MarketingMail
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.entrypoints.workers.data_rights import DataRightsRunner
from dreamina.ports.mail import MailMessage
from tests.http_client import AsyncTestClient

from .data_rights_helpers import submit, submit_proven
from .helpers import signed_in

SUBJECT_LINE = "New styles at Dreamina"
BODY = "Three new styles are live.\nTry them today."


def _mailer(container: Container) -> InMemoryMailer:
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    return mailer


def _marketing(container: Container) -> list[MailMessage]:
    return [m for m in _mailer(container).sent if m.kind == "marketing"]


async def _subject(client: AsyncTestClient, headers: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await client.get("/v1/me", headers=headers)).json()["id"])


async def _consenting(client: AsyncTestClient, email: str, **sign_up: Any) -> dict[str, str]:
    headers = await signed_in(client, email, **sign_up)
    given = await client.put(
        "/v1/consent", json={"functional": True, "analytics": False, "marketing": True}, headers=headers
    )
    assert given.status_code == 200 and given.json()["marketing"] is True, given.text
    return headers


async def _admin(client: AsyncTestClient, container: Container) -> dict[str, str]:
    headers = await signed_in(client, "boss@example.com")
    await container.identity.staff.grant("boss@example.com", "admin")
    return headers


async def _campaign(client: AsyncTestClient, admin: dict[str, str]) -> dict[str, Any]:
    created = await client.post(
        "/v1/admin/marketing/campaigns", json={"subject_line": SUBJECT_LINE, "body": BODY}, headers=admin
    )
    assert created.status_code == 201, created.text
    body = dict(created.json())
    assert (body["status"], body["sent"], body["skipped"]) == ("pending", 0, 0)
    return body


async def _status(client: AsyncTestClient, admin: dict[str, str], campaign_id: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/admin/marketing/campaigns/{campaign_id}", headers=admin)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def _readers_and_admin(
    client: AsyncTestClient, container: Container, count: int
) -> tuple[set[str], dict[str, str]]:
    """``count`` consenting readers, then an admin (who gave no consent: one skipped account)."""
    readers = {f"reader{i}@example.com" for i in range(count)}
    for email in sorted(readers):
        await _consenting(client, email)
    return readers, await _admin(client, container)


def _job(container: Container, batch_size: int) -> MarketingMail:
    infra, marketing = container.infra, container.consent.marketing
    return MarketingMail(
        uow=infra.uow,
        mail=infra.mail,
        keyrings=infra.keyrings,
        links=marketing.links,
        clock=infra.clock,
        batch_size=batch_size,
    )


async def test_only_subjects_who_may_receive_it_get_it(client: AsyncTestClient, container: Container) -> None:
    """Each exclusion on its own account: every other condition holds for it."""
    await _consenting(client, "yes@example.com")
    await signed_in(client, "never@example.com")  # no consent record at all
    withdrawn = await _consenting(client, "withdrawn@example.com")
    off = {"functional": True, "analytics": False, "marketing": False}
    assert (await client.put("/v1/consent", json=off, headers=withdrawn)).status_code == 200
    objector = await _consenting(client, "objector@example.com")
    objection = {"purpose": "marketing", "objected": True}
    assert (await client.put("/v1/me/objections", json=objection, headers=objector)).status_code == 200
    requested = await _consenting(client, "requested@example.com")
    assert (await submit(client, requested, "objection", {"purpose": "marketing"}))["status"] == "completed"
    gpc = await _consenting(client, "gpc@example.com")
    assert (await client.get("/v1/consent", headers={**gpc, "Sec-GPC": "1"})).json()["marketing"] is False
    restricted = await _consenting(client, "restricted@example.com")
    restriction = {"action": "restrict", "reason": "accuracy contested"}
    assert (await submit(client, restricted, "restriction", restriction))["status"] == "completed"
    erasing = await _consenting(client, "erasing@example.com")
    assert (await submit_proven(client, erasing, "erasure"))["status"] == "scheduled"  # still active in its grace
    await _consenting(client, "unverified@example.com", verified=False)
    suspended = await _subject(client, await _consenting(client, "suspended@example.com"))
    async with container.infra.uow() as uow:
        account = await uow.accounts.get(suspended)
        assert account is not None and account.suspend(container.infra.clock.now())
        await uow.accounts.update(account)
        await uow.commit()
    admin = await _admin(client, container)
    campaign = await _campaign(client, admin)

    assert await container.consent.marketing.send_due() == 1
    assert await container.consent.marketing.send_due() == 0  # done: a second pass mails nobody
    [mail] = _marketing(container)
    assert (mail.to, mail.subject) == ("yes@example.com", SUBJECT_LINE)
    assert mail.body.startswith(BODY) and mail.list_unsubscribe is not None and mail.list_unsubscribe in mail.body
    status = await _status(client, admin, campaign["id"])
    # the active accounts of the audience: yes, never, withdrawn, objector, requested, gpc, restricted, erasing,
    # unverified and the admin (the suspended account is not active)
    assert (status["status"], status["sent"], status["skipped"]) == ("done", 1, 9)
    assert status["finished_at"] is not None


async def test_accounts_created_after_the_campaign_are_not_its_audience(
    client: AsyncTestClient, container: Container
) -> None:
    admin = await _admin(client, container)
    campaign = await _campaign(client, admin)
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(seconds=1))
    await _consenting(client, "late@example.com")
    assert await container.consent.marketing.send_due() == 0
    assert (await _status(client, admin, campaign["id"]))["skipped"] == 1  # the admin alone


async def test_a_withdrawal_just_before_the_batch_reaches_them_wins(
    client: AsyncTestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    subjects = {email: await _consenting(client, email) for email in ("one@example.com", "two@example.com")}
    ids = {email: await _subject(client, headers) for email, headers in subjects.items()}
    first, second = sorted(ids, key=lambda email: ids[email].bytes)  # the order the job takes them in
    admin = await _admin(client, container)
    campaign = await _campaign(client, admin)
    job = _job(container, batch_size=1)
    send_batch = job._send_batch
    batches = 0

    async def withdraw_after_the_first_batch(campaign_id: uuid.UUID) -> Any:
        nonlocal batches
        result = await send_batch(campaign_id)
        batches += 1
        if batches == 1:
            off = {"functional": False, "analytics": False, "marketing": False}
            assert (await client.put("/v1/consent", json=off, headers=subjects[second])).status_code == 200
        return result

    monkeypatch.setattr(job, "_send_batch", withdraw_after_the_first_batch)
    assert await job.send_due() == 1
    assert [m.to for m in _marketing(container)] == [first]
    status = await _status(client, admin, campaign["id"])
    assert (status["status"], status["sent"], status["skipped"]) == ("done", 1, 2)


async def test_an_interrupted_run_resumes_without_skipping_or_repeating_anybody(
    client: AsyncTestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    readers, admin = await _readers_and_admin(client, container, 11)
    campaign = await _campaign(client, admin)
    job = _job(container, batch_size=3)
    eligible = job._eligible_address
    looked_up = 0

    async def killed_in_the_third_batch(*args: Any) -> str | None:
        nonlocal looked_up
        looked_up += 1
        if looked_up == 8:  # the second recipient of the third batch: its first one was already queued
            raise RuntimeError("the worker was killed mid-batch")
        return await eligible(*args)

    monkeypatch.setattr(job, "_eligible_address", killed_in_the_third_batch)
    with pytest.raises(RuntimeError):
        await job.send_due()
    midway = await _status(client, admin, campaign["id"])
    assert (midway["status"], midway["sent"] + midway["skipped"]) == ("sending", 6)
    assert len(_marketing(container)) == midway["sent"]  # the killed batch's queued mail went with its rollback

    assert await job.send_due() == len(readers) - midway["sent"]
    assert Counter(m.to for m in _marketing(container)) == Counter({email: 1 for email in readers})
    done = await _status(client, admin, campaign["id"])
    assert (done["status"], done["sent"], done["skipped"]) == ("done", len(readers), 1)


async def test_two_senders_at_once_mail_everybody_once(client: AsyncTestClient, container: Container) -> None:
    readers, admin = await _readers_and_admin(client, container, 7)
    campaign = await _campaign(client, admin)
    sent = await asyncio.gather(
        _job(container, 2).send(uuid.UUID(campaign["id"])), _job(container, 3).send(uuid.UUID(campaign["id"]))
    )
    assert sum(sent) == len(readers)
    assert Counter(m.to for m in _marketing(container)) == Counter({email: 1 for email in readers})


async def test_the_unsubscribe_link_works_in_one_click_without_signing_in(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await _consenting(client, "reader@example.com")
    admin = await _admin(client, container)
    await _campaign(client, admin)
    await container.consent.marketing.send_due()
    [mail] = _marketing(container)
    assert mail.list_unsubscribe is not None
    link = urlsplit(mail.list_unsubscribe)
    target = f"{link.path}?{link.query}"

    page = await client.get(target)  # what a scanner or a link preview fetches: it changes nothing
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), page.text
    assert "method=post" in page.text and "List-Unsubscribe" in page.text
    assert (await client.get("/v1/me/objections", headers=headers)).json()["objections"] == []

    one_click = {
        "content": b"List-Unsubscribe=One-Click",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }
    first = await client.post(target, **one_click)  # RFC 8058: what the mail client sends, no session, no cookie
    assert first.status_code == 200, first.text
    again = await client.post(target, **one_click)
    assert (again.status_code, again.text) == (200, first.text)  # idempotent
    [objection] = (await client.get("/v1/me/objections", headers=headers)).json()["objections"]
    assert (objection["purpose"], objection["objected"]) == ("marketing", True)

    await _campaign(client, admin)
    await container.consent.marketing.send_due()
    assert len(_marketing(container)) == 1  # the next campaign does not reach them


async def test_the_link_answers_alike_for_every_account_and_refuses_forgeries(
    client: AsyncTestClient, container: Container, stored_rows: Any
) -> None:
    headers = await _consenting(client, "restricted@example.com")
    subject = await _subject(client, headers)
    restriction = {"action": "restrict", "reason": "accuracy contested"}
    assert (await submit(client, headers, "restriction", restriction))["status"] == "completed"
    links, clock = container.consent.marketing.links, container.infra.clock

    def target(subject_id: uuid.UUID) -> str:
        link = urlsplit(links.url(subject_id, clock.now()))
        return f"{link.path}?{link.query}"

    restricted = await client.post(target(subject))  # a restricted account still objects
    nobody = await client.post(target(uuid.uuid4()))  # an id of no account (erased, or never one)
    assert (restricted.status_code, nobody.status_code) == (200, 200)
    assert restricted.text == nobody.text  # no oracle: the answer says nothing about the account
    async with container.infra.uow() as uow:
        assert await uow.objections.objects_to(subject, Purpose.MARKETING) is True
    assert (await stored_rows())["objections"] == 1  # nothing recorded for the id of no account

    valid = target(subject)
    forged = [
        valid[:-1] + ("0" if valid[-1] != "0" else "1"),  # a signature that does not match
        "/v1/marketing/unsubscribe?token=" + "A" * 32 + "." + "0" * 64,
        "/v1/marketing/unsubscribe?token=not-a-token",
        "/v1/marketing/unsubscribe",
    ]
    assert isinstance(clock, MovableClock)
    for path in forged:
        for method in ("GET", "POST"):
            refused = await client.request(method, path)
            assert refused.status_code == 400, (method, path, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json"), (method, path)
    clock.advance(timedelta(days=366))  # DREAMINA_MARKETING_UNSUBSCRIBE_LINK_DAYS: 365
    expired = await client.post(valid)
    assert expired.status_code == 400 and expired.json()["code"] == "invalid_token", expired.text


async def test_campaigns_are_for_admins_and_bounded(client: AsyncTestClient, container: Container) -> None:
    admin = await _admin(client, container)
    officer = await signed_in(client, "officer@example.com")
    await container.identity.staff.grant("officer@example.com", "privacy_officer")
    body = {"subject_line": SUBJECT_LINE, "body": BODY}
    refused = await client.post("/v1/admin/marketing/campaigns", json=body, headers=officer)
    assert refused.status_code == 403
    for bad in (
        {"subject_line": "", "body": BODY},
        {"subject_line": "two\nlines", "body": BODY},
        {"subject_line": "x" * 151, "body": BODY},
        {"subject_line": SUBJECT_LINE, "body": "   "},
        {"subject_line": SUBJECT_LINE, "body": "x" * 20_001},
        {"subject_line": SUBJECT_LINE, "body": "nul \x00"},
        {"subject_line": "invoice \u202egnp.exe", "body": BODY},
        {"subject_line": SUBJECT_LINE, "body": "bell \x07"},
        {"subject_line": SUBJECT_LINE, "body": BODY, "to": "everyone"},
    ):
        answer = await client.post("/v1/admin/marketing/campaigns", json=bad, headers=admin)
        assert answer.status_code in (400, 422), (bad, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json"), bad
    family = await client.post(
        "/v1/admin/marketing/campaigns",
        json={"subject_line": "For the whole \U0001f468\u200d\U0001f469\u200d\U0001f467", "body": "Tabs\tand\r\nlines"},
        headers=admin,
    )
    assert family.status_code == 201, family.text  # an emoji sequence (zero-width joiners) is text
    missing = await client.get(f"/v1/admin/marketing/campaigns/{uuid.uuid4()}", headers=admin)
    assert missing.status_code == 404


async def test_the_worker_sends_campaigns_and_logs_counts_not_addresses(
    client: AsyncTestClient, container: Container, logs: io.StringIO
) -> None:
    readers, admin = await _readers_and_admin(client, container, 3)
    await _campaign(client, admin)
    counts = await DataRightsRunner(container).run_once()
    assert counts["marketing_mail_sent"] == 3
    assert {m.to for m in _marketing(container)} == readers
    logged = logs.getvalue()
    assert '"marketing_mail_sent": 3' in logged
    for mail in _marketing(container):
        assert mail.to not in logged and mail.list_unsubscribe not in logged
        assert urlsplit(mail.list_unsubscribe or "").query.removeprefix("token=") not in logged


async def test_an_erasure_moves_a_sending_campaign_off_the_subject(
    client: AsyncTestClient, container: Container
) -> None:
    """G6: the cursor of a campaign that is sending names the last account a batch considered; the erasure of that
    subject moves it off their id, and the campaign goes on from the same place without mailing anyone twice."""
    readers, admin = await _readers_and_admin(client, container, 2)
    campaign = await _campaign(client, admin)
    campaign_id = uuid.UUID(campaign["id"])
    job = _job(container, batch_size=1)
    assert await job._send_batch(campaign_id) is not None  # one batch: one account considered
    async with container.infra.uow() as uow:
        sending = await uow.marketing_campaigns.get(campaign_id)
    assert sending is not None and sending.cursor is not None
    erased = sending.cursor
    async with container.infra.uow() as uow:  # the erasure saga suspends the account before its holders erase
        account = await uow.accounts.get(erased)
        assert account is not None and account.suspend(container.infra.clock.now())
        await uow.accounts.update(account)
        await uow.commit()
    [holder] = [h for h in container.consent.contributes.holders if h.name == "consent"]
    await holder.erase(erased)
    async with container.infra.uow() as uow:
        moved = await uow.marketing_campaigns.get(campaign_id)
    assert moved is not None and moved.cursor is not None and moved.cursor != erased
    await job.send_due()
    assert set(Counter(m.to for m in _marketing(container)).values()) == {1}  # nobody twice
    async with container.infra.uow() as uow:
        done = await uow.marketing_campaigns.get(campaign_id)
    assert done is not None and done.cursor is None and done.sent + done.skipped == len(readers) + 1
