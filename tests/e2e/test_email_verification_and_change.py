"""Verified addresses and the confirmed email change (account-security issue, findings 1, 3 and 7), on memory, SQLite
and PostgreSQL; every mail is asserted through the in-memory mailer the outbox delivers to."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container
from dreamina.ports.tokens import TokenPurpose
from tests.http_client import AsyncTestClient

from .helpers import PASSWORD, mailed_token, sign_up_body, signed_in


def _mailer(container: Container) -> InMemoryMailer:
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    return mailer


def _kinds(container: Container) -> list[tuple[str, str]]:
    return [(m.to, m.kind) for m in _mailer(container).sent]


async def _sign_in(client: AsyncTestClient, email: str, password: str = PASSWORD) -> Any:
    return await client.post("/v1/auth/token", json={"email": email, "password": password})


async def _session(client: AsyncTestClient, email: str) -> dict[str, str]:
    token = await _sign_in(client, email)
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _change(email: str) -> dict[str, str]:
    return {"email": email, "current_password": PASSWORD}


def _invalid_token(response: Any) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_token"


# --- finding 3: verification at sign-up ---------------------------------------------------------------------------


async def test_sign_up_mails_a_one_time_verification_link_and_me_shows_the_state(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "ada@example.com", verified=False)
    assert _kinds(container) == [("ada@example.com", "verify_email")]
    assert (await client.get("/v1/me", headers=headers)).json()["email_verified"] is False

    token = mailed_token(client, "ada@example.com", "verify_email")
    assert (await client.post("/v1/auth/verify-email", json={"token": token})).status_code == 204
    assert (await client.get("/v1/me", headers=headers)).json()["email_verified"] is True
    _invalid_token(await client.post("/v1/auth/verify-email", json={"token": token}))  # single use
    _invalid_token(await client.post("/v1/auth/verify-email", json={"token": "not-a-token"}))


async def test_a_verification_link_expires_and_a_resend_replaces_it(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "late@example.com", verified=False)
    first = mailed_token(client, "late@example.com", "verify_email")
    resent = await client.post("/v1/auth/verify-email/resend", headers=headers)
    assert resent.status_code == 202, resent.text
    second = mailed_token(client, "late@example.com", "verify_email")
    assert second != first
    _invalid_token(await client.post("/v1/auth/verify-email", json={"token": first}))  # replaced
    container.infra.clock.advance(timedelta(hours=25))  # type: ignore[attr-defined]
    _invalid_token(await client.post("/v1/auth/verify-email", json={"token": second}))  # expired
    assert (await client.get("/v1/me", headers=headers)).json()["email_verified"] is False


async def test_resending_is_limited_per_account_and_a_verified_address_gets_nothing(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "again@example.com", verified=False)
    limit = container.identity.verification.rules.resends_per_window
    for _ in range(limit):
        assert (await client.post("/v1/auth/verify-email/resend", headers=headers)).status_code == 202
    refused = await client.post("/v1/auth/verify-email/resend", headers=headers)
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_attempts"
    assert len(_mailer(container).sent) == 1 + limit

    verified = await signed_in(client, "done@example.com")
    sent = len(_mailer(container).sent)
    assert (await client.post("/v1/auth/verify-email/resend", headers=verified)).status_code == 202
    assert len(_mailer(container).sent) == sent


async def test_an_unverified_address_is_sent_only_security_mail(client: AsyncTestClient, container: Container) -> None:
    """Registering somebody else's address mails them the verification question and nothing else: here the export
    code is withheld (the password proves the request instead) until the address is verified."""
    headers = await signed_in(client, "victim@example.com", verified=False)
    export = await client.post("/v1/privacy/requests", headers=headers, json={"type": "export", "details": {}})
    assert export.status_code == 202, export.text
    assert _kinds(container) == [("victim@example.com", "verify_email")]
    subject = UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    assert await container.infra.mail.count_for_subject(subject) == 0  # withheld, not merely undelivered

    token = mailed_token(client, "victim@example.com", "verify_email")
    assert (await client.post("/v1/auth/verify-email", json={"token": token})).status_code == 204
    request_id = export.json()["id"]
    assert (await client.post(f"/v1/privacy/requests/{request_id}/code", headers=headers)).status_code in (202, 204)
    assert _kinds(container)[-1] == ("victim@example.com", "privacy_request_code")


# --- finding 1: the email change needs the password and the new address ------------------------------------------


async def test_an_email_change_without_the_current_password_is_refused_and_changes_nothing(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "owner@example.com")
    before = (await client.get("/v1/me", headers=headers)).json()
    sent = len(_mailer(container).sent)
    for body in (
        {"email": "attacker@evil.example"},
        {"email": "attacker@evil.example", "current_password": "a wrong guess"},
        {"email": "attacker@evil.example", "display_name": "Mallory", "current_password": "a wrong guess"},
    ):
        refused = await client.patch("/v1/me", headers=headers, json=body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "reauthentication_required"
    assert (await client.get("/v1/me", headers=headers)).json() == before
    assert len(_mailer(container).sent) == sent


async def test_wrong_current_passwords_are_counted_by_the_secret_throttle(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "guessed@example.com")
    limit = container.infra.secret_checks.rules.limit
    for _ in range(limit):
        wrong = await client.patch("/v1/me", headers=headers, json={"email": "x@example.org", "current_password": "no"})
        assert wrong.status_code == 403
    blocked = await client.patch(
        "/v1/me", headers=headers, json={"email": "x@example.org", "current_password": PASSWORD}
    )
    assert blocked.status_code == 429, blocked.text  # past the limit even the right password is not checked


async def test_the_address_changes_only_once_the_new_address_confirms(
    client: AsyncTestClient, container: Container
) -> None:
    asking = await signed_in(client, "old@example.com")
    other = await _session(client, "old@example.com")
    changed = await client.patch(
        "/v1/me", headers=asking, json={"email": "new@example.com", "current_password": PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["email"] == "old@example.com"
    assert _kinds(container)[-2:] == [
        ("new@example.com", "email_change_confirm"),
        ("old@example.com", "email_change_requested"),  # told at once, with the undo link
    ]

    # Before confirmation: sign-in with the new address fails, and the next export code goes to the old address.
    assert (await _sign_in(client, "new@example.com")).status_code == 401
    export = await client.post("/v1/privacy/requests", headers=asking, json={"type": "export", "details": {}})
    assert export.status_code == 202
    assert _kinds(container)[-1] == ("old@example.com", "privacy_request_code")

    token = mailed_token(client, "new@example.com", "email_change_confirm")
    assert (await client.post("/v1/me/email/confirm", json={"token": token})).status_code == 204
    me = (await client.get("/v1/me", headers=asking)).json()
    assert (me["email"], me["email_verified"]) == ("new@example.com", True)
    assert (await client.get("/v1/me", headers=other)).status_code == 401  # every other session is signed out
    assert (await _sign_in(client, "new@example.com")).status_code == 200
    assert (await _sign_in(client, "old@example.com")).status_code == 401
    _invalid_token(await client.post("/v1/me/email/confirm", json={"token": token}))  # single use


async def test_undo_from_the_old_address_restores_it_and_signs_out_every_session(
    client: AsyncTestClient, container: Container
) -> None:
    asking = await signed_in(client, "mine@example.com")
    await client.patch("/v1/me", headers=asking, json={"email": "thief@evil.example", "current_password": PASSWORD})
    confirm = mailed_token(client, "thief@evil.example", "email_change_confirm")
    assert (await client.post("/v1/me/email/confirm", json={"token": confirm})).status_code == 204
    thief = await _session(client, "thief@evil.example")

    undo = mailed_token(client, "mine@example.com", "email_change_requested")
    assert (await client.post("/v1/me/email/undo", json={"token": undo})).status_code == 204
    assert (await client.get("/v1/me", headers=asking)).status_code == 401
    assert (await client.get("/v1/me", headers=thief)).status_code == 401
    assert (await _sign_in(client, "thief@evil.example")).status_code == 401
    mine = await _session(client, "mine@example.com")
    me = (await client.get("/v1/me", headers=mine)).json()
    assert (me["email"], me["email_verified"]) == ("mine@example.com", True)
    assert _kinds(container)[-1] == ("mine@example.com", "email_change_undone")
    _invalid_token(await client.post("/v1/me/email/undo", json={"token": undo}))


async def test_undo_before_confirmation_cancels_the_pending_change(
    client: AsyncTestClient, container: Container
) -> None:
    asking = await signed_in(client, "keep@example.com")
    await client.patch("/v1/me", headers=asking, json={"email": "elsewhere@example.com", "current_password": PASSWORD})
    undo = mailed_token(client, "keep@example.com", "email_change_requested")
    assert (await client.post("/v1/me/email/undo", json={"token": undo})).status_code == 204
    confirm = mailed_token(client, "elsewhere@example.com", "email_change_confirm")
    _invalid_token(await client.post("/v1/me/email/confirm", json={"token": confirm}))
    assert (await _sign_in(client, "keep@example.com")).status_code == 200


async def test_an_undo_link_survives_a_later_change(client: AsyncTestClient, container: Container) -> None:
    """Whoever moved the account cannot kill the owner's undo link by asking for another change."""
    asking = await signed_in(client, "first@example.com")
    await client.patch("/v1/me", headers=asking, json={"email": "second@evil.example", "current_password": PASSWORD})
    undo = mailed_token(client, "first@example.com", "email_change_requested")
    confirm = mailed_token(client, "second@evil.example", "email_change_confirm")
    assert (await client.post("/v1/me/email/confirm", json={"token": confirm})).status_code == 204
    await client.patch("/v1/me", headers=asking, json={"email": "third@evil.example", "current_password": PASSWORD})
    assert (await client.post("/v1/me/email/undo", json={"token": undo})).status_code == 204
    assert (await _sign_in(client, "first@example.com")).status_code == 200


# --- finding 7: a taken address answers like a free one ------------------------------------------------------------


async def test_a_taken_address_answers_exactly_like_a_free_one_and_its_owner_is_told(
    client: AsyncTestClient, container: Container
) -> None:
    await signed_in(client, "taken@example.com")
    asking = await signed_in(client, "asker@example.com")
    mailer = _mailer(container)

    start = len(mailer.sent)
    taken = await client.patch(
        "/v1/me", headers=asking, json={"email": "taken@example.com", "current_password": PASSWORD}
    )
    taken_mail = [(m.to, m.kind, m.subject) for m in mailer.sent[start:]]
    start = len(mailer.sent)
    free = await client.patch(
        "/v1/me", headers=asking, json={"email": "free@example.com", "current_password": PASSWORD}
    )
    free_mail = [(m.to, m.kind, m.subject) for m in mailer.sent[start:]]

    assert taken.status_code == free.status_code == 200
    assert taken.json() == free.json()
    assert taken.headers.get("content-type") == free.headers.get("content-type")
    to_requester = [(to, kind, subject) for to, kind, subject in taken_mail if to == "asker@example.com"]
    assert to_requester == [(to, k, s) for to, k, s in free_mail if to == "asker@example.com"]
    assert [kind for to, kind, _ in taken_mail if to == "taken@example.com"] == ["email_address_in_use"]
    assert [kind for to, kind, _ in free_mail if to == "free@example.com"] == ["email_change_confirm"]
    # No link was ever made that could move the account onto the taken address.
    asker = UUID((await client.get("/v1/me", headers=asking)).json()["id"])
    async with container.infra.uow() as uow:
        pending = [
            t for t in await uow.account_tokens.list_for_account(asker) if t.purpose == TokenPurpose.CHANGE_EMAIL
        ]
    assert len(pending) == 1  # the free address's, which replaced nothing usable for the taken one
    assert (await _sign_in(client, "taken@example.com")).status_code == 200  # the owner is untouched


async def test_a_rectification_request_is_no_side_door(client: AsyncTestClient, container: Container) -> None:
    """A privacy rectification that corrects the email needs the password, changes nothing until the new address
    confirms, and answers the same for a taken and a free address."""
    await signed_in(client, "someone@example.com")
    headers = await signed_in(client, "rect@example.com")

    def rectify(email: str, **extra: Any) -> dict[str, Any]:
        return {"type": "rectification", "details": {"corrections": {"email": email}}, **extra}

    bare = await client.post("/v1/privacy/requests", headers=headers, json=rectify("free@example.com"))
    assert bare.status_code == 403 and bare.json()["code"] == "reauthentication_required"

    mailer = _mailer(container)
    answers = []
    for address in ("someone@example.com", "free@example.com"):
        start = len(mailer.sent)
        response = await client.post("/v1/privacy/requests", headers=headers, json=rectify(address, password=PASSWORD))
        to_requester = [(m.kind, m.subject) for m in mailer.sent[start:] if m.to == "rect@example.com"]
        answers.append((response.status_code, _without_ids(response.json()), to_requester))
    assert answers[0] == answers[1]
    assert answers[0][0] == 202
    assert (await client.get("/v1/me", headers=headers)).json()["email"] == "rect@example.com"
    confirm = mailed_token(client, "free@example.com", "email_change_confirm")
    assert (await client.post("/v1/me/email/confirm", json={"token": confirm})).status_code == 204
    assert (await _sign_in(client, "free@example.com")).status_code == 200


def _without_ids(body: dict[str, Any]) -> dict[str, Any]:
    """What may differ between two requests of one subject: their ids and times."""
    return {k: v for k, v in body.items() if k not in {"id", "received_at", "updated_at", "due_at", "history"}}


async def test_sign_up_still_answers_a_taken_address_like_a_free_one(
    client: AsyncTestClient, container: Container
) -> None:
    first = await client.post("/v1/accounts", json=sign_up_body("dup@example.com"))
    second = await client.post("/v1/accounts", json=sign_up_body("dup@example.com"))
    assert first.status_code == second.status_code == 201
    assert _kinds(container) == [("dup@example.com", "verify_email"), ("dup@example.com", "duplicate_signup")]
