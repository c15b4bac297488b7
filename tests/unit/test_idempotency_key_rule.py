"""The Idempotency-Key rule (1-255 printable ASCII) and the request fingerprint, without any store."""

from __future__ import annotations

import uuid

import pytest

from dreamina.domain.privacy.errors import MalformedIdempotencyKey
from dreamina.domain.privacy.idempotency import IdempotentRequest, idempotency_key

SUBJECT = uuid.uuid4()


@pytest.mark.parametrize("key", ["a", "x" * 255, " ", "~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}", "550e8400-e29b-41d4"])
def test_printable_ascii_up_to_255_is_a_key(key: str) -> None:
    assert idempotency_key(key) == key


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\t", "nul\x00", "del\x7f", "line\n", "\u2603"])
def test_anything_else_is_refused_as_400(key: str) -> None:
    with pytest.raises(MalformedIdempotencyKey) as refused:
        idempotency_key(key)
    assert refused.value.code == "invalid_idempotency_key"


def test_the_fingerprint_names_the_route_and_the_request() -> None:
    one = IdempotentRequest.of(SUBJECT, "POST /v1/uploads", "k", b"same")
    assert one == IdempotentRequest.of(SUBJECT, "POST /v1/uploads", "k", b"same")
    assert one.fingerprint != IdempotentRequest.of(SUBJECT, "POST /v1/uploads", "k", b"other").fingerprint
    assert one.fingerprint != IdempotentRequest.of(SUBJECT, "POST /v1/generations", "k", b"same").fingerprint
    assert len(one.fingerprint) == 64
