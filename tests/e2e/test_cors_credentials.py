"""CORS with credentials for the configured origins only: the consent banner (``/static/consent.js``) on a front end
of another site sends the ``dreamina_device`` cookie; no other origin gets credentials, nothing gets ``*``, the
cookie never authenticates, and no cross-site form can forge a consent write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.http_client import AsyncTestClient

from .consent_helpers import device_cookie_from, with_device
from .test_security_hardening import _client

APP = "https://app.dreamina.test"
LOCAL = "http://localhost:5173"
STRANGERS = ("https://evil.example", "https://app.dreamina.test.evil.example", "http://app.dreamina.test", "null")
CHOICE = {"functional": False, "analytics": False, "marketing": False, "method": "banner"}


async def _configured(tmp_path: Path) -> tuple[Any, AsyncTestClient]:
    container, client = await _client(tmp_path, DREAMINA_CORS_ALLOWED_ORIGINS=f"{APP}, {LOCAL}")
    return container, client


def _preflight(origin: str, method: str = "PUT", headers: str = "content-type") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}


async def test_a_configured_origin_gets_its_own_origin_echoed_with_credentials(tmp_path: Path) -> None:
    container, client = await _configured(tmp_path)
    async with client:
        for origin in (APP, LOCAL):
            preflight = await client.options("/v1/consent", headers=_preflight(origin))
            assert preflight.status_code == 204
            assert preflight.headers["access-control-allow-origin"] == origin
            assert preflight.headers["access-control-allow-credentials"] == "true"
            assert "PUT" in preflight.headers["access-control-allow-methods"]
            assert "origin" in preflight.headers["vary"].lower()

            read = await client.get("/v1/consent", headers={"Origin": origin})
            assert read.status_code == 200
            assert read.headers["access-control-allow-origin"] == origin
            assert read.headers["access-control-allow-credentials"] == "true"
            assert "origin" in read.headers["vary"].lower()
            assert read.headers.get_list("access-control-allow-origin") == [origin]  # one value, never a list
    await container.aclose()


async def test_other_origins_get_no_cors_and_no_credentials_and_never_a_wildcard(tmp_path: Path) -> None:
    container, client = await _configured(tmp_path)
    async with client:
        for stranger in STRANGERS:
            refused = await client.options("/v1/consent", headers=_preflight(stranger))
            assert refused.status_code == 400, stranger
            assert "access-control-allow-origin" not in refused.headers
            assert "access-control-allow-credentials" not in refused.headers
            read = await client.get("/v1/consent", headers={"Origin": stranger})
            assert "access-control-allow-origin" not in read.headers, stranger
            assert "access-control-allow-credentials" not in read.headers, stranger
            assert "origin" in read.headers["vary"].lower()  # a cache keeps the answers of origins apart
        for path in ("/v1/consent", "/v1/privacy/processors", "/health"):
            answer = await client.get(path, headers={"Origin": APP})
            assert "*" not in answer.headers.get("access-control-allow-origin", "")
        # a header the API does not read is refused to a configured origin too
        assert (await client.options("/v1/consent", headers=_preflight(APP, headers="x-other"))).status_code == 400
    await container.aclose()


async def test_without_configured_origins_nothing_gets_credentials_and_the_cookie_stays_lax(tmp_path: Path) -> None:
    container, client = await _client(tmp_path)
    async with client:
        read = await client.get("/v1/consent", headers={"Origin": APP})
        assert "access-control-allow-origin" not in read.headers
        assert "access-control-allow-credentials" not in read.headers
        given = await client.put("/v1/consent", json=CHOICE)
        (cookie,) = [h for h in given.headers.get_list("set-cookie") if h.startswith("dreamina_device=")]
        assert "SameSite=Lax" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    await container.aclose()


async def test_with_configured_origins_the_device_cookie_is_samesite_none_and_secure(tmp_path: Path) -> None:
    container, client = await _configured(tmp_path)
    async with client:
        given = await client.put("/v1/consent", json=CHOICE, headers={"Origin": APP})
        assert given.status_code == 200
        (cookie,) = [h for h in given.headers.get_list("set-cookie") if h.startswith("dreamina_device=")]
        assert "SameSite=None" in cookie and "Secure" in cookie and "HttpOnly" in cookie
        device = device_cookie_from(given)
        again = await client.get("/v1/consent", headers=with_device(device, {"Origin": APP}))
        assert again.json()["method"] == "banner"  # the cookie that came back keys the choice
    await container.aclose()


async def test_the_device_cookie_authenticates_nothing(tmp_path: Path) -> None:
    container, client = await _configured(tmp_path)
    async with client:
        device = device_cookie_from(await client.put("/v1/consent", json=CHOICE, headers={"Origin": APP}))
        me = await client.get("/v1/me", headers=with_device(device, {"Origin": APP}))
        assert me.status_code == 401
        assert me.headers["access-control-allow-origin"] == APP  # readable, and still refused
    await container.aclose()


async def test_a_cross_site_form_cannot_forge_a_consent_write(tmp_path: Path) -> None:
    """A form posts only GET or POST with a simple content type: neither writes consent. ``PUT /v1/consent`` (and
    the other JSON writes that read the device cookie) take ``application/json`` only, which a foreign origin can
    send only after a preflight that only the configured origins pass."""
    container, client = await _configured(tmp_path)
    async with client:
        device = device_cookie_from(await client.put("/v1/consent", json=CHOICE))
        forged = b'{"functional": true, "analytics": true, "marketing": true, "method": "banner"}'
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            headers = with_device(device, {"Origin": "https://evil.example", "Content-Type": content_type})
            for method in ("PUT", "POST"):
                answer = await client.request(method, "/v1/consent", content=forged, headers=headers)
                assert answer.status_code in (405, 415), (method, content_type, answer.status_code)
            analytics = await client.post(
                "/v1/analytics/events", content=b'{"events": [{"name": "page_view", "page": "/x"}]}', headers=headers
            )
            assert analytics.status_code == 415
        state = (await client.get("/v1/consent", headers=with_device(device))).json()
        assert (state["analytics"], state["marketing"]) == (False, False)
    await container.aclose()


async def test_the_banner_assets_are_served_and_need_no_unsafe_csp(tmp_path: Path) -> None:
    """``/static/consent.js`` and ``consent.css`` load on a page whose CSP allows only files (no inline code or
    style attributes, no eval): the banner builds its elements with classes only."""
    container, client = await _configured(tmp_path)
    async with client:
        for name, kind in (("consent.js", "javascript"), ("consent.css", "text/css")):
            answer = await client.get(f"/static/{name}", headers={"Origin": APP})
            assert answer.status_code == 200 and kind in answer.headers["content-type"]
            assert answer.headers["x-content-type-options"] == "nosniff"
        script = (await client.get("/static/consent.js")).text
        for unsafe in ("eval(", "new Function", ".style", "style=", "innerHTML", 'setAttribute("style"', "import "):
            assert unsafe not in script, unsafe
        assert 'credentials: "include"' in script and "globalPrivacyControl" in script
    await container.aclose()
