"""Signed webhooks to processors' data-subject-request endpoints
(:class:`~dreamina.ports.processor_notices.WebhookSender`).

The signature follows Stripe's webhook scheme (https://docs.stripe.com/webhooks#verify-manually), so a processor
can verify it the way it verifies Stripe's: the header ``Dreamina-Signature: t=<unix seconds>,v1=<hex>`` where
``v1`` is HMAC-SHA256 keyed with the processor's secret over ``f"{t}.{body}"``; a receiver refuses a signature that
does not match or a ``t`` older than its tolerance (replays). ``Idempotency-Key`` carries the notification's key,
the same on every attempt (the IETF draft "The Idempotency-Key HTTP Header Field"), and the body's ``id`` repeats it.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

from dreamina.adapters.tls import verified_context
from dreamina.ports.clock import Clock
from dreamina.ports.processor_notices import ProcessorRoute

SIGNATURE_HEADER = "Dreamina-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value for ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver checks: the signature matches and its time is within ``tolerance`` seconds."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


class HttpWebhookSender:
    def __init__(self, clock: Clock, *, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None):
        self._clock = clock
        self._client = httpx.AsyncClient(
            timeout=timeout, transport=transport, follow_redirects=False, verify=verified_context()
        )

    async def post(self, route: ProcessorRoute, body: bytes, idempotency_key: str) -> int:
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            SIGNATURE_HEADER: sign(route.secret, timestamp, body),
            "User-Agent": "Dreamina-DSR/1",
        }
        response = await self._client.post(route.url, content=body, headers=headers)
        return response.status_code

    async def aclose(self) -> None:
        await self._client.aclose()
