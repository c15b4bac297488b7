"""Identity over HTTP: sign-up, sign-in, the profile, and what each refusal leaves behind (nothing)."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container, shipped_policy_text
from dreamina.domain.identity.accounts import email_index_of
from tests.http_client import AsyncTestClient

from .helpers import PASSWORD, mailed_token, sign_up_body, signed_in

PROBLEM = "application/problem+json"


async def test_sign_up_sign_in_and_read_profile(client: AsyncTestClient, container: Container) -> None:
    created = await client.post("/v1/accounts", json=sign_up_body("ada@example.com", display_name="Ada"))
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"id"}

    token = await client.post("/v1/auth/token", json={"email": "ADA@example.com ", "password": PASSWORD})
    assert token.status_code == 200, token.text
    issued = token.json()
    assert issued["token_type"] == "bearer"
    assert len(issued["access_token"]) >= 40
    assert issued["expires_at"].startswith("2026-12-02")  # seven days on the movable clock

    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {issued['access_token']}"})
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["id"] == created.json()["id"]
    assert body["email"] == "ada@example.com"
    assert body["display_name"] == "Ada"
    assert body["birth_date"] == "1990-04-01"
    assert body["country"] == "DE"
    assert body["status"] == "active"


async def test_sign_up_records_acceptance_of_the_exact_policy_version(
    client: AsyncTestClient, container: Container
) -> None:
    policy = (await client.get("/v1/privacy/policy")).json()
    by_hash = sign_up_body("hash@example.com", accept_policy_version=policy["content_sha256"])
    created = await client.post("/v1/accounts", json=by_hash)
    assert created.status_code == 201, created.text
    from uuid import UUID

    async with container.infra.uow() as uow:
        acceptances = await uow.acceptances.list_for_subject(UUID(created.json()["id"]))
    assert [(a.policy_version, a.content_sha256, a.method) for a in acceptances] == [
        (1, policy["content_sha256"], "sign_up")
    ]


async def test_outdated_or_unknown_policy_version_is_refused(client: AsyncTestClient) -> None:
    for named in (0, 2, "deadbeef", "", -1):
        response = await client.post("/v1/accounts", json=sign_up_body("p@example.com", accept_policy_version=named))
        assert response.status_code == 409, (named, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["code"] == "policy_version_not_current"
        assert problem["current_version"] == 1


async def test_only_the_version_in_effect_is_accepted_at_sign_up(client: AsyncTestClient, container: Container) -> None:
    """G11 across a policy change: a client that cached the old policy (its number or hash) is refused, a version
    published but not yet in effect is refused, and the acceptance names exactly the version in effect."""
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    old = (await client.get("/v1/privacy/policy")).json()
    text = shipped_policy_text().replace("Last updated: May 2026", "Last updated: January 2027") + "\n"
    new = await container.consent.policy_changes.publish(text, clock.now() + timedelta(days=30))

    early = await client.post("/v1/accounts", json=sign_up_body("early@example.com", accept_policy_version=2))
    assert early.status_code == 409 and early.json()["current_version"] == 1, early.text  # not in effect yet
    clock.advance(timedelta(days=31))
    for named in (1, old["content_sha256"], "1"):
        stale = await client.post("/v1/accounts", json=sign_up_body("stale@example.com", accept_policy_version=named))
        assert stale.status_code == 409, (named, stale.text)
        assert (stale.json()["code"], stale.json()["current_version"]) == ("policy_version_not_current", 2)
    current = await client.post(
        "/v1/accounts", json=sign_up_body("current@example.com", accept_policy_version=new.content_sha256)
    )
    assert current.status_code == 201, current.text
    async with container.infra.uow() as uow:
        acceptances = await uow.acceptances.list_for_subject(UUID(current.json()["id"]))
        refused = await uow.accounts.get_by_email_index(email_index_of(container.infra.vault, "stale@example.com"))
    assert [(a.policy_version, a.content_sha256) for a in acceptances] == [(2, new.content_sha256)]
    assert refused is None  # a refused sign-up stores nothing


async def test_duplicate_email_gets_the_same_answer_and_the_owner_is_told_by_mail(
    client: AsyncTestClient, container: Container
) -> None:
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    first = await client.post("/v1/accounts", json=sign_up_body("dup@example.com"))
    second = await client.post("/v1/accounts", json=sign_up_body("Dup@Example.com", password="another-password"))
    assert first.status_code == second.status_code == 201
    assert set(first.json()) == set(second.json()) == {"id"}
    assert first.json()["id"] != second.json()["id"]
    assert [(m.to, m.kind) for m in mailer.sent] == [
        ("dup@example.com", "verify_email"),
        ("dup@example.com", "duplicate_signup"),
    ]
    # The original password still works; the second one never became an account.
    ok = await client.post("/v1/auth/token", json={"email": "dup@example.com", "password": PASSWORD})
    assert ok.status_code == 200
    no = await client.post("/v1/auth/token", json={"email": "dup@example.com", "password": "another-password"})
    assert no.status_code == 401


async def test_wrong_password_and_unknown_email_look_the_same(client: AsyncTestClient) -> None:
    await client.post("/v1/accounts", json=sign_up_body("known@example.com"))
    wrong = await client.post("/v1/auth/token", json={"email": "known@example.com", "password": "not-the-one!"})
    unknown = await client.post("/v1/auth/token", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "authentication_failed"
    assert wrong.headers["www-authenticate"].startswith("Bearer")


async def test_failed_logins_are_throttled_then_released(client: AsyncTestClient, container: Container) -> None:
    """Past the limit sign-in needs the mailed code (tests/e2e/test_sign_in_throttle.py); the window's end releases."""
    await client.post("/v1/accounts", json=sign_up_body("slow@example.com"))
    for _ in range(container.settings.login_max_failures):
        response = await client.post("/v1/auth/token", json={"email": "slow@example.com", "password": "wrong-pass-1"})
        assert response.status_code == 401
    blocked = await client.post("/v1/auth/token", json={"email": "slow@example.com", "password": PASSWORD})
    assert blocked.status_code == 401
    assert blocked.json()["code"] == "code_required"
    assert blocked.headers["www-authenticate"].startswith("Bearer")
    container.infra.clock.advance(timedelta(seconds=container.settings.login_window_seconds + 1))  # type: ignore[attr-defined]
    released = await client.post("/v1/auth/token", json={"email": "slow@example.com", "password": PASSWORD})
    assert released.status_code == 200


async def test_logout_revokes_the_token(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "bye@example.com")
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    out = await client.post("/v1/auth/logout", headers=headers)
    assert out.status_code == 204
    again = await client.get("/v1/me", headers=headers)
    assert again.status_code == 401
    assert again.json()["code"] == "authentication_failed"


async def test_tokens_expire(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "expiring@example.com")
    container.infra.clock.advance(timedelta(seconds=container.settings.token_ttl_seconds + 1))  # type: ignore[attr-defined]
    assert (await client.get("/v1/me", headers=headers)).status_code == 401


async def test_me_needs_a_valid_bearer_token(client: AsyncTestClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer x"},
    ):
        response = await client.get("/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith(PROBLEM)


async def test_profile_correction_is_audited_as_rectification(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "old@example.com")
    me = (await client.get("/v1/me", headers=headers)).json()
    changed = await client.patch(
        "/v1/me",
        headers=headers,
        json={"email": "New@Example.com", "display_name": "  Grace  ", "current_password": PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["email"] == "old@example.com"  # until the new address confirms
    assert changed.json()["display_name"] == "Grace"
    token = mailed_token(client, "new@example.com", "email_change_confirm")
    assert (await client.post("/v1/me/email/confirm", json={"token": token})).status_code == 204
    container.infra.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    # Unchanged values are not audited again; clearing the display name is.
    again = await client.patch(
        "/v1/me", headers=headers, json={"email": "new@example.com", "current_password": PASSWORD}
    )
    assert again.status_code == 200
    cleared = await client.patch("/v1/me", headers=headers, json={"display_name": None})
    assert cleared.json()["display_name"] is None

    from uuid import UUID

    async with container.infra.uow() as uow:
        events = await uow.audit.list_for_subject(UUID(me["id"]))
    assert sorted((e.action, e.fields, e.actor_kind) for e in events) == [
        ("email_change_requested", ("email",), "subject"),  # asked; the address changes once it confirms
        ("rectification", ("display_name",), "subject"),
        ("rectification", ("display_name",), "subject"),
        ("rectification", ("email",), "subject"),
    ]
    # The new email signs in; the old one no longer does.
    assert (
        await client.post("/v1/auth/token", json={"email": "new@example.com", "password": PASSWORD})
    ).status_code == 200
    assert (
        await client.post("/v1/auth/token", json={"email": "old@example.com", "password": PASSWORD})
    ).status_code == 401


async def test_changing_to_a_taken_email_changes_nothing_and_answers_like_a_free_one(
    client: AsyncTestClient,
) -> None:
    await client.post("/v1/accounts", json=sign_up_body("taken@example.com"))
    headers = await signed_in(client, "mover@example.com")
    response = await client.patch(
        "/v1/me",
        headers=headers,
        json={"email": "taken@example.com", "display_name": "X", "current_password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    me = (await client.get("/v1/me", headers=headers)).json()
    assert (me["email"], me["display_name"]) == ("mover@example.com", "X")
    assert (
        await client.post("/v1/auth/token", json={"email": "taken@example.com", "password": PASSWORD})
    ).status_code == 200


async def test_profile_patch_rejects_unknown_and_invalid_fields(client: AsyncTestClient) -> None:
    headers = await signed_in(client, "strict@example.com")
    for body in ({"country": "FR"}, {"email": None}, {"email": "not-an-email"}, {"display_name": "a\x00b"}):
        response = await client.patch("/v1/me", headers=headers, json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)


async def test_birth_date_must_be_plausible(client: AsyncTestClient) -> None:
    today = date(2026, 11, 25)
    for born in (today + timedelta(days=1), date(1899, 12, 31)):
        response = await client.post("/v1/accounts", json=sign_up_body("d@example.com", birth_date=born.isoformat()))
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "birth_date"
