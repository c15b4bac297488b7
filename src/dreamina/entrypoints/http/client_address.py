"""The client's address behind trusted reverse proxies (``DREAMINA_TRUSTED_PROXIES``).

Per-client budgets (rate limits) key on the client's address. Behind a reverse proxy every request comes from the
proxy, so all clients would share one budget. When, and only when, the connecting peer is a trusted proxy, the
client is read from ``Forwarded`` (RFC 7239) or else ``X-Forwarded-For``: the right-most address that is not itself
a trusted proxy (the left-most entries are whatever the client chose to send, so they are never believed). The
ASGI scope's ``client`` is rewritten, so everything after this middleware sees the same address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from litestar.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_FORWARDED_FOR = re.compile(r'(?i)(?:^|[;,\s])for=("?)([^";,]+)\1')


def _address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a header entry: ``203.0.113.7``, ``203.0.113.7:4711``, ``[2001:db8::1]:4711``, ``2001:db8::1``;
    None for ``unknown``, obfuscated identifiers (``_hidden``) and anything else."""
    value = raw.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def forwarded_chain(headers: dict[str, str]) -> list[str]:
    """The addresses a request passed through, client first, from ``Forwarded`` or else ``X-Forwarded-For``."""
    forwarded = headers.get("forwarded")
    if forwarded:
        return [m.group(2) for m in _FORWARDED_FOR.finditer(forwarded)]
    return [part for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]


def client_behind(peer: str, chain: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy; then the right-most untrusted hop in ``chain``."""

    def is_trusted(address: Any) -> bool:
        return address is not None and any(address in network for network in trusted)

    if not is_trusted(_address(peer)):
        return peer
    for hop in reversed(chain):
        address = _address(hop)
        if address is None:
            return peer  # a hop we cannot read: do not guess past it
        if not is_trusted(address):
            return str(address)
    return peer  # every hop is one of ours


def with_client_behind_proxies(scope: Scope, trusted: Sequence[Network]) -> Scope:
    """``scope`` with its ``client`` rewritten to the client behind trusted proxies (the same scope if the peer is
    not one): what every step after the API's edge middleware (``middleware.edge``) sees."""
    client = scope.get("client")
    if not trusted or not client:
        return scope
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    address = client_behind(client[0], forwarded_chain(headers), trusted)
    if address == client[0]:
        return scope
    return {**scope, "client": (address, 0)}  # type: ignore[return-value]
