"""One-click unsubscribe links of marketing mail (RFC 8058): signed, expiring, usable without signing in.

A token is ``<payload>.<signature>``: the payload names the subject and the moment the link stops working (base64url
of the subject id's 16 bytes and the expiry as 8 bytes of Unix seconds), the signature is the vault's keyed hash of
the payload under a purpose of its own, so nobody without the master key can make one. Nothing is stored: the link
is checked by recomputing its signature. It names only a random account id, never an address.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import struct
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from uuid import UUID

from dreamina.domain.privacy.errors import DomainError
from dreamina.ports.keys import KeyVault

LINK_INDEX = "marketing-unsubscribe"
LINK_DAYS = 365  # how long an unsubscribe link works (a mail kept for a year still unsubscribes)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}\.[0-9a-f]{64}")


class UnsubscribeLinkInvalid(DomainError):
    """A token that is malformed, forged or expired (the three are not told apart)."""

    code = "invalid_token"
    title = "The link is invalid or has expired"


class UnsubscribeLinks:
    def __init__(self, vault: KeyVault, *, base_url: str, lifetime: timedelta = timedelta(days=LINK_DAYS)) -> None:
        self._vault = vault
        self._base_url = base_url.rstrip("/")
        self._lifetime = lifetime

    def token(self, subject_id: UUID, now: datetime) -> str:
        expires = int((now + self._lifetime).timestamp())
        payload = base64.urlsafe_b64encode(subject_id.bytes + struct.pack(">q", expires)).decode("ascii").rstrip("=")
        return f"{payload}.{self._vault.blind_index(LINK_INDEX, payload)}"

    def url(self, subject_id: UUID, now: datetime) -> str:
        """The link mailed with a marketing message (also its ``List-Unsubscribe`` header)."""
        return f"{self._base_url}/v1/marketing/unsubscribe?token={quote(self.token(subject_id, now))}"

    def subject_of(self, token: str, now: datetime) -> UUID:
        """The subject a genuine, unexpired token names; :class:`UnsubscribeLinkInvalid` otherwise."""
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise UnsubscribeLinkInvalid("this unsubscribe link is invalid or has expired")
        payload, signature = token.split(".")
        if not hmac.compare_digest(self._vault.blind_index(LINK_INDEX, payload), signature):
            raise UnsubscribeLinkInvalid("this unsubscribe link is invalid or has expired")
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        except (binascii.Error, ValueError):
            raise UnsubscribeLinkInvalid("this unsubscribe link is invalid or has expired") from None
        (expires,) = struct.unpack(">q", raw[16:24])
        if datetime.fromtimestamp(expires, UTC) <= now:
            raise UnsubscribeLinkInvalid("this unsubscribe link is invalid or has expired")
        return UUID(bytes=raw[:16])
