"""Schemathesis over the payment sandbox's hosted pages, which the published schema leaves out (they are HTML for a
person, not API): a hand-written OpenAPI description of the two operations is fuzzed against the real app. The
checkout id is drawn from real open checkouts, a paid one and arbitrary text; the form from test cards, test IBANs
and arbitrary fields. Every answer is a deliberate one, never a 5xx: a page, 402 declined, 410 closed or 422 invalid
(HTML with the page's own CSP, not cached), or 404 for an unknown id (a problem document); no card number is echoed.
"""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dreamina.adapters.payments import events
from dreamina.bootstrap import build_container, memory_database
from dreamina.domain.identity.registrations import SignUp
from dreamina.entrypoints.http.app import create_app
from dreamina.settings import load_settings

from .billing_helpers import sandbox
from .conftest import UNTHROTTLED, test_overrides
from .helpers import PASSWORD

PAGE = "/v1/billing/sandbox/checkout/{session_id}"
CARDS = ["4242 4242 4242 4242", "4000000000000002", "4242424242424241", "", "x" * 40]
PLAUSIBLE = st.one_of(
    st.fixed_dictionaries(
        {
            "number": st.sampled_from(CARDS),
            "exp_month": st.sampled_from(["12", "1", "13", "00"]),
            "exp_year": st.sampled_from(["2031", "2001", "99"]),
            "cvc": st.sampled_from(["123", "1", "12345"]),
        }
    ),
    st.fixed_dictionaries({"iban": st.sampled_from([*events.SEPA_TEST_IBANS, "DE00", ""])}),
)
ANSWERS = {"GET": {200, 404, 410}, "POST": {200, 402, 404, 410, 422}}


def _description() -> dict[str, Any]:
    parameter = {
        "name": "session_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    }
    text = {"type": "string"}
    form = {"type": "object", "properties": dict.fromkeys(("number", "exp_month", "exp_year", "cvc", "iban"), text)}
    html = {"description": "a page", "content": {"text/html": {"schema": {"type": "string"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Dreamina payment sandbox pages", "version": "1"},
        "paths": {
            PAGE: {
                "parameters": [parameter],
                "get": {"operationId": "sandbox_page", "responses": {"default": html}},
                "post": {
                    "operationId": "sandbox_pay",
                    "requestBody": {
                        "required": True,
                        "content": {"application/x-www-form-urlencoded": {"schema": form}},
                    },
                    "responses": {"default": html},
                },
            }
        },
    }


@pytest.fixture
def sandbox_schema(tmp_path: Path) -> schemathesis.schemas.BaseSchema:
    container = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED}),
        uow=memory_database().unit_of_work,
        **test_overrides(),
    )

    async def prepare() -> list[str]:
        await container.start()
        subject = await container.identity.registrations.sign_up(
            SignUp("buyer@example.com", PASSWORD, datetime.date(1990, 4, 1), "DE", None, 1)
        )
        assert container.billing is not None
        ids = [(await container.billing.checkout.start(subject, "starter")).session_id for _ in range(4)]
        paid = await sandbox(container).pay(ids[0], "4242424242424242", "12", "2031", "123")
        assert paid.status == "succeeded", paid.message
        return ids

    ids = asyncio.run(prepare())
    schema = schemathesis.openapi.from_dict(_description())
    schema.app = create_app(container=container)
    schema.app.state.session_ids = ids
    return schema


def test_the_sandbox_pages_answer_every_input_deliberately(sandbox_schema: schemathesis.schemas.BaseSchema) -> None:
    seen: dict[str, set[int]] = {"GET": set(), "POST": set()}
    ids = sandbox_schema.app.state.session_ids
    for result in sandbox_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(), real=st.none() | st.sampled_from(ids), form=st.none() | PLAUSIBLE)
        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def run(case: schemathesis.Case, real: str | None, form: dict[str, str] | None) -> None:
            if real is not None:  # a real checkout (open, or the paid one) rather than a made-up id
                case.path_parameters = {"session_id": real}
            if form is not None and case.method == "POST":  # a test card or IBAN, not only random text
                case.body = form
            response = case.call()
            assert response.status_code in ANSWERS[case.method], (case.method, response.status_code, response.text)
            kind = response.headers["content-type"][0]
            if response.status_code == 404:  # no such checkout: the API's problem document
                assert kind == "application/problem+json", kind
            else:
                assert kind.startswith("text/html"), kind
                assert "frame-ancestors 'none'" in response.headers["content-security-policy"][0]
                assert response.headers["cache-control"][0] == "no-store"
            sent = case.body if isinstance(case.body, dict) else {}
            number = "".join(ch for ch in str(sent.get("number", "")) if ch.isdigit())
            if len(number) >= 12:
                assert number not in "".join(ch for ch in response.text if ch.isdigit()), "card number echoed"
            seen[case.method].add(response.status_code)

        run()
    # the fuzzing reached the pages themselves, not only the 404 for a made-up id
    assert {200, 404, 410} <= seen["GET"], seen
    assert 200 in seen["POST"] and 404 in seen["POST"] and seen["POST"] & {402, 410, 422}, seen
