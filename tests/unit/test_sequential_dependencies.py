"""Handler dependencies resolved in order (``entrypoints/http/sequential_dependencies.py``): only over the Litestar
code it was reviewed against, with the same answers, the same cleanup and the same failures as Litestar's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar, get
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from litestar.testing import AsyncTestClient

from dreamina.entrypoints.http import sequential_dependencies
from dreamina.entrypoints.http.sequential_dependencies import REVIEWED, install, original_digest, resolve_in_order


def test_it_replaces_only_the_reviewed_litestar_code() -> None:
    """A Litestar upgrade that changes ``resolve_dependencies`` fails here: review the module against the new code,
    then record the new digest."""
    assert original_digest() == REVIEWED
    assert install() is True
    assert KwargsModel.resolve_dependencies is resolve_in_order


def test_other_code_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(KwargsModel, "resolve_dependencies", sequential_dependencies._ORIGINAL)
    monkeypatch.setattr(sequential_dependencies, "REVIEWED", "0" * 64)
    assert install() is False
    assert KwargsModel.resolve_dependencies is sequential_dependencies._ORIGINAL


async def test_dependencies_answer_clean_up_and_fail_as_before() -> None:
    install()
    events: list[str] = []

    async def first() -> int:
        return 1

    def second() -> int:
        return 2

    async def third(first: NamedDependency[int], second: NamedDependency[int]) -> int:
        return first + second

    async def resource() -> AsyncIterator[str]:
        events.append("opened")
        try:
            yield "resource"
        finally:
            events.append("closed")

    async def refused() -> int:
        raise NotAuthorizedException("no")

    @get("/sum", dependencies={"third": Provide(third), "resource": Provide(resource)})
    async def total(
        first: NamedDependency[int],
        second: NamedDependency[int],
        third: NamedDependency[int],
        resource: NamedDependency[str],
    ) -> dict[str, object]:
        return {"first": first, "second": second, "third": third, "resource": resource}

    @get("/refused", dependencies={"denied": Provide(refused), "resource": Provide(resource)})
    async def denied(denied: NamedDependency[int], resource: NamedDependency[str]) -> None:
        raise AssertionError("never reached")

    app = Litestar(
        [total, denied],
        dependencies={"first": Provide(first), "second": Provide(second, sync_to_thread=False)},
    )
    async with AsyncTestClient(app) as client:
        answer = await client.get("/sum")
        assert answer.status_code == 200
        assert answer.json() == {"first": 1, "second": 2, "third": 3, "resource": "resource"}
        assert events == ["opened", "closed"]
        events.clear()
        assert (await client.get("/refused")).status_code == 401
        assert events in ([], ["opened", "closed"])  # the generator, if it was started, was closed at once
