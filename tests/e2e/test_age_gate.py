"""G8: no account below the jurisdiction's minimum age, for every row of the table; a refusal stores nothing."""

from __future__ import annotations

from datetime import date

import pytest

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.bootstrap import Container
from dreamina.domain.privacy.jurisdictions import load_jurisdictions
from tests.http_client import AsyncTestClient

from .helpers import sign_up_body

TODAY = date(2026, 11, 25)  # the movable clock's date in these tests
TABLE = load_jurisdictions()


def _location(code: str) -> tuple[str, str | None]:
    """A real place each row governs: region rows name their country, country rows stand alone."""
    if code == "fallback":
        return "ZA", None
    if code == "EU":
        return "DE", None
    if code == "US":
        return "US", "US-NY"
    if "-" in code:
        return code.split("-")[0], code
    return code, None


def _born(years_ago: int, *, plus_days: int = 0) -> str:
    from datetime import timedelta

    try:
        birthday = TODAY.replace(year=TODAY.year - years_ago)
    except ValueError:
        birthday = TODAY.replace(year=TODAY.year - years_ago, day=28)
    return (birthday + timedelta(days=plus_days)).isoformat()


ROWS = sorted(TABLE.rules)


@pytest.mark.parametrize("code", ROWS)
async def test_one_day_too_young_is_refused_and_nothing_is_kept(
    code: str, client: AsyncTestClient, container: Container, stored_rows, logs
) -> None:
    country, region = _location(code)
    minimum = TABLE.minimum_age(country, region)
    rule = TABLE.resolve(country, region)
    if code != "EU":
        assert rule.code == code
    before = await stored_rows()
    email = f"young.{code.lower()}@example.com"
    body = sign_up_body(email, country=country, region=region, birth_date=_born(minimum, plus_days=1))
    response = await client.post("/v1/accounts", json=body)
    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["code"] == "age_requirement_not_met"
    assert problem["minimum_age"] == minimum
    assert await stored_rows() == before
    mailer = container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    assert mailer.sent == []
    assert email not in logs.getvalue()
    assert "young." not in logs.getvalue()


@pytest.mark.parametrize("code", ROWS)
async def test_exactly_the_minimum_age_is_accepted(code: str, client: AsyncTestClient) -> None:
    country, region = _location(code)
    minimum = TABLE.minimum_age(country, region)
    body = sign_up_body(f"ok.{code.lower()}@example.com", country=country, region=region, birth_date=_born(minimum))
    response = await client.post("/v1/accounts", json=body)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("country", "region", "minimum"),
    [
        ("US", "US-CA", 13),
        ("CA", "CA-QC", 14),
        ("KR", None, 14),
        ("CN", None, 14),
        ("IN", None, 18),
        ("GB", None, 13),
        ("FR", None, 15),
        ("DE", None, 16),
        ("BE", None, 13),
        ("AT", None, 14),
        ("ZA", None, 16),
    ],
)
def test_minimum_ages_from_the_documented_table(country: str, region: str | None, minimum: int) -> None:
    assert TABLE.minimum_age(country, region) == minimum
