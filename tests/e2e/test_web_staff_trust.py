"""The staff console's trust-and-safety pages, in process: support staff open an abuse report with a reason (audited)
and take the generation down or dismiss the report; they lift a moderation pause or suspend the account. The pages
call the API's use cases, so the effects are checked through the API."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.entrypoints.http.auth import SESSION_COOKIE
from dreamina.ports.identity import AccountStatus
from tests.conftest import MEMORY
from tests.contract.moderation_samples import BAD_PHRASE
from tests.http_client import AsyncTestClient

from .helpers import signed_in
from .moderation_rig import REVIEW_THRESHOLD, Rig, rig  # noqa: F401  (the fixture)

pytestmark = pytest.mark.parametrize("_store", [MEMORY], indirect=True)


async def _console(client: AsyncTestClient, email: str, role: str) -> dict[str, str]:
    """A staff browser: its session cookie, the CSRF cookie, and the form token (in ``_csrf_token``)."""
    bearer = await signed_in(client, email)
    await client.app.state.container.identity.staff.grant(email, role)
    sign_in_page = await client.get("/admin")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', sign_in_page.text)
    assert token is not None
    csrf = sign_in_page.headers["set-cookie"].split(";", 1)[0]
    session = bearer["Authorization"].removeprefix("Bearer ")
    return {"Cookie": f"{SESSION_COOKIE}={session}; {csrf}", "_csrf_token": token.group(1)}


async def _post(client: AsyncTestClient, browser: dict[str, str], path: str, reason: str) -> Any:
    form = {"reason": reason, "_csrf_token": browser["_csrf_token"]}
    return await client.post(path, data=form, headers={"Cookie": browser["Cookie"]}, follow_redirects=False)


async def _generation(rig: Rig, owner: dict[str, str], prompt: str) -> str:  # noqa: F811
    created = await rig.client.post("/v1/generations", headers=owner, json={"kind": "image", "prompt": prompt})
    assert created.status_code == 202, created.text
    queue = rig.container.generation.queue
    assert isinstance(queue, ManualJobQueue)
    await queue.drain(rig.container.generation.runner.run)
    return str(created.json()["id"])


async def test_support_takes_a_generation_down_and_dismisses_a_report(rig: Rig) -> None:  # noqa: F811
    client = rig.client
    owner = await signed_in(client, "owner@example.com")
    taken, kept = await _generation(rig, owner, "a purple lighthouse"), await _generation(rig, owner, "a calm lake")
    for generation in (taken, kept):
        body = {"reason": "impersonation", "generation_id": generation, "contact": "viewer@example.org"}
        body["details"] = "this shows my neighbour"
        assert (await client.post("/v1/abuse-reports", json=body)).status_code == 202
    await rig.container.abuse.matching.run_due()  # what the privacy worker does seconds after a report
    support = await _console(client, "desk@example.com", "support")
    cookie = {"Cookie": support["Cookie"]}
    listed = await client.get("/admin/abuse-reports", headers=cookie)
    assert listed.status_code == 200 and "viewer@example.org" not in listed.text  # nothing personal in the list
    ids = {g: re.search(rf'data-id="([^"]+)" data-generation="{g}"', listed.text) for g in (taken, kept)}
    report = {g: m.group(1) for g, m in ids.items() if m is not None}
    assert set(report) == {taken, kept}

    form = await client.get(f"/admin/abuse-reports/{report[taken]}", headers=cookie)
    assert form.status_code == 200 and 'name="reason"' in form.text and "viewer@example.org" not in form.text
    view = await client.get(f"/admin/abuse-reports/{report[taken]}", params={"reason": "triage"}, headers=cookie)
    assert view.status_code == 200 and "viewer@example.org" in view.text and "my neighbour" in view.text
    assert 'action="/admin/abuse-reports/' in view.text

    done = await _post(client, support, f"/admin/abuse-reports/{report[taken]}/takedown", "a real person, no consent")
    assert done.status_code == 303 and done.headers["location"] == "/admin/abuse-reports"
    dismissed = await _post(client, support, f"/admin/abuse-reports/{report[kept]}/dismiss", "a landscape")
    assert dismissed.status_code == 303
    assert (await client.get(f"/v1/generations/{taken}", headers=owner)).status_code == 404
    assert (await client.get(f"/v1/generations/{kept}", headers=owner)).status_code == 200
    again = await _post(client, support, f"/admin/abuse-reports/{report[kept]}/takedown", "changed my mind")
    assert again.status_code == 409 and "text/html" in again.headers["content-type"]  # decided: a page, not a 500
    assert "No open reports." in (await client.get("/admin/abuse-reports", headers=cookie)).text

    officer = await _console(client, "officer@example.com", "privacy_officer")
    refused = await _post(client, officer, f"/admin/abuse-reports/{report[kept]}/dismiss", "not mine to decide")
    assert refused.status_code == 403  # as the API's TRUST_AND_SAFETY guard


async def _paused(rig: Rig, email: str) -> dict[str, str]:  # noqa: F811
    user = await signed_in(rig.client, email)
    for i in range(REVIEW_THRESHOLD):
        body = {"kind": "image", "prompt": f"{BAD_PHRASE} take {i}"}
        assert (await rig.client.post("/v1/generations", json=body, headers=user)).status_code == 422
    return user


async def test_support_lifts_a_moderation_pause_and_suspends_an_account(rig: Rig) -> None:  # noqa: F811
    client = rig.client
    lifted, suspended = await _paused(rig, "lifted@example.com"), await _paused(rig, "suspended@example.com")
    lifted_id, suspended_id = await rig.subject(lifted), await rig.subject(suspended)
    subjects = (str(lifted_id), str(suspended_id))
    support = await _console(client, "moderator@example.com", "support")
    page = await client.get("/admin/moderation", headers={"Cookie": support["Cookie"]})
    assert page.status_code == 200 and BAD_PHRASE not in page.text
    review = {s: re.search(rf'data-id="([^"]+)" data-subject="{s}"', page.text) for s in subjects}
    ids = {s: m.group(1) for s, m in review.items() if m is not None}
    assert len(ids) == 2
    # One form per row: "Lift" posts to its action, "Suspend" to its formaction.
    assert f'formaction="/admin/moderation/{ids[str(suspended_id)]}/suspend"' in page.text

    lift = await _post(client, support, f"/admin/moderation/{ids[str(lifted_id)]}/lift", "false alarm")
    assert lift.status_code == 303 and lift.headers["location"] == "/admin/moderation"
    suspend_path = f"/admin/moderation/{ids[str(suspended_id)]}/suspend"
    suspend = await _post(client, support, suspend_path, "deliberate abuse")
    assert suspend.status_code == 303
    calm = await client.post("/v1/generations", json={"kind": "image", "prompt": "a calm lake"}, headers=lifted)
    assert calm.status_code == 202, calm.text
    async with rig.container.infra.uow() as uow:
        account = await uow.accounts.get(lifted_id)
        assert account is not None and account.status == AccountStatus.ACTIVE
        gone = await uow.accounts.get(suspended_id)
        assert gone is not None and gone.status == AccountStatus.SUSPENDED
    assert "No open reviews." in (await client.get("/admin/moderation", headers={"Cookie": support["Cookie"]})).text
