"""Issue 12, finding 4: privacy-request password proofs and one-time codes go through the one throttle, counted
before the check, so twelve wrong passwords no longer leave the thirteenth (right) one through, and six concurrent
code guesses check at most five. On memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from uuid import UUID

from dreamina.bootstrap import Container
from dreamina.domain.data_rights.errors import IdentityProofFailed
from dreamina.domain.privacy.errors import StoreBusy, TooManyAttempts
from tests.http_client import AsyncTestClient

from .data_rights_helpers import last_code, submit
from .helpers import PASSWORD, signed_in


async def test_twelve_wrong_proof_passwords_then_the_right_one_is_throttled(
    client: AsyncTestClient, container: Container
) -> None:
    headers = await signed_in(client, "prover@example.com")
    limit = container.settings.login_max_failures
    statuses = []
    for _ in range(12):
        answer = await client.post(
            "/v1/privacy/requests", headers=headers, json={"type": "export", "password": "guess-guess"}
        )
        statuses.append(answer.status_code)
    assert statuses == [403] * limit + [429] * (12 - limit)
    right = await client.post("/v1/privacy/requests", headers=headers, json={"type": "export", "password": PASSWORD})
    assert right.status_code == 429, right.text
    assert right.json()["code"] == "too_many_attempts"
    assert int(right.headers["retry-after"]) > 0
    listed = await client.get("/v1/privacy/requests", headers=headers)
    assert listed.json()["requests"] == []  # nothing was stored for any of them


async def test_six_concurrent_code_guesses_check_at_most_five(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "coder@example.com")
    request = await submit(client, headers, "export")
    code = last_code(container, "coder@example.com")
    wrong = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 7)]
    path = f"/v1/privacy/requests/{request['id']}/verify"
    answers = await asyncio.gather(*(client.post(path, headers=headers, json={"code": c}) for c in wrong))
    checked = [a for a in answers if a.status_code == 403 and "wrong or has expired" in a.json()["detail"]]
    assert len(checked) <= 5, [a.json() for a in answers]  # at most the limit were compared with the code
    assert all(a.status_code in {403, 429} for a in answers)
    right = await client.post(path, headers=headers, json={"code": code})
    assert right.status_code in {403, 429}, right.text  # the code budget is spent: even the right code waits
    view = await client.get(f"/v1/privacy/requests/{request['id']}", headers=headers)
    assert view.json()["status"] == "awaiting_verification"


async def test_six_concurrent_code_guesses_at_the_use_case_check_at_most_five(
    client: AsyncTestClient, container: Container
) -> None:
    """All six in flight at once, straight into the use case: the per-request count was read before it
    was written, so all six were compared with the code."""
    headers = await signed_in(client, "coder2@example.com")
    request = await submit(client, headers, "export")
    code = last_code(container, "coder2@example.com")
    subject = UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    wrong = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 7)]
    verify = container.data_rights.requests.verify
    outcomes = await asyncio.gather(
        *(verify(subject, UUID(request["id"]), code=c) for c in wrong), return_exceptions=True
    )
    compared = [o for o in outcomes if isinstance(o, IdentityProofFailed) and "wrong or has expired" in o.detail]
    assert len(compared) <= 5, outcomes
    # the others were refused unchecked: by the throttle, or by the request's own count once it was written
    assert all(isinstance(o, IdentityProofFailed | TooManyAttempts | StoreBusy) for o in outcomes), outcomes
