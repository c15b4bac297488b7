"""What a subject is shown of a generation: the opened prompt, outputs behind short-lived URLs, and cursors for
paging through their list."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from dreamina.domain.generation.rules import PROMPT_FIELD
from dreamina.domain.privacy.errors import InvalidInput
from dreamina.domain.privacy.keyring import Keyrings, SubjectKeyring
from dreamina.ports.clock import Clock
from dreamina.ports.generation import Generation, GenerationKind, GenerationStatus
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class OutputView:
    url: str
    content_type: str
    bytes: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class GenerationView:
    id: UUID
    kind: GenerationKind
    status: GenerationStatus
    prompt: str
    params: dict[str, Any]
    reference_upload_ids: tuple[UUID, ...]
    outputs: list[OutputView]
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class GenerationListing:
    items: list[GenerationView]
    next_cursor: str | None


def encode_cursor(created_at: datetime, generation_id: UUID) -> str:
    raw = f"{created_at.isoformat()}|{generation_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, _, ident = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition("|")
        at = datetime.fromisoformat(created)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, UUID(ident)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidInput("the cursor is not one this API handed out", field="cursor") from None


class GenerationViews:
    """Renders a stored generation for its owner; output URLs live ``url_ttl_seconds``."""

    def __init__(self, keyrings: Keyrings, store: ObjectStore, clock: Clock, url_ttl_seconds: int) -> None:
        self._keyrings = keyrings
        self._store = store
        self._clock = clock
        self._ttl = url_ttl_seconds

    def keyring(self, uow: UnitOfWork) -> SubjectKeyring:
        return self._keyrings(uow.subject_keys)

    async def view(
        self, uow: UnitOfWork, generation: Generation, keyring: SubjectKeyring | None = None
    ) -> GenerationView:
        """``keyring``: one the caller made for this unit of work, to share among several views (a page of them
        reads the subject's data key once, not once per item)."""
        keyring = keyring or self._keyrings(uow.subject_keys)
        prompt = await keyring.open(generation.subject_id, PROMPT_FIELD, generation.prompt_ciphertext)
        expires_at = self._clock.now() + timedelta(seconds=self._ttl)
        outputs = [
            OutputView(
                url=await self._store.signed_url(o.object_key, self._ttl),
                content_type=o.content_type,
                bytes=o.bytes,
                expires_at=expires_at,
            )
            for o in generation.outputs
        ]
        return GenerationView(
            id=generation.id,
            kind=generation.kind,
            status=generation.status,
            prompt=prompt,
            params=dict(generation.params),
            reference_upload_ids=generation.reference_upload_ids,
            outputs=outputs,
            failure_reason=generation.failure_reason,
            created_at=generation.created_at,
            updated_at=generation.updated_at,
        )
