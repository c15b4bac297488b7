"""The request class: a body msgspec cannot decode is the client's mistake.

msgspec reports most malformed JSON as ``DecodeError`` (which Litestar answers 400), but invalid UTF-8 inside a
string raises ``UnicodeDecodeError`` and nesting deeper than the interpreter's stack raises ``RecursionError``; both
would otherwise surface as a 500.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException


class DreaminaRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError:
            raise ClientException("The body is not valid UTF-8.") from None
        except RecursionError:
            raise ClientException("The body's JSON is nested too deeply.") from None


__all__ = ["DreaminaRequest"]
