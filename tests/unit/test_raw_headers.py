"""The header reads of the hot paths (``request.header_value``/``header_values``) answer what Litestar's ``Headers``
answer for the same scope: the first value, every value in order, any case of the name, latin-1 values."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.connection import ASGIConnection
from litestar.datastructures import Headers

from dreamina.entrypoints.http.request import header_value, header_values

SCOPES: list[list[tuple[bytes, bytes]]] = [
    [],
    [(b"authorization", b"Bearer abc")],
    [(b"Authorization", b"Bearer upper-case name")],
    [(b"sec-gpc", b"0"), (b"accept", b"*/*"), (b"SEC-GPC", b"1"), (b"sec-gpc", b" 1 , 0")],
    [(b"authorization", b"Bearer first"), (b"authorization", b"Bearer second")],
    [(b"user-agent", "Mozilla/5.0 (caf\xe9)".encode("latin-1"))],
]


def _connection(headers: list[tuple[bytes, bytes]]) -> ASGIConnection[Any, Any, Any, Any]:
    return ASGIConnection(scope={"type": "http", "headers": headers, "state": {}, "path_params": {}})  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", SCOPES)
@pytest.mark.parametrize("name", ["authorization", "sec-gpc", "user-agent", "cookie"])
def test_raw_reads_answer_as_litestars_headers(raw: list[tuple[bytes, bytes]], name: str) -> None:
    litestar = Headers.from_scope({"type": "http", "headers": raw})  # type: ignore[arg-type]
    connection = _connection(raw)
    assert header_value(connection, name.encode()) == litestar.get(name, "")
    assert header_values(connection, name.encode()) == litestar.getall(name, [])
