"""Helpers for the consent tests: the device cookie is ``Secure``, so tests over http send it by hand."""

from __future__ import annotations

from typing import Any

from dreamina.entrypoints.http.device import DEVICE_COOKIE
from tests.http_client import AsyncTestClient


def device_cookie_from(response: Any) -> str:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == DEVICE_COOKIE:
            return rest.split(";", 1)[0]
    raise AssertionError("no device cookie was set")


def with_device(device: str | None, headers: dict[str, str] | None = None) -> dict[str, str]:
    out = dict(headers or {})
    if device is not None:
        out["Cookie"] = f"{DEVICE_COOKIE}={device}"
    return out


async def new_device(client: AsyncTestClient, **choices: bool) -> str:
    body = {"functional": False, "analytics": False, "marketing": False, "method": "banner", **choices}
    response = await client.put("/v1/consent", json=body)
    assert response.status_code == 200, response.text
    return device_cookie_from(response)


PAGE_VIEW = {"events": [{"name": "page_view", "page": "/gallery"}, {"name": "feature_used", "feature": "upscale"}]}
