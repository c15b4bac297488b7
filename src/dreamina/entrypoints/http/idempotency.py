"""The ``Idempotency-Key`` request header on the routes that create something (a generation, an upload, a checkout).

A retry with the same key and the same request gets the first answer again (same status and body, with
``Idempotent-Replayed: true``) and has no second effect; the same key with another request is 422
``idempotency_key_reused``; a malformed key is 400. Two requests with one key at once: the second waits for the first
and gets its answer (see :mod:`dreamina.domain.privacy.idempotency`). Answers are kept 24 hours.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
from litestar import Response
from litestar.params import HeaderParameter

from dreamina.domain.privacy.errors import DomainError
from dreamina.domain.privacy.idempotency import (
    KEY_PATTERN,
    MAX_KEY_CHARS,
    Answer,
    AnsweredBefore,
    IdempotentRequest,
    KeptAnswer,
    KeptAnswers,
)
from dreamina.ports.idempotency import IdempotencyRecord

T = TypeVar("T")

IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        min_length=1,
        max_length=MAX_KEY_CHARS,
        pattern=KEY_PATTERN,
        description="1-255 printable ASCII characters, unique per request you mean; a retry with the same key and "
        "the same request gets the first answer back (kept 24 hours) and has no second effect",
    ),
]
REPLAYED = "Idempotent-Replayed"


def _replay(record: IdempotencyRecord) -> Response[Any]:
    return Response(
        record.body.encode(),
        status_code=record.status,
        media_type="application/json",
        headers={REPLAYED: "true"},
    )


async def answered_once(
    answers: KeptAnswers,
    *,
    subject_id: UUID,
    route: str,
    key: str | None,
    request: bytes,
    status: int,
    render: Callable[[T], msgspec.Struct],
    effect: Callable[[KeptAnswer[T] | None], Awaitable[T]],
) -> Response[Any]:
    """Run ``effect`` once per key: without a key it just runs; with one, an earlier answer is replayed, or the
    effect runs and keeps its answer (``render`` of its result, with ``status``) in its own unit of work.
    ``request``: the request in a canonical form (what the fingerprint is taken of)."""
    if key is None:
        return Response(render(await effect(None)), status_code=status)
    idempotent = IdempotentRequest.of(subject_id, route, key, request)
    earlier = await answers.earlier(idempotent)
    if earlier is not None:
        return _replay(earlier)

    def answer_of(result: T) -> Answer:
        return Answer(status, msgspec.json.encode(render(result)).decode())

    kept: KeptAnswer[T] = answers.keep(idempotent, answer_of)
    try:
        await effect(kept)
    except AnsweredBefore as before:
        return _replay(before.record)
    except DomainError:
        # A twin with the same key committed while this one ran (it may have spent the credits this one needed)
        earlier = await answers.earlier(idempotent)
        if earlier is None:
            raise
        return _replay(earlier)
    if kept.answered is None:
        raise RuntimeError("the use case did not keep its answer")  # a bug: every keyed use case records it
    return Response(kept.answered.body.encode(), status_code=status, media_type="application/json")
