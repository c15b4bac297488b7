"""What the vendor adapters share: one httpx client each, and one mapping of HTTP failures to port errors."""

from __future__ import annotations

import base64
import email.utils
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx

from dreamina.adapters.tls import verified_context
from dreamina.ports.generation import (
    ProviderAuthFailed,
    ProviderBadResponse,
    ProviderJobNotFound,
    ProviderRefused,
    ProviderUnavailable,
    ReferenceImage,
)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
_CHUNK = 64 * 1024


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def data_uri(reference: ReferenceImage) -> str:
    return f"data:{reference.content_type};base64,{base64.b64encode(reference.data).decode('ascii')}"


class VendorClient:
    """An ``httpx.AsyncClient`` for one vendor; errors become the port's exceptions, never vendor text."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        headers: dict[str, str],
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.vendor = vendor
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            transport=transport,
            timeout=timeout,
            verify=verified_context(),
        )
        # output downloads go to the vendor's CDN: credentials only where the vendor says they are needed
        self._downloads = httpx.AsyncClient(
            transport=transport, timeout=timeout, follow_redirects=True, verify=verified_context()
        )

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._downloads.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        refusal: Any = None,
        not_found_is_missing_job: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; ``refusal(response, body)`` says whether an error answer is a content refusal."""
        try:
            response = await self._client.request(method, path.lstrip("/"), **kwargs)
        except httpx.TimeoutException:
            raise ProviderUnavailable(f"{self.vendor} did not answer in time") from None
        except httpx.TransportError:
            raise ProviderUnavailable(f"{self.vendor} could not be reached") from None
        if response.is_success:
            return response
        status = response.status_code
        if status in (401, 403):
            raise ProviderAuthFailed(f"{self.vendor} refused our credentials")
        if status == 429 or status >= 500:
            raise ProviderUnavailable(
                f"{self.vendor} is busy or failing", retry_after_seconds(response.headers.get("retry-after"))
            )
        if status == 404 and not_found_is_missing_job:
            raise ProviderJobNotFound(f"{self.vendor} does not know this job")
        body = _json_or_none(response)
        if refusal is not None and refusal(response, body):
            raise ProviderRefused(f"{self.vendor} refused the content")
        raise ProviderBadResponse(f"{self.vendor} rejected the request ({status})")

    async def download(self, url: str, headers: dict[str, str] | None = None) -> AsyncIterator[bytes]:
        try:
            async with self._downloads.stream("GET", url, headers=headers) as response:
                if response.status_code == 429 or response.status_code >= 500:
                    raise ProviderUnavailable(
                        f"{self.vendor} could not serve the output",
                        retry_after_seconds(response.headers.get("retry-after")),
                    )
                if not response.is_success:
                    raise ProviderBadResponse(f"{self.vendor} could not serve the output ({response.status_code})")
                async for chunk in response.aiter_bytes(_CHUNK):
                    if chunk:
                        yield chunk
        except httpx.TimeoutException:
            raise ProviderUnavailable(f"{self.vendor} did not answer in time") from None
        except httpx.TransportError:
            raise ProviderUnavailable(f"{self.vendor} could not be reached") from None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def json_body(vendor: str, response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object, or :class:`ProviderBadResponse`."""
    body = _json_or_none(response)
    if not isinstance(body, dict):
        raise ProviderBadResponse(f"{vendor} answered with something that is not a JSON object")
    return body


def content_type_for_url(url: str, default: str) -> str:
    path = url.split("?", 1)[0].lower()
    for suffix, kind in (
        (".png", "image/png"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".webp", "image/webp"),
        (".mp4", "video/mp4"),
    ):
        if path.endswith(suffix):
            return kind
    return default
