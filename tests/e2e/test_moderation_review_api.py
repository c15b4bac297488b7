"""Escalation (issue 17): repeated refusals within the window put the account under moderation review; generation
and uploads answer 403 ``moderation_review`` while the holder still reads, corrects and exports; support staff and
admins decide in the queue (lift, or suspend through the account's own suspension), audited. On memory, SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from dreamina.adapters.clock import MovableClock
from dreamina.ports.identity import AccountStatus
from tests.contract.moderation_samples import BAD_PHRASE, benign_image
from tests.e2e.helpers import signed_in

from .moderation_rig import REVIEW_THRESHOLD, Rig, rig  # noqa: F401  (the fixture)

QUEUE = "/v1/admin/moderation/reviews"
REASON = {"reason": "looked at the refusals"}


async def _refuse(r: Rig, headers: dict[str, str], times: int) -> None:
    for i in range(times):
        answer = await r.client.post(
            "/v1/generations", json={"kind": "image", "prompt": f"{BAD_PHRASE} take {i}"}, headers=headers
        )
        assert answer.status_code == 422, answer.text


async def _generate(r: Rig, headers: dict[str, str]) -> Any:
    return await r.client.post("/v1/generations", json={"kind": "image", "prompt": "a calm lake"}, headers=headers)


async def _staff(r: Rig, email: str, role: str) -> dict[str, str]:
    headers = await signed_in(r.client, email)
    await r.container.identity.staff.grant(email, role)
    return headers


async def test_refusals_within_the_window_pause_the_account_until_staff_lift_it(rig: Rig) -> None:  # noqa: F811
    user = await signed_in(rig.client, "repeat@example.com")
    subject = await rig.subject(user)
    support = await _staff(rig, "support@example.com", "support")
    await _refuse(rig, user, REVIEW_THRESHOLD - 1)
    assert (await _generate(rig, user)).status_code == 202  # one short of the threshold: nothing paused

    await _refuse(rig, user, 1)

    paused = await _generate(rig, user)
    assert paused.status_code == 403 and paused.json()["code"] == "moderation_review", paused.text
    upload = await rig.client.post("/v1/uploads", files={"file": ("a.png", benign_image(), "image/png")}, headers=user)
    assert upload.status_code == 403 and upload.json()["code"] == "moderation_review"
    assert (await rig.client.get("/v1/me", headers=user)).status_code == 200  # the holder keeps their rights
    assert (await rig.client.get("/v1/generations", headers=user)).status_code == 200
    assert (await rig.client.patch("/v1/me", json={"display_name": "Still Me"}, headers=user)).status_code == 200

    assert (await rig.client.get(QUEUE, headers=user)).status_code == 403  # not staff
    listed = await rig.client.get(QUEUE, headers=support)
    assert listed.status_code == 200, listed.text
    [review] = listed.json()["reviews"]
    assert (review["subject_id"], review["status"], review["refusals"]) == (str(subject), "open", REVIEW_THRESHOLD)
    assert "prompt" not in listed.text and BAD_PHRASE not in listed.text

    lifted = await rig.client.post(f"{QUEUE}/{review['id']}/lift", json=REASON, headers=support)
    assert lifted.status_code == 200 and lifted.json()["status"] == "lifted", lifted.text
    again = await rig.client.post(f"{QUEUE}/{review['id']}/suspend", json=REASON, headers=support)
    assert again.status_code == 409 and again.json()["code"] == "review_closed"
    assert (await _generate(rig, user)).status_code == 202
    assert (await rig.client.get(QUEUE, headers=support)).json()["reviews"] == []
    async with rig.container.infra.uow() as uow:
        events = await uow.audit.list_for_subject(subject)
    actions = [(e.action, e.actor_kind.value) for e in events if e.action.startswith("moderation_review")]
    assert sorted(actions) == [("moderation_review_lifted", "staff"), ("moderation_review_opened", "system")]
    viewed = [e for e in events if e.action == "staff_viewed_moderation_review"]
    assert len(viewed) == 1 and viewed[0].actor_kind.value == "staff"  # the one listing that showed it
    assert [e.reason for e in events if e.action == "moderation_review_lifted"] == [REASON["reason"]]


async def test_suspend_suspends_the_account_and_stops_its_queued_jobs(rig: Rig) -> None:  # noqa: F811
    user = await signed_in(rig.client, "abuser@example.com")
    subject = await rig.subject(user)
    admin = await _staff(rig, "admin@example.com", "admin")
    queued = (await _generate(rig, user)).json()["id"]  # submitted before the pause, not yet run
    await _refuse(rig, user, REVIEW_THRESHOLD)
    [review] = (await rig.client.get(QUEUE, headers=admin)).json()["reviews"]
    empty = await rig.client.post(f"{QUEUE}/{review['id']}/suspend", json={"reason": " "}, headers=admin)
    assert empty.status_code in (400, 422)

    suspended = await rig.client.post(f"{QUEUE}/{review['id']}/suspend", json=REASON, headers=admin)

    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended", suspended.text
    async with rig.container.infra.uow() as uow:
        account = await uow.accounts.get(subject)
        job = await uow.generations.get(uuid.UUID(queued))
    assert account is not None and account.status is AccountStatus.SUSPENDED
    assert job is not None and job.status.value == "canceled"
    assert rig.charges.effective(uuid.UUID(queued)) == "release"
    assert (await rig.client.get("/v1/me", headers=user)).status_code == 401
    missing = await rig.client.post(f"{QUEUE}/{uuid.uuid4()}/lift", json=REASON, headers=admin)
    assert missing.status_code == 404


async def test_refusals_outside_the_window_do_not_add_up(rig: Rig) -> None:  # noqa: F811
    user = await signed_in(rig.client, "slow@example.com")
    await _refuse(rig, user, REVIEW_THRESHOLD - 1)
    clock = rig.container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(hours=24, seconds=1))
    await _refuse(rig, user, 1)
    assert (await _generate(rig, user)).status_code == 202


async def test_staff_never_decide_their_own_review(rig: Rig) -> None:  # noqa: F811
    support = await _staff(rig, "self@example.com", "support")
    await _refuse(rig, support, REVIEW_THRESHOLD)
    assert (await rig.client.get(QUEUE, headers=support)).json()["reviews"] == []
    async with rig.container.infra.uow() as uow:
        review = await uow.moderation_reviews.open_for(await rig.subject(support))
    assert review is not None
    own = await rig.client.post(f"{QUEUE}/{review.id}/lift", json=REASON, headers=support)
    assert own.status_code == 404
    colleague = await _staff(rig, "colleague@example.com", "support")  # support does not judge support
    assert (await rig.client.get(QUEUE, headers=colleague)).json()["reviews"] == []
    blocked = await rig.client.post(f"{QUEUE}/{review.id}/lift", json=REASON, headers=colleague)
    assert blocked.status_code == 404
    admin = await _staff(rig, "boss@example.com", "admin")  # a staff member's review: admins decide
    assert [r["id"] for r in (await rig.client.get(QUEUE, headers=admin)).json()["reviews"]] == [str(review.id)]
    assert (await rig.client.post(f"{QUEUE}/{review.id}/lift", json=REASON, headers=admin)).status_code == 200
