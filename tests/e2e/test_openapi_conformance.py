"""Schemathesis over the whole OpenAPI schema, with every check it has, as a user and as each staff role.

Each operation runs the examples, coverage and fuzzing phases (positive and negative data, fixed seed): no 5xx,
every response, status, header and content type as documented, schema-valid requests accepted, schema-violating
ones refused, undocumented methods answered 405 with a truthful ``Allow``, and auth never ignored.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.generation.overrides import Override

from dreamina.bootstrap import build_container, memory_database
from dreamina.domain.identity.registrations import SignUp
from dreamina.entrypoints.http.app import create_app
from dreamina.settings import load_settings

from .authorization_audiences import AUDIENCE
from .conftest import UNTHROTTLED, test_overrides
from .helpers import PASSWORD

ROLES = ("user", "support", "privacy_officer", "admin")
SHARDS = 4  # every operation is in exactly one shard; the shards run in parallel under pytest-xdist
MODES = [HypothesisTestMode.EXAMPLES, HypothesisTestMode.COVERAGE, HypothesisTestMode.FUZZING]
FUZZED_EXAMPLES = 10  # per operation, on top of the examples and the coverage phase's cases
# A staff route, as each role but the one that runs every phase on it (the other allowed roles and the refused ones,
# the user among them): its documented examples and a few fuzzed cases, not the coverage phase's hundreds again
OTHER_ROLE_MODES = [HypothesisTestMode.EXAMPLES, HypothesisTestMode.FUZZING]
OTHER_ROLE_EXAMPLES = 3
STAFF_PATHS = "/v1/admin/"
ENDING = {"/v1/auth/logout", "/v1/auth/logout-all"}  # would end the session the others run with: sent without one

load_all_checks()
EVERY_CHECK = list(CHECKS.get_all())

_SECRET = (
    "its input is a secret the client cannot invent (a mailed token or a signature): a schema-valid guess is refused"
)
_CURSOR = "a cursor is opaque: only one the API handed out is accepted (422 otherwise), which no schema can say"
_ACROSS = "a rule across members (JSON Schema could say it only with oneOf/not over optional members): 422 naming it"
RESIDUAL: dict[tuple[str, str], tuple[str, str]] = {
    # (method, path): (the one check left out for this operation, why it cannot hold)
    ("POST", "/v1/auth/verify-email"): ("positive_data_acceptance", _SECRET),
    ("POST", "/v1/me/email/confirm"): ("positive_data_acceptance", _SECRET),
    ("POST", "/v1/me/email/undo"): ("positive_data_acceptance", _SECRET),
    ("POST", "/v1/auth/password-reset/complete"): ("positive_data_acceptance", _SECRET),
    ("POST", "/v1/billing/webhooks/stripe"): ("positive_data_acceptance", _SECRET),
    ("GET", "/v1/marketing/unsubscribe"): ("positive_data_acceptance", _SECRET),
    ("POST", "/v1/marketing/unsubscribe"): ("positive_data_acceptance", _SECRET),
    ("POST", "/v1/support/address-requests/confirm"): ("positive_data_acceptance", _SECRET),
    # email-validator also refuses reserved domains (.test, .invalid, localhost) and quoted local parts: 422
    ("POST", "/v1/support/address-requests"): ("positive_data_acceptance", "addresses our mail cannot reach"),
    ("GET", "/v1/billing/ledger"): ("positive_data_acceptance", _CURSOR),
    ("GET", "/v1/generations"): ("positive_data_acceptance", _CURSOR),
    ("GET", "/v1/uploads"): ("positive_data_acceptance", _CURSOR),
    ("POST", "/v1/privacy/child-reports"): ("positive_data_acceptance", _ACROSS + " (email or account_id, not both)"),
    ("POST", "/v1/abuse-reports"): (
        "positive_data_acceptance",
        _ACROSS + " (generation_id or output_url, not both; a link must be one of our signed download links)",
    ),
    ("POST", "/v1/privacy/requests/{request_id}/verify"): ("positive_data_acceptance", _ACROSS + " (code or password)"),
    ("POST", "/v1/analytics/events"): ("positive_data_acceptance", _ACROSS + " (page for page_view, feature else)"),
    ("POST", "/v1/privacy/requests"): ("positive_data_acceptance", _ACROSS + " (corrections or free_text)"),
    ("GET", "/v1/admin/analytics/summary"): ("positive_data_acceptance", _ACROSS + " (a span of 366 days at most)"),
    ("GET", "/v1/admin/audit-events"): ("positive_data_acceptance", _CURSOR + "; and from is not after to"),
    ("POST", "/v1/admin/policy/versions"): ("positive_data_acceptance", "effective_at needs 30 days' notice from now"),
    ("POST", "/v1/uploads"): ("positive_data_acceptance", "the file must really be a PNG, JPEG or WebP image (415)"),
    ("PATCH", "/v1/me"): ("positive_data_acceptance", "birth_date lies between 1900 and today: no JSON Schema bound"),
    ("POST", "/v1/me/policy-acceptances"): ("positive_data_acceptance", "only the version in effect, which changes"),
    # A generated Idempotency-Key repeats across generated bodies: the second body is refused (422) by design.
    ("POST", "/v1/generations"): ("positive_data_acceptance", "Idempotency-Key reused with another body"),
    # Passwords: common or leaked ones are refused (422) from a list no schema can carry.
    ("POST", "/v1/me/password"): ("positive_data_acceptance", "common and leaked passwords are refused"),
    ("POST", "/v1/accounts"): ("positive_data_acceptance", "common and leaked passwords are refused"),
    # Marketing text also refuses private-use, unassigned and bidirectional-override characters (they can disguise
    # a message), which Python's and ECMA's regular expressions cannot name by Unicode category.
    ("POST", "/v1/admin/marketing/campaigns"): ("positive_data_acceptance", "no private-use or unassigned characters"),
}


@pytest.fixture
def fuzzed_app(tmp_path: Path) -> tuple[Any, dict[str, str]]:
    """The app over a memory store, and an access token per role (staff roles granted as the CLI grants them)."""
    container = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED}),
        uow=memory_database().unit_of_work,
        **test_overrides(),
    )

    async def prepare() -> dict[str, str]:
        await container.start()
        tokens = {}
        for role in ROLES:
            email = f"fuzz-{role.replace('_', '-')}@example.com"
            await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 4, 1), "DE", None, 1))
            if role != "user":
                await container.identity.staff.grant(email, role)
            tokens[role] = (await container.identity.sessions.issue_token(email, PASSWORD)).access_token
        return tokens

    tokens = asyncio.run(prepare())
    return create_app(container=container), tokens


def _full_run_role(operation: Any, index: int) -> str:
    """The role that runs every phase on ``operation``: the user on the routes every account shares; on a staff
    route one of the roles its audience allows, in turn by operation, so each staff role runs every phase somewhere."""
    if not operation.path.startswith(STAFF_PATHS):
        return "user"
    audience = AUDIENCE[(operation.method.upper(), operation.path)]
    allowed = audience.removeprefix("staff:").split(",")
    return allowed[index % len(allowed)]


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_check_holds_as_every_role(shard: int, fuzzed_app: tuple[Any, dict[str, str]]) -> None:
    """Every operation runs every phase (examples, coverage, fuzzing) once, as a role allowed to call it; a staff
    route also runs its examples and a few fuzzed cases as every other role, allowed or refused (the user included):
    the coverage phase's cases differ by role only in the answer's status, which the authorization matrix proves
    cell by cell."""
    app, tokens = fuzzed_app
    cases: Counter[str] = Counter()
    full: Counter[str] = Counter()
    failures: list[str] = []
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    every = sorted((result.ok() for result in schema.get_all_operations()), key=lambda o: (o.path, o.method))
    assert len(every) >= 60
    mine = every[shard::SHARDS]
    for index, operation in enumerate(mine):
        runner = _full_run_role(operation, index)
        for role in ROLES:
            if role != runner and not operation.path.startswith(STAFF_PATHS):
                continue  # the routes every account shares run as the user
            token = None if operation.path in ENDING else tokens[role]
            examples = FUZZED_EXAMPLES if role == runner else OTHER_ROLE_EXAMPLES
            modes = MODES if role == runner else OTHER_ROLE_MODES
            full[role] += role == runner
            cases[role] += _fuzz(operation, role, token, failures, modes, examples)
    report = ", ".join(f"{role}: {cases[role]} ({full[role]} in every phase)" for role in ROLES)
    print(f"schemathesis shard {shard}: {len(mine)} operations, cases per role: {report}; {len(failures)} failures")
    assert not failures, "\n\n".join(failures)
    assert sum(cases.values()) >= 5 * len(mine), "schemathesis generated too few cases to mean anything"
    assert all(cases[role] > 0 for role in ROLES), "a role ran no case"


def _fuzz(operation: Any, role: str, token: str | None, failures: list[str], modes: list[Any], examples: int) -> int:
    """Runs the operation's cases with every check; records each distinct failure; returns how many were sent."""
    sent = 0
    seen: set[str] = set()

    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        sent += 1
        response = case.call()
        try:
            case.validate_response(response, checks=checks, headers=headers or None)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = f"{operation.label} [{type(failure).__name__}]"
                if key not in seen:
                    seen.add(key)
                    answer = f"{response.status_code} {response.text[:300]}"
                    who = role if token else "no one"
                    failures.append(f"{key} as {who}: {failure.title}\n{case.as_curl_command()}\n-> {answer}")

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    residual = RESIDUAL.get((operation.method.upper(), operation.path))
    checks = [check for check in EVERY_CHECK if residual is None or check.__name__ != residual[0]]
    test = create_test(
        operation=operation,
        test_func=run,
        config=HypothesisTestConfig(
            project=operation.schema.config,
            modes=modes,
            override=Override(headers=headers),
            settings=hypothesis.settings(
                max_examples=examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            ),
        ),
    )
    test()
    return sent
