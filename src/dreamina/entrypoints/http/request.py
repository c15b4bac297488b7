"""The request class: JSON bodies are decoded strictly, as the type the handler declares, and only as JSON.

Litestar converts a handler's ``data`` with msgspec's lax mode (``strict=False``, meant for query strings), so a
JSON body with ``"count": "1"``, ``"analytics": 0`` or ``1.0`` for an integer would be coerced rather than refused.
Here the body is first decoded with ``msgspec.json.decode(body, type=<the handler's data type>, strict=True)``: a
value of the wrong JSON type is a 400 problem naming its path, before Litestar's own conversion runs (which then
has nothing left to coerce). A body that is not ``application/json`` (``text/plain`` holding JSON included) is a 415
problem, for every route at once.

msgspec reports most malformed JSON as ``DecodeError`` (which Litestar answers 400), but invalid UTF-8 inside a
string raises ``UnicodeDecodeError`` and nesting deeper than the interpreter's stack raises ``RecursionError``; both
would otherwise surface as a 500.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE

JSON_MEDIA_TYPE = "application/json"


def header_values(connection: ASGIConnection[Any, Any, Any, Any], name: bytes) -> list[str]:
    """Every value of the header ``name`` (lower case), in order, read from the ASGI scope's list as it came: what
    ``connection.headers.getall`` answers, without building the connection's ``Headers`` for it. A signed-in
    ``GET`` reads two headers (``Authorization``, ``Sec-GPC``), and building them all was 2% of its CPU."""
    return [value.decode("latin-1") for key, value in connection.scope["headers"] if key.lower() == name]


def header_value(connection: ASGIConnection[Any, Any, Any, Any], name: bytes, default: str = "") -> str:
    """The first value of the header ``name`` (lower case), or ``default``: ``connection.headers.get``, as
    :func:`header_values` reads it."""
    for key, value in connection.scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return default


class DreaminaRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        media_type = self.content_type[0].lower()
        if media_type != JSON_MEDIA_TYPE and await self.body():
            raise HTTPException(
                status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                detail=f"This body must be sent as {JSON_MEDIA_TYPE}.",
            )
        try:
            decoded = await super().json()  # malformed or hostile JSON is refused here first
            self._decode_strictly(await self.body())
            return decoded
        except UnicodeDecodeError:
            raise ClientException("The body is not valid UTF-8.") from None
        except RecursionError:
            raise ClientException("The body's JSON is nested too deeply.") from None

    def _decode_strictly(self, body: bytes) -> None:
        """Refuse a body whose values are not of the declared JSON types (no coercion from strings or floats)."""
        field = self.route_handler.parsed_data_field
        if field is None or not body:
            return
        try:
            msgspec.json.decode(body, type=field.annotation, strict=True)
        except msgspec.ValidationError as exc:
            message, _, path = str(exc).partition(" - at `")
            key = path.rstrip("`").removeprefix("$").lstrip(".") or None
            raise ValidationException(
                detail="The body does not match its schema.",
                extra=[{"key": key, "message": message, "source": "body"}],
            ) from None
        except msgspec.DecodeError:
            return  # malformed JSON: Litestar's own decoding answers it (400)


__all__ = ["DreaminaRequest"]
