"""Issue 12, finding 2: a password can be changed and reset, and the subject can see and end their sessions. Mail is
asserted through the outbox (delivered to the in-memory mailer after commit). On memory, SQLite and PostgreSQL."""

from __future__ import annotations

from uuid import UUID

from dreamina.bootstrap import Container
from tests.http_client import AsyncTestClient

from .helpers import PASSWORD, sign_up_body, signed_in
from .security_helpers import advance, mails, reset_token

NEW = "a brand new and unguessable passphrase"


async def _token(client: AsyncTestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_change_password_revokes_every_other_session_and_mails_a_notice(
    client: AsyncTestClient, container: Container
) -> None:
    here = await signed_in(client, "change@example.com")
    there = await _token(client, "change@example.com")
    assert (await client.get("/v1/me", headers=there)).status_code == 200  # checked (and cached) before the change
    changed = await client.post(
        "/v1/me/password", headers=here, json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert changed.status_code == 204, changed.text
    assert (await client.get("/v1/me", headers=here)).status_code == 200  # this session stays
    assert (await client.get("/v1/me", headers=there)).status_code == 401  # every other one is gone
    old = await client.post("/v1/auth/token", json={"email": "change@example.com", "password": PASSWORD})
    assert old.status_code == 401
    await _token(client, "change@example.com", NEW)
    notices = mails(container, "change@example.com", "password_changed")
    assert len(notices) == 1 and NEW not in notices[0].body
    subject = UUID((await client.get("/v1/me", headers=here)).json()["id"])
    async with container.infra.uow() as uow:
        events = [e for e in await uow.audit.list_for_subject(subject) if e.action == "password_changed"]
    assert [(e.fields, e.actor_kind) for e in events] == [(("password_hash",), "subject")]


async def test_change_password_needs_the_current_one_and_is_throttled(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "reauth@example.com")
    limit = container.settings.login_max_failures
    for _ in range(limit):
        wrong = await client.post(
            "/v1/me/password", headers=headers, json={"current_password": "not my password", "new_password": NEW}
        )
        assert wrong.status_code == 403, wrong.text
        assert wrong.json()["code"] == "reauthentication_required"
    blocked = await client.post(
        "/v1/me/password", headers=headers, json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_attempts"
    assert mails(container, "reauth@example.com", "password_changed") == []
    advance(container, container.settings.login_window_seconds + 1)
    ok = await client.post("/v1/me/password", headers=headers, json={"current_password": PASSWORD, "new_password": NEW})
    assert ok.status_code == 204, ok.text


async def test_new_passwords_must_be_long_and_uncommon_everywhere(client: AsyncTestClient) -> None:
    for weak in ("short", "password1234", "qwertyuiop", "1234567890"):
        signup = await client.post("/v1/accounts", json=sign_up_body("weak@example.com", password=weak))
        assert signup.status_code == 422, (weak, signup.text)
        assert signup.json()["field"] == "password"
    headers = await signed_in(client, "strong@example.com")
    changed = await client.post(
        "/v1/me/password", headers=headers, json={"current_password": PASSWORD, "new_password": "password1234"}
    )
    assert changed.status_code == 422 and changed.json()["field"] == "new_password"
    completed = await client.post(
        "/v1/auth/password-reset/complete", json={"token": "0" * 32 + ".x", "new_password": "iloveyou12345"}
    )
    assert completed.status_code == 422 and completed.json()["field"] == "new_password"


async def test_password_reset_answers_alike_and_mails_only_the_account(
    client: AsyncTestClient, container: Container
) -> None:
    here = await signed_in(client, "forgot@example.com")
    there = await _token(client, "forgot@example.com")
    known = await client.post("/v1/auth/password-reset", json={"email": "Forgot@Example.com"})
    unknown = await client.post("/v1/auth/password-reset", json={"email": "stranger@example.com"})
    unmailable = await client.post("/v1/auth/password-reset", json={"email": "not an address"})
    assert known.status_code == unknown.status_code == unmailable.status_code == 202
    assert known.json() == unknown.json() == unmailable.json()
    assert mails(container, "stranger@example.com", "password_reset") == []
    token = reset_token(container, "forgot@example.com")

    done = await client.post("/v1/auth/password-reset/complete", json={"token": token, "new_password": NEW})
    assert done.status_code == 204, done.text
    for headers in (here, there):  # every session, none kept
        assert (await client.get("/v1/me", headers=headers)).status_code == 401
    await _token(client, "forgot@example.com", NEW)
    assert len(mails(container, "forgot@example.com", "password_changed")) == 1
    again = await client.post("/v1/auth/password-reset/complete", json={"token": token, "new_password": NEW + "!"})
    assert again.status_code == 400 and again.json()["code"] == "invalid_token"  # single use


async def test_a_reset_code_expires_after_30_minutes(client: AsyncTestClient, container: Container) -> None:
    await signed_in(client, "late@example.com")
    await client.post("/v1/auth/password-reset", json={"email": "late@example.com"})
    token = reset_token(container, "late@example.com")
    advance(container, 30 * 60 + 1)
    late = await client.post("/v1/auth/password-reset/complete", json={"token": token, "new_password": NEW})
    assert late.status_code == 400 and late.json()["code"] == "invalid_token"
    await _token(client, "late@example.com")  # the old password still works


async def test_wrong_reset_codes_are_throttled_per_account(client: AsyncTestClient, container: Container) -> None:
    await signed_in(client, "guessed@example.com")
    await client.post("/v1/auth/password-reset", json={"email": "guessed@example.com"})
    token = reset_token(container, "guessed@example.com")
    account_hex = token.split(".", 1)[0]
    limit = container.settings.login_max_failures
    for i in range(limit):
        wrong = await client.post(
            "/v1/auth/password-reset/complete", json={"token": f"{account_hex}.guess{i}", "new_password": NEW}
        )
        assert wrong.status_code == 400, wrong.text
    blocked = await client.post("/v1/auth/password-reset/complete", json={"token": token, "new_password": NEW})
    assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_attempts"


async def test_reset_mail_is_limited_per_address(client: AsyncTestClient, container: Container) -> None:
    await signed_in(client, "flooded@example.com")
    for _ in range(12):
        answer = await client.post("/v1/auth/password-reset", json={"email": "flooded@example.com"})
        assert answer.status_code == 202
    assert len(mails(container, "flooded@example.com", "password_reset")) == container.settings.login_max_failures


async def test_logout_all_revokes_every_session_including_this_one(client: AsyncTestClient) -> None:
    here = await signed_in(client, "everywhere@example.com")
    there = await _token(client, "everywhere@example.com")
    out = await client.post("/v1/auth/logout-all", headers=here)
    assert out.status_code == 204
    for headers in (here, there):
        assert (await client.get("/v1/me", headers=headers)).status_code == 401


async def test_the_subject_lists_and_ends_their_own_sessions_only(client: AsyncTestClient) -> None:
    phone_ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    desktop = await signed_in(client, "sessions@example.com")
    signed = await client.post(
        "/v1/auth/token",
        json={"email": "sessions@example.com", "password": PASSWORD},
        headers={"User-Agent": phone_ua},
    )
    phone = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    listed = await client.get("/v1/me/sessions", headers=desktop)
    assert listed.status_code == 200, listed.text
    sessions = listed.json()
    assert len(sessions) == 2
    assert all(set(s) == {"id", "created_at", "last_used_at", "device_class", "current"} for s in sessions)
    assert [s["current"] for s in sessions].count(True) == 1
    other = next(s for s in sessions if not s["current"])
    assert other["device_class"] == "mobile"
    assert "127.0.0.1" not in listed.text and "testclient" not in listed.text  # no address, no user agent

    stranger = await signed_in(client, "stranger2@example.com")
    refused = await client.delete(f"/v1/me/sessions/{other['id']}", headers=stranger)
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert (await client.get("/v1/me", headers=phone)).status_code == 200

    ended = await client.delete(f"/v1/me/sessions/{other['id']}", headers=desktop)
    assert ended.status_code == 204
    assert (await client.get("/v1/me", headers=phone)).status_code == 401
    assert (await client.get("/v1/me", headers=desktop)).status_code == 200
