"""``DREAMINA_PROCESSOR_ROUTES``: how each processor without a deletion API is told about an erasure.

A JSON object keyed by processor id (``/v1/privacy/processors``), each value exactly one route::

    {"openai": {"email": "privacy@openai.example"},
     "replicate": {"webhook": "https://dsr.replicate.example/hook", "secret": "<at least 32 characters>"}}

A processor with a deletion API (Stripe, Runway) is asked through it and needs no route. Empty: no routes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlsplit

from dreamina.domain.privacy.errors import InvalidInput
from dreamina.domain.privacy.validation import normalise_email
from dreamina.ports.processor_notices import NoticeMethod, ProcessorRoute

MIN_SECRET_CHARS = 32


def parse_routes(raw: str) -> dict[str, ProcessorRoute]:
    """The routes in ``raw``; raises ``InvalidInput`` (the message names the processor, never a secret)."""
    if not raw.strip():
        return {}
    try:
        decoded = json.loads(raw)
    except json.JSONDecodeError:
        raise InvalidInput("processor routes must be a JSON object") from None
    if not isinstance(decoded, dict):
        raise InvalidInput("processor routes must be a JSON object")
    return {str(name): _route(str(name), spec) for name, spec in decoded.items()}


def _route(name: str, spec: object) -> ProcessorRoute:
    if not isinstance(spec, Mapping) or not all(isinstance(v, str) for v in spec.values()):
        raise InvalidInput(f"processor route {name}: an object of strings")
    keys = set(spec)
    if keys == {"email"}:
        try:
            email = normalise_email(str(spec["email"]))
        except InvalidInput:
            raise InvalidInput(f"processor route {name}: email is not an address") from None
        return ProcessorRoute(name, NoticeMethod.EMAIL, email=email)
    if keys == {"webhook", "secret"}:
        url, secret = str(spec["webhook"]), str(spec["secret"])
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise InvalidInput(f"processor route {name}: webhook must be an http(s) URL")
        if len(secret) < MIN_SECRET_CHARS:
            raise InvalidInput(f"processor route {name}: secret needs at least {MIN_SECRET_CHARS} characters")
        return ProcessorRoute(name, NoticeMethod.WEBHOOK, url=url, secret=secret)
    raise InvalidInput(f'processor route {name}: give {{"email": ...}} or {{"webhook": ..., "secret": ...}}')
