"""Authorization matrix: every route of the app has a declared audience, and each audience is enforced.

Every route (the OpenAPI document's operations and the routes it hides, ``HIDDEN``) x every caller kind (anonymous,
user A who owns the resources, user B, support, privacy officer, admin): an allowed caller gets a success status on a
valid request (real ids of objects that exist, real tokens, valid bodies), a refused one gets 401, 403, 404 (where
existence is hidden) or 409 ``no_age_review``. The matrix runs on memory (one app per route) and on SQLite and
PostgreSQL (every route in one app per backend, so the suite stays quick). Audiences: ``authorization_audiences``;
the calls: ``authorization_calls``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from dreamina.adapters.sql.database import Database
from dreamina.bootstrap import Container, build_container
from dreamina.settings import load_settings
from tests.conftest import MEMORY
from tests.http_client import AsyncTestClient

from .authorization_audiences import (
    ALLOW,
    AUDIENCE,
    CALLERS,
    EVERY_ROUTE,
    HIDDEN,
    HOLDER,
    PAGES,
    PUBLIC,
    SUBJECT,
    expected_outcome,
    matches,
)
from .authorization_calls import Scene, call_for, forged_call, owned_first
from .conftest import UNTHROTTLED, app_for, test_overrides
from .helpers import signed_in

Operation = tuple[str, str]


async def _app(
    uow: Any, tmp_path: Any, database: Database | None = None
) -> AsyncIterator[tuple[AsyncTestClient, Container]]:
    """The embedded profile over ``uow``'s store, with the local object store (it signs download URLs)."""
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    overrides = test_overrides()
    del overrides["object_store"]
    container = build_container(settings, uow=uow, **overrides)
    async with AsyncTestClient(app=app_for(container)) as client:
        yield client, container
        await container.aclose()
        if database is not None:
            await database.dispose()


@pytest.fixture
async def app_and_container(uow_factory: Any, tmp_path: Any) -> AsyncIterator[tuple[AsyncTestClient, Container]]:
    async for made in _app(uow_factory, tmp_path):
        yield made


def _routes(app: Litestar) -> set[Operation]:
    """Every (method, path) the app answers, from its own route table (documentation pages aside)."""
    schema_path = app.openapi_config.path if app.openapi_config else "/schema"
    return {
        (method, route.path_format)
        for route in app.routes
        if isinstance(route, HTTPRoute) and not route.path_format.startswith(schema_path)
        for method in route.methods - {"HEAD", "OPTIONS"}
    }


async def _documented(client: AsyncTestClient) -> set[Operation]:
    schema = (await client.get("/schema/openapi.json")).json()
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


@pytest.mark.parametrize("_store", [MEMORY], indirect=True)
async def test_every_route_has_a_declared_audience(app_and_container: tuple[AsyncTestClient, Container]) -> None:
    client, _ = app_and_container
    documented = await _documented(client)
    assert documented - set(AUDIENCE) == set(), "declare the audience of the new operations in AUDIENCE"
    assert set(AUDIENCE) - documented == set(), "AUDIENCE names operations that are not in the OpenAPI document"
    assert set(HIDDEN) & documented == set(), "a route in HIDDEN is documented: move it to AUDIENCE"
    routes = _routes(client.app)
    assert set(PAGES) <= routes, "PAGES names pages the app does not have"
    routes -= set(PAGES)  # cookie-authenticated pages: their own matrix in test_web_pages.py
    assert routes - set(EVERY_ROUTE) == set(), "a route is in neither the OpenAPI document nor HIDDEN nor PAGES"
    assert set(EVERY_ROUTE) - routes == set(), "the matrix names routes the app does not have"


def _code(response: Any) -> object:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


async def _send(client: AsyncTestClient, method: str, headers: dict[str, str], call: Any) -> Any:
    kwargs = dict(call.kwargs)
    return await client.request(method, call.path, headers={**headers, **kwargs.pop("headers", {})}, **kwargs)


# Where the callers other than the owner may act on themselves (sign out, change a password, ask for their erasure,
# give consent): each operation there gets all its callers fresh. Elsewhere they are refused, or act on the owner's
# resources (staff decisions) or with a secret the owner holds, so they may be shared by the operations of one app;
# a shared caller an earlier operation had signed out or changed would get an answer no cell accepts (a refusal must
# have its own status and problem code).
SELF_SERVICE = {SUBJECT, PUBLIC}


async def check_operation(
    client: AsyncTestClient,
    container: Container,
    operation: Operation,
    tag: str,
    shared: dict[str, dict[str, str]] | None = None,
) -> list[str]:
    """Every caller on ``operation``, in a scene of its own (a fresh owner; the other callers from ``shared`` where
    the audience lets them act only on others' resources); the cells that went wrong."""
    method, _ = operation
    audience = EVERY_ROUTE[operation]
    scene = Scene(client, container, tag)
    await scene.cast(None if shared is None or audience in SELF_SERVICE else shared)
    await owned_first(scene, operation, audience)
    wrong: list[str] = []
    # user_a goes last: an allowed call may change or delete the resource the others were refused
    for caller in sorted(CALLERS, key=lambda c: c == "user_a"):
        if audience == HOLDER:  # without the secret: refused, whoever asks
            forged = await _send(client, method, scene.headers[caller], await forged_call(scene, operation))
            if forged.status_code not in {400, 403, 404}:
                wrong.append(f"{operation} {caller} without the secret: {forged.status_code} {forged.text[:200]}")
        outcome = expected_outcome(audience, caller)
        response = await _send(
            client, method, scene.headers[caller], await call_for(scene, operation, caller, audience)
        )
        if not matches(outcome, response.status_code, _code(response)):
            wrong.append(f"{operation} {caller}: wanted {outcome}, got {response.status_code} {response.text[:200]}")
    return wrong


@pytest.mark.parametrize("_store", [MEMORY], indirect=True)
@pytest.mark.parametrize("operation", sorted(EVERY_ROUTE))
async def test_the_matrix_on_memory(operation: Operation, app_and_container: tuple[AsyncTestClient, Container]) -> None:
    """Every route x {anonymous, user A, user B, support, privacy officer, admin}, one app per route."""
    client, container = app_and_container
    assert await check_operation(client, container, operation, "m") == []


@pytest.fixture
async def sql_app(sql_database: Database, tmp_path: Any) -> AsyncIterator[tuple[AsyncTestClient, Container]]:
    """The app over a SQL database of its own, disposed after the test (the store, the app and the scene's direct
    use-case calls share the test's loop, so its connections are pooled)."""
    async for made in _app(sql_database.unit_of_work, tmp_path, sql_database):
        yield made


SQL_SHARDS = 4


@pytest.mark.parametrize("shard", range(SQL_SHARDS))
async def test_the_matrix_on_sql(shard: int, sql_app: tuple[AsyncTestClient, Container]) -> None:
    """The same cells on SQLite and PostgreSQL: every route, each in a scene of its own (``check_operation``), a
    quarter of the routes per app (the quarters run in parallel processes)."""
    client, container = sql_app
    wrong: list[str] = []
    callers = Scene(client, container, f"shared{shard}")
    await callers.cast()
    # Publishing a policy mails every account, and the outbox delivers a batch at a time: later scenes' verification
    # mails would wait behind those notices, so it goes last.
    publish = ("POST", "/v1/admin/policy/versions")
    for number, operation in enumerate(sorted(EVERY_ROUTE, key=lambda op: (op == publish, op))):
        if number % SQL_SHARDS == shard:  # publishing, last in the order, is last in its shard too
            wrong += await check_operation(client, container, operation, f"op{number}", callers.headers)
    assert wrong == []


def test_the_matrix_has_refusals_and_covers_every_route_for_six_callers() -> None:
    cells = {(op, caller): expected_outcome(EVERY_ROUTE[op], caller) for op in EVERY_ROUTE for caller in CALLERS}
    assert len(cells) == 6 * len(EVERY_ROUTE)
    assert [cell for cell, outcome in cells.items() if outcome != ALLOW], "everyone may do everything: no proof"


@pytest.mark.parametrize("_store", [MEMORY], indirect=True)
@pytest.mark.parametrize("operation", sorted(k for k, v in AUDIENCE.items() if v == SUBJECT))
async def test_subject_operations_refuse_forged_tokens_and_act_only_on_the_callers_data(
    operation: Operation, app_and_container: tuple[AsyncTestClient, Container]
) -> None:
    client, container = app_and_container
    method, _ = operation
    scene = Scene(client, container, "s")
    await scene.cast()
    call = await call_for(scene, operation, "user_b", SUBJECT)
    forged = await _send(client, method, {"Authorization": "Bearer forged-token-0123456789abcdef"}, call)
    assert forged.status_code == 401 and _code(forged) == "authentication_failed", forged.text
    alice = await signed_in(client, "alice@example.com", display_name="Alice")
    response = await _send(client, method, scene.headers["user_b"], call)
    assert 200 <= response.status_code < 300, response.text
    assert "alice" not in response.text.lower()
    mine = await client.get("/v1/me", headers=alice)
    assert mine.status_code == 200 and mine.json()["email"] == "alice@example.com"
