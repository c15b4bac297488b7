"""Idempotency keys: a request sent again with the same ``Idempotency-Key`` gets the first answer back and has no
second effect (no second charge, upload or checkout).

The answer is written in the same unit of work as the effect it reports, so one exists exactly if the other does: a
crash can neither charge without keeping the answer nor keep an answer for nothing. Two requests with the same key
at once: the second waits for the first (the database serialises them on the key, or on the subject's wallet) and
then gets the first's answer; it never runs the effect a second time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar
from uuid import UUID

from dreamina.domain.privacy.errors import IdempotencyKeyReused, MalformedIdempotencyKey
from dreamina.domain.privacy.kernel_data import IDEMPOTENCY_KEY_HOURS
from dreamina.domain.privacy.vocabulary import DataCategory
from dreamina.ports.clock import Clock
from dreamina.ports.idempotency import IdempotencyRecord
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")
MAX_KEY_CHARS = 255
KEY_PATTERN = rf"^[\x20-\x7e]{{1,{MAX_KEY_CHARS}}}$"  # printable ASCII, as the OpenAPI schema states it
_KEY = re.compile(KEY_PATTERN)
KEPT_FOR = timedelta(hours=IDEMPOTENCY_KEY_HOURS)


def idempotency_key(raw: str) -> str:
    """The key as given, if it is 1-255 printable ASCII characters; else ``MalformedIdempotencyKey`` (400)."""
    if not _KEY.fullmatch(raw):
        raise MalformedIdempotencyKey(f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters")
    return raw


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """A subject's request on ``route`` sent with ``key``; ``fingerprint`` identifies what was asked."""

    subject_id: UUID
    route: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, subject_id: UUID, route: str, key: str, request: bytes) -> IdempotentRequest:
        """``request``: the request in a canonical form (decoded and re-encoded), so retries match byte for byte."""
        digest = hashlib.sha256(route.encode() + b"\n" + request).hexdigest()
        return cls(subject_id, route, idempotency_key(key), digest)

    async def earlier_answer(self, uow: UnitOfWork) -> IdempotencyRecord | None:
        """The answer kept for this key, or ``None``; ``IdempotencyKeyReused`` (422) if it answered another request."""
        found = await uow.idempotency_records.get(self.subject_id, self.route, self.key)
        if found is not None and found.fingerprint != self.fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
        return found


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str  # JSON


class AnsweredBefore(Exception):
    """A request with the same key was answered meanwhile: reply with ``record`` and undo this one's unit of work."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__("answered before")
        self.record = record


@dataclass(slots=True)
class KeptAnswer(Generic[T]):
    """What a use case is handed to keep the answer inside its unit of work: call :meth:`before` first in it (a
    request with the same key that committed already stops this one) and :meth:`record` just before the commit."""

    request: IdempotentRequest
    answer_of: Callable[[T], Answer]
    clock: Clock
    answered: Answer | None = field(default=None)

    async def before(self, uow: UnitOfWork) -> None:
        earlier = await self.request.earlier_answer(uow)
        if earlier is not None:
            raise AnsweredBefore(earlier)

    async def record(self, uow: UnitOfWork, result: T) -> None:
        """Keep the answer to ``result``; ``Conflict`` if a concurrent request with the key commits first."""
        await self.before(uow)
        answer = self.answer_of(result)
        req = self.request
        await uow.idempotency_records.add(
            IdempotencyRecord(
                subject_id=req.subject_id,
                route=req.route,
                key=req.key,
                fingerprint=req.fingerprint,
                status=answer.status,
                body=answer.body,
                created_at=self.clock.now(),
            )
        )
        self.answered = answer


class KeptAnswers:
    """Looks up kept answers and hands use cases a :class:`KeptAnswer` to write theirs."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def earlier(self, request: IdempotentRequest) -> IdempotencyRecord | None:
        """The answer kept for the request's key (``IdempotencyKeyReused`` if it answered another request)."""
        async with self._uow() as uow:
            return await request.earlier_answer(uow)

    def keep(self, request: IdempotentRequest, answer_of: Callable[[T], Answer]) -> KeptAnswer[T]:
        return KeptAnswer(request, answer_of, self._clock)


class ExpiredKeptAnswers:
    """Deletes answers kept longer than a day (data map: ``idempotency_records``)."""

    name = "idempotency_records.expired"
    category = DataCategory.CONTENT
    description = (
        f"answers kept for Idempotency-Key retries are deleted {IDEMPOTENCY_KEY_HOURS} hours after the request"
    )

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def due(self, now: datetime) -> int:
        async with self._uow() as uow:
            return await uow.idempotency_records.count_created_before(now - KEPT_FOR)

    async def apply(self, now: datetime, limit: int) -> int:
        async with self._uow() as uow:
            deleted = await uow.idempotency_records.delete_created_before(now - KEPT_FOR, limit)
            await uow.commit()
        return deleted
