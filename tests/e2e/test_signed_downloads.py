"""The local object store's signed URLs, served by the app: signature and expiry are checked, nothing else is
reachable (no listing, no traversal), and nothing is public."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.object_store import LocalObjectStore
from dreamina.bootstrap import Container, build_container
from dreamina.settings import load_settings
from tests.e2e.conftest import app_for, test_overrides
from tests.http_client import AsyncTestClient


@pytest.fixture
async def local(tmp_path: Path, uow_factory: object) -> AsyncIterator[tuple[AsyncTestClient, Container]]:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path)})
    overrides = test_overrides()
    del overrides["object_store"]  # the real local store, signing with a key derived from the vault
    container = build_container(settings, uow=uow_factory, **overrides)
    assert isinstance(container.infra.object_store, LocalObjectStore)
    async with AsyncTestClient(app=app_for(container)) as client:
        yield client, container
    await container.aclose()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_signed_url_serves_the_object_until_it_expires(local: tuple[AsyncTestClient, Container]) -> None:
    client, container = local
    await container.infra.object_store.put("outputs/s/g/0.png", b"\x89PNG fake", "image/png")
    url = await container.infra.object_store.signed_url("outputs/s/g/0.png")
    assert url.startswith("http://127.0.0.1:8000/v1/objects/outputs/s/g/0.png?")
    response = await client.get(path_of(url))
    assert response.status_code == 200
    assert response.content == b"\x89PNG fake"
    assert response.headers["content-type"] == "image/png"
    assert "no-store" in response.headers["cache-control"]
    clock = container.infra.clock
    assert isinstance(clock, MovableClock)
    clock.advance(timedelta(minutes=15))
    expired = await client.get(path_of(url))
    assert expired.status_code == 403 and expired.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.replace("signature=", "signature=0"),
        lambda p: p.replace("0.png", "1.png"),
        lambda p: p.split("?")[0],
        lambda p: p.replace("/v1/objects/outputs/s/g/0.png", "/v1/objects/outputs/s/g/../g/1.png"),
        lambda p: p.replace("/v1/objects/outputs/s/g/0.png", "/v1/objects/outputs/s/g/%2e%2e/g/0.png"),
        lambda p: p.replace("/v1/objects/outputs/s/g/0.png", "/v1/objects/..%2F..%2Fmaster.key"),
    ],
)
async def test_tampered_or_traversing_urls_get_nothing(
    local: tuple[AsyncTestClient, Container], tamper: object
) -> None:
    client, container = local
    await container.infra.object_store.put("outputs/s/g/0.png", b"secret", "image/png")
    await container.infra.object_store.put("outputs/s/g/1.png", b"other", "image/png")
    path = tamper(path_of(await container.infra.object_store.signed_url("outputs/s/g/0.png")))  # type: ignore[operator]
    response = await client.get(path)
    assert response.status_code in (400, 403, 404), response.text
    assert b"secret" not in response.content and b"other" not in response.content


async def test_a_deleted_object_is_gone_even_with_a_valid_url(local: tuple[AsyncTestClient, Container]) -> None:
    client, container = local
    await container.infra.object_store.put("outputs/s/g/0.png", b"x", "image/png")
    url = await container.infra.object_store.signed_url("outputs/s/g/0.png", 60)
    await container.infra.object_store.delete("outputs/s/g/0.png")
    assert (await client.get(path_of(url))).status_code == 404
