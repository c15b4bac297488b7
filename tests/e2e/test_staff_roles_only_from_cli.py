"""Staff roles come from the command line only (``dreamina staff create``; the positive path: test_staff_cli.py).

No API operation, called by anyone (admins included) with role-like fields in its body or query, grants, changes or
removes a staff role; and in the code, the staff store is written by the staff directory alone, whose grant and
revoke only the CLI calls.
"""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dreamina.bootstrap import Container, build_container
from dreamina.settings import load_settings
from tests.conftest import MEMORY
from tests.http_client import AsyncTestClient

from .authorization_audiences import CALLERS, EVERY_ROUTE, HOLDER
from .authorization_calls import Call, Scene, call_for
from .conftest import UNTHROTTLED, app_for, test_overrides

SRC = Path(__file__).resolve().parents[2] / "src" / "dreamina"
ROLE_FIELDS: dict[str, Any] = {"role": "admin", "roles": ["admin"], "staff_role": "admin", "is_admin": True}
WRITES = sorted(op for op in EVERY_ROUTE if op[0] in {"POST", "PUT", "PATCH", "DELETE"} and EVERY_ROUTE[op] != HOLDER)


@pytest.fixture
async def app_and_container(uow_factory: Any, tmp_path: Any) -> AsyncIterator[tuple[AsyncTestClient, Container]]:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path), **UNTHROTTLED})
    container = build_container(settings, uow=uow_factory, **test_overrides())
    async with AsyncTestClient(app=app_for(container)) as client:
        yield client, container
    await container.aclose()


def _role_bodies(call: Call, body: Any) -> list[dict[str, Any]]:
    """The call's own body plus one role-like field, for each field in turn (a body refused for one unknown field
    would hide what another does); uploads and raw bodies carry the role in the query only."""
    if "files" in call.kwargs or "content" in call.kwargs:
        return [{}]
    base = body if isinstance(body, dict) else {}
    return [{"json": {**base, name: value}} for name, value in ROLE_FIELDS.items()]


async def _roster(container: Container) -> set[tuple[str, str]]:
    return {(str(m.account_id), m.role.value) for m in await container.identity.staff.members()}


@pytest.mark.parametrize("_store", [MEMORY], indirect=True)
async def test_no_api_operation_grants_or_changes_a_staff_role(
    app_and_container: tuple[AsyncTestClient, Container],
) -> None:
    client, container = app_and_container
    for number, operation in enumerate(WRITES):
        method, _ = operation
        scene = Scene(client, container, f"r{number}")
        await scene.cast()
        granted = await _roster(container)
        for caller in sorted(CALLERS, key=lambda c: c == "user_a"):
            call = await call_for(scene, operation, caller, EVERY_ROUTE[operation])
            body = call.kwargs.pop("json", None)
            params = {**call.kwargs.pop("params", {}), "role": "admin", "staff_role": "admin"}
            for extra in _role_bodies(call, body):
                headers = scene.headers[caller]
                response = await client.request(
                    method, call.path, headers=headers, params=params, **call.kwargs, **extra
                )
                assert response.status_code < 500, (operation, caller, response.text)
        assert await _roster(container) == granted, f"{operation} changed the staff roster"
    refused = await client.get("/v1/admin/privacy/requests", headers=scene.headers["user_b"])
    assert refused.status_code == 403, refused.text


@pytest.mark.parametrize("_store", [MEMORY], indirect=True)
async def test_a_profile_patch_with_a_role_is_refused_for_everyone(
    app_and_container: tuple[AsyncTestClient, Container],
) -> None:
    client, container = app_and_container
    scene = Scene(client, container, "p")
    await scene.cast()
    granted = await _roster(container)
    for caller in ("user_a", "support", "privacy_officer", "admin"):
        for field, value in ROLE_FIELDS.items():
            patched = await client.patch("/v1/me", headers=scene.headers[caller], json={field: value})
            assert patched.status_code == 400 and patched.json()["code"] == "validation_failed", patched.text
    assert await _roster(container) == granted
    still_user = await client.get("/v1/admin/analytics/summary", headers=scene.headers["support"])
    assert still_user.status_code == 403  # support did not become an admin


def _calls(tree: ast.AST) -> list[str]:
    """Dotted names of every attribute call in ``tree`` (``container.identity.staff.grant``, ...)."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            names.append(ast.unparse(node.func))
    return names


def test_only_the_cli_grants_roles_and_only_the_staff_directory_writes_them() -> None:
    """Any ``.grant(...)`` call, and any revoke or ``put`` on something named staff, counts, whatever it is called."""
    granting, writing = set(), set()
    for path in SRC.rglob("*.py"):
        relative = str(path.relative_to(SRC))
        for name in _calls(ast.parse(path.read_text(), str(path))):
            if name.endswith(".grant") or re.search(r"staff\w*\.revoke$", name):
                granting.add(relative)
            if re.search(r"staff\w*\.(put|add|upsert|save)$", name):
                writing.add(relative)
    assert granting == {"entrypoints/cli.py"}, granting
    assert writing == {"domain/identity/staff.py"}, writing
