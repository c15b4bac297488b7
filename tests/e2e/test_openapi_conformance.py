"""Schemathesis over the whole OpenAPI schema: no 5xx anywhere, and every response conforms to the schema."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from dreamina.bootstrap import build_container, memory_database
from dreamina.entrypoints.http.app import create_app
from dreamina.settings import load_settings

from .conftest import UNTHROTTLED, test_overrides
from .helpers import PASSWORD, sign_up_body


@pytest.fixture
def api_schema(tmp_path: Path) -> schemathesis.schemas.BaseSchema:
    container = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED}),
        uow=memory_database().unit_of_work,
        **test_overrides(),
    )

    async def prepare() -> str:
        await container.start()
        from dreamina.domain.identity.registrations import SignUp

        body = sign_up_body("fuzz@example.com")
        await container.identity.registrations.sign_up(
            SignUp(body["email"], PASSWORD, __import__("datetime").date(1990, 4, 1), "DE", None, 1)
        )
        return (await container.identity.sessions.issue_token("fuzz@example.com", PASSWORD)).access_token

    token = asyncio.run(prepare())
    app = create_app(container=container)
    app.state.fuzz_token = token
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app)


SHARDS = 4  # every operation is in exactly one shard; the shards run in parallel under pytest-xdist


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_operation_conforms(api_schema: schemathesis.schemas.BaseSchema, shard: int) -> None:
    token = api_schema.app.state.fuzz_token
    every = sorted((result.ok() for result in api_schema.get_all_operations()), key=lambda o: (o.path, o.method))
    assert len(every) >= 8
    operations = every[shard::SHARDS]
    cases = sum(_fuzz(operation, token) for operation in operations)
    assert cases >= 5 * len(operations), "schemathesis generated too few cases to mean anything"
    print(f"schemathesis: {cases} cases over {len(operations)} of {len(every)} operations, no 5xx, all conform")


def _fuzz(operation: Any, token: str) -> int:
    """Runs the operation's cases; returns how many were sent."""
    sent = 0
    # Logout would end the session the other operations are fuzzed with; it is fuzzed without a token.
    ending = {"/v1/auth/logout", "/v1/auth/logout-all"}
    headers = None if operation.path in ending else {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case: schemathesis.Case) -> None:
        # Domain rules (email syntax, password length, ISO codes, birth-date bounds) are stricter than a JSON schema
        # can say, so a schema-valid body may get a 422 problem: that one check is left out, every other one runs.
        nonlocal sent
        sent += 1
        case.call_and_validate(headers=headers, excluded_checks=[schemathesis.checks.positive_data_acceptance])

    run()
    return sent
