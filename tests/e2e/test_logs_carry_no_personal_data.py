"""G12: the logs of a whole sign-up / sign-in / profile flow hold no email, password, token or IP address."""

from __future__ import annotations

import json

from tests.http_client import AsyncTestClient

from .helpers import PASSWORD, sign_up_body


async def test_flow_logs_are_json_and_free_of_personal_data(client: AsyncTestClient, logs) -> None:
    email = "private.person@example.com"
    ip_headers = {"X-Forwarded-For": "203.0.113.77", "X-Real-IP": "2001:db8::77"}
    await client.post("/v1/accounts", json=sign_up_body(email, display_name="Very Private"), headers=ip_headers)
    await client.post("/v1/accounts", json=sign_up_body(email), headers=ip_headers)  # duplicate path
    await client.post("/v1/accounts", json=sign_up_body("kid@example.com", birth_date="2020-01-01"))
    bad = await client.post("/v1/auth/token", json={"email": email, "password": "wrong-password"}, headers=ip_headers)
    assert bad.status_code == 401
    token = (await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}", **ip_headers}
    await client.get("/v1/me", headers=auth)
    await client.patch("/v1/me", headers=auth, json={"email": "renamed.person@example.com"})
    await client.get("/v1/me", headers={"Authorization": "Bearer not-a-real-token-1234567890"})
    await client.post("/v1/auth/logout", headers=auth)

    text = logs.getvalue()
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) >= 8  # one access line per request at least
    records = [json.loads(line) for line in lines]  # every line is JSON
    for record in records:
        assert "event" in record and "level" in record
    routes = {r.get("route") for r in records if r["event"] == "request"}
    assert {"/v1/accounts", "/v1/auth/token", "/v1/me", "/v1/auth/logout"} <= routes
    for secret in (
        email,
        "renamed.person@example.com",
        "kid@example.com",
        "Very Private",
        PASSWORD,
        "wrong-password",
        token,
        "203.0.113.77",
        "2001:db8::77",
        "not-a-real-token-1234567890",
    ):
        assert secret not in text, secret
    assert "private.person" not in text
