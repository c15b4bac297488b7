"""Bad input gets a 4xx problem-details answer, never a 500, and never changes what is stored."""

from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http_client import AsyncTestClient

from .helpers import sign_up_body

PROBLEM = "application/problem+json"


def _assert_problem(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["status"] == response.status_code
    return body


async def test_malformed_json(client: AsyncTestClient, stored_rows) -> None:
    before = await stored_rows()
    for raw in (b"{", b"not json", b"[]", b"null", b'{"email": }', b"\xff\xfe"):
        response = await client.post("/v1/accounts", content=raw, headers={"content-type": "application/json"})
        assert _assert_problem(response, 400)["code"] in {"malformed_request", "validation_failed"}
    assert await stored_rows() == before


async def test_wrong_types_and_missing_fields(client: AsyncTestClient) -> None:
    cases = [
        {**sign_up_body("t@example.com"), "email": 5},
        {**sign_up_body("t@example.com"), "birth_date": 19900401},
        {**sign_up_body("t@example.com"), "accept_policy_version": [1]},
        {**sign_up_body("t@example.com"), "country": None},
        {k: v for k, v in sign_up_body("t@example.com").items() if k != "password"},
        {**sign_up_body("t@example.com"), "is_admin": True},
    ]
    for body in cases:
        _assert_problem(await client.post("/v1/accounts", json=body), 400)


async def test_invalid_dates(client: AsyncTestClient) -> None:
    for born in ("1990-02-30", "1990-13-01", "01/04/1990", "", "1990-04-01T00:00:00", "\uff19\uff19\uff19\uff19-01-01"):
        _assert_problem(await client.post("/v1/accounts", json=sign_up_body("d@example.com", birth_date=born)), 400)


async def test_unknown_countries_and_regions(client: AsyncTestClient) -> None:
    for country, region in (
        ("XX", None),
        ("USA", None),
        ("", None),
        ("DE", "US-CA"),
        ("US", "US-ZZ"),
        ("U\x00", None),
    ):
        body = _assert_problem(
            await client.post("/v1/accounts", json=sign_up_body("c@example.com", country=country, region=region)),
            422,
        )
        assert body["code"] == "invalid_input"
        assert body["field"] in {"country", "region"}


async def test_nul_bytes_anywhere(client: AsyncTestClient, stored_rows) -> None:
    before = await stored_rows()
    for field in (
        "email",
        "password",
        "country",
        "region",
        "display_name",
        "birth_date",
        "accept_policy_version",
    ):
        body = sign_up_body("nul@example.com", region="DE-BE", display_name="Nul")
        body[field] = f"{body[field]}\x00" if field != "accept_policy_version" else "1\x00"
        _assert_problem(await client.post("/v1/accounts", json=body), 400, 409, 422)
    login = await client.post("/v1/auth/token", json={"email": "a\x00@example.com", "password": "x\x00"})
    _assert_problem(login, 401)
    assert await stored_rows() == before


async def test_ten_megabyte_body(client: AsyncTestClient, stored_rows) -> None:
    before = await stored_rows()
    huge = json.dumps({**sign_up_body("big@example.com"), "display_name": "x" * (10 * 1024 * 1024)})
    response = await client.post("/v1/accounts", content=huge, headers={"content-type": "application/json"})
    assert _assert_problem(response, 413)["code"] == "payload_too_large"
    assert await stored_rows() == before


async def test_unknown_route_and_method(client: AsyncTestClient) -> None:
    _assert_problem(await client.get("/v1/nowhere"), 404)
    _assert_problem(await client.delete("/v1/accounts"), 405)


_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
    st.lists(_text, max_size=2),
)
_field_values = {
    "email": st.one_of(_value, st.emails().map(str)),
    "password": st.one_of(_value, st.text(min_size=10, max_size=30)),
    "birth_date": st.one_of(_value, st.dates().map(str), st.text(alphabet=string.digits + "-", max_size=12)),
    "country": st.one_of(_value, st.sampled_from(["DE", "US", "GB", "KR", "IN", "de", "XX", "EU"])),
    "region": st.one_of(_value, st.sampled_from(["US-CA", "CA-QC", "DE-BE", "US-ZZ"])),
    "accept_policy_version": st.one_of(_value, st.just(1)),
    "display_name": _value,
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({}, optional=_field_values))
async def test_any_sign_up_body_gets_a_2xx_or_a_4xx_problem(client: AsyncTestClient, body: dict) -> None:
    response = await client.post("/v1/accounts", json=body)
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        _assert_problem(response, response.status_code)
    else:
        assert response.status_code == 201
