"""Reads our own download links back (:class:`~dreamina.ports.abuse_reports.OutputLinks`), for any object store.

The store's own :meth:`signed_url` of a probe key shows what its links look like (scheme, host, the path before the
key, the query fields that carry the signature); a URL is one of ours if it has that shape. Where we sign links
ourselves (the local store's HMAC) the signature is checked too, with the expiry ignored: an expired link still
names the content that was reported. S3 presigned links are checked for shape only; the caller never trusts what
the key names without finding it among a generation's outputs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, unquote, urlsplit

from dreamina.adapters.object_store import LocalObjectStore
from dreamina.ports.object_store import ObjectStore, validate_key

PROBE_KEY = "outputs/link-shape-probe"
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


class StoreOutputLinks:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._shape: tuple[str, str, str, frozenset[str]] | None = None

    async def _link_shape(self) -> tuple[str, str, str, frozenset[str]]:
        if self._shape is None:
            probe = urlsplit(await self._store.signed_url(PROBE_KEY, 60))
            base = probe.path.removesuffix(quote(PROBE_KEY))
            self._shape = (probe.scheme, probe.netloc, base, frozenset(parse_qs(probe.query)))
        return self._shape

    async def object_key(self, url: str) -> str | None:
        scheme, netloc, base, fields = await self._link_shape()
        try:
            parsed = urlsplit(url)
            query = parse_qs(parsed.query, strict_parsing=bool(parsed.query))
        except ValueError:
            return None
        if (parsed.scheme, parsed.netloc) != (scheme, netloc) or not parsed.path.startswith(base):
            return None
        if not fields <= set(query) or any(len(values) != 1 for values in query.values()):
            return None
        key = unquote(parsed.path.removeprefix(base))
        try:
            validate_key(key)
        except ValueError:
            return None
        if isinstance(self._store, LocalObjectStore):
            try:
                expires = int(query["expires"][0])
            except ValueError:
                return None
            if not self._store.verify_signed(key, expires, query["signature"][0], _LONG_AGO):
                return None
        return key
