"""Generation: reference uploads, generation jobs, the model providers they go to, the queue that runs them,
processing restrictions and the charges billing makes for them."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from dreamina.ports.billing import BillingStores


class GenerationKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class GenerationStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in (GenerationStatus.SUCCEEDED, GenerationStatus.FAILED, GenerationStatus.CANCELED)


# --- records --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upload:
    """A reference image a subject uploaded, re-encoded without metadata, stored at ``object_key``."""

    id: UUID
    subject_id: UUID
    object_key: str
    content_type: str
    width: int
    height: int
    bytes: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GenerationOutput:
    """One produced image or video, stored at ``object_key``."""

    object_key: str
    content_type: str
    bytes: int


@dataclass(slots=True)
class Generation:
    """A generation job. The prompt is only ever held sealed with the subject's data key."""

    id: UUID
    subject_id: UUID
    kind: GenerationKind
    status: GenerationStatus
    prompt_ciphertext: bytes
    params: dict[str, Any]
    reference_upload_ids: tuple[UUID, ...]
    provider: str
    provider_job_id: str | None
    attempts: int
    failure_reason: str | None
    outputs: tuple[GenerationOutput, ...]
    created_at: datetime
    updated_at: datetime

    # --- transitions: queued -> running -> succeeded | failed, queued | running -> canceled, running -> queued ---

    def start(self, now: datetime) -> None:
        """A worker takes the job for one more attempt (also a job whose earlier worker died while running it)."""
        self._unfinished()
        self.attempts += 1
        self.status = GenerationStatus.RUNNING
        self.updated_at = now

    def attach(self, provider_job_id: str, now: datetime) -> None:
        """The provider accepted the job under ``provider_job_id``: a later attempt resumes it there."""
        self._unfinished()
        self.provider_job_id = provider_job_id
        self.updated_at = now

    def retry(self, now: datetime) -> None:
        """Back to the queue for another attempt at the same provider job."""
        self._unfinished()
        self.status = GenerationStatus.QUEUED
        self.updated_at = now

    def resubmit(self, now: datetime) -> None:
        """Back to the queue for a fresh provider job (the provider no longer knows the one we had)."""
        self._unfinished()
        self.provider_job_id = None
        self.status = GenerationStatus.QUEUED
        self.updated_at = now

    def succeed(self, now: datetime, outputs: tuple[GenerationOutput, ...]) -> None:
        self._finish(GenerationStatus.SUCCEEDED, now, None)
        self.outputs = outputs

    def fail(self, now: datetime, reason: str) -> None:
        """Finished without outputs; ``reason`` is shown to the subject, so it is never a vendor's own words."""
        self._finish(GenerationStatus.FAILED, now, reason)

    def cancel(self, now: datetime) -> None:
        self._finish(GenerationStatus.CANCELED, now, None)

    def _finish(self, status: GenerationStatus, now: datetime, reason: str | None) -> None:
        self._unfinished()
        self.status = status
        self.failure_reason = reason
        self.updated_at = now

    def _unfinished(self) -> None:
        if self.status.terminal:
            raise GenerationFinished(f"a {self.status.value} generation does not change any more")


class GenerationFinished(RuntimeError):
    """A transition was asked of a generation in a terminal state: a bug in the caller, never the subject's input."""


@dataclass(frozen=True, slots=True)
class GenerationPage:
    items: list[Generation]
    next_cursor: tuple[datetime, UUID] | None


class UploadRepository(Protocol):
    async def add(self, upload: Upload) -> None: ...

    async def get(self, upload_id: UUID) -> Upload | None: ...

    async def delete(self, upload_id: UUID) -> bool: ...

    async def page_for_subject(
        self, subject_id: UUID, limit: int, before: tuple[datetime, UUID] | None
    ) -> tuple[list[Upload], bool]:
        """The subject's uploads newest first, at most ``limit``, older than ``before`` (created_at, id) if given;
        and whether there are more."""
        ...

    async def list_for_subject(self, subject_id: UUID) -> list[Upload]:
        """The subject's uploads, oldest first."""
        ...

    async def count_for_subject(self, subject_id: UUID) -> int:
        """How many uploads the subject has (counted by the store: none is loaded)."""
        ...

    async def delete_for_subject(self, subject_id: UUID) -> int:
        """Erasure: delete every upload of the subject at once (none a generation still references); returns how
        many."""
        ...

    async def count_unused_past_owner_retention(self, now: datetime) -> int:
        """How many uploads no generation references are older than their owner's content-retention setting
        (owners without one keep everything)."""
        ...

    async def lock_unused_past_owner_retention(self, now: datetime, limit: int) -> list[Upload]:
        """At most ``limit`` of those, oldest first, locked for this transaction (rows another transaction holds
        are skipped)."""
        ...


class GenerationRepository(Protocol):
    async def add(self, generation: Generation) -> None:
        """Store a new generation and its reference links; raises ``Conflict`` if the id exists."""
        ...

    async def get(self, generation_id: UUID) -> Generation | None: ...

    async def update(self, generation: Generation) -> None:
        """Persist status, provider job id, attempts, failure reason and outputs; ``NotFound`` if gone."""
        ...

    async def delete(self, generation_id: UUID) -> bool:
        """Remove the generation and its reference links; True if it existed."""
        ...

    async def page_for_subject(
        self, subject_id: UUID, limit: int, before: tuple[datetime, UUID] | None
    ) -> GenerationPage:
        """The subject's generations, newest first, strictly older than ``before`` (``created_at``, ``id``)."""
        ...

    async def count_referencing(self, upload_id: UUID) -> int:
        """How many generations use the upload as a reference."""
        ...

    async def count_for_subject(self, subject_id: UUID) -> tuple[int, int]:
        """How many generations the subject has, and how many reference links they hold (counted by the store:
        none is loaded)."""
        ...

    async def delete_for_subject(self, subject_id: UUID) -> tuple[int, int]:
        """Erasure: delete every generation of the subject and their reference links at once (none is loaded);
        returns how many of each."""
        ...

    async def unfinished(self, limit: int, after: tuple[datetime, UUID] | None = None) -> list[Generation]:
        """Generations not yet in a terminal state, oldest first (to re-enqueue after a restart); with ``after``
        (``created_at``, ``id``), only those that come after it (keyset paging)."""
        ...

    async def unfinished_for_subject(self, subject_id: UUID, limit: int) -> list[Generation]:
        """The subject's generations not yet in a terminal state, oldest first (to stop them all at once)."""
        ...

    async def count_past_owner_retention(self, now: datetime) -> int:
        """How many generations are older than their owner's content-retention setting (owners without one keep
        everything)."""
        ...

    async def lock_past_owner_retention(self, now: datetime, limit: int) -> list[Generation]:
        """At most ``limit`` of those, oldest first, locked for this transaction (rows another transaction holds
        are skipped)."""
        ...


# --- model providers ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProviderCapabilities:
    """What a provider can do and what it keeps. ``processor`` is its id in the data map (None: runs here)."""

    kinds: frozenset[GenerationKind]
    max_references: int
    retention: str
    supports_deletion: bool
    processor: str | None
    min_references: int = 0


@dataclass(frozen=True, slots=True)
class ReferenceImage:
    data: bytes
    content_type: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ProviderRequest:
    """What a provider receives. ``idempotency_key`` is stable across retries of the same generation.

    ``improvement_allowed`` is the subject's "use my content to improve the service" at the hand-off (off unless
    they turned it on and neither objected nor restricted processing). An adapter whose vendor API offers a
    no-training or zero-retention option sends it unless this is true; one without says so in its docstring (and the
    processor record, ``training_use``) and sends nothing invented.
    """

    idempotency_key: str
    kind: GenerationKind
    prompt: str
    references: tuple[ReferenceImage, ...]
    aspect_ratio: str
    count: int
    duration_seconds: int
    seed: int | None
    improvement_allowed: bool = False


class ProviderJobState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class ProviderOutput:
    """Where one output lives at the provider: a URL to fetch, or bytes that came inline with the answer."""

    content_type: str
    url: str | None = None
    inline: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ProviderJob:
    provider_job_id: str
    state: ProviderJobState
    outputs: tuple[ProviderOutput, ...] = ()
    failure: str | None = None  # user-safe reason when FAILED
    poll_after_seconds: float = 1.0


class ProviderError(Exception):
    """Base of provider failures. Messages are safe to show to the subject (never a vendor's raw answer)."""

    retryable = False


class ProviderUnavailable(ProviderError):
    """429, 5xx, timeouts or connection errors: try again, no sooner than ``retry_after`` seconds if given."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderAuthFailed(ProviderError):
    """The provider refused our credentials (401/403): an operator must fix the configuration."""


class ProviderRefused(ProviderError):
    """The provider refused the content (its safety policy)."""


class ProviderBadResponse(ProviderError):
    """The provider answered with something its documented API does not allow."""


class ProviderJobNotFound(ProviderError):
    """The provider does not know the job (expired, deleted, or never created)."""


class DeletionOutcome(enum.StrEnum):
    DELETED = "deleted"
    NOT_SUPPORTED = "not_supported"
    NOT_FOUND = "not_found"


class ModelProvider(Protocol):
    """An AI model behind one API. Every adapter passes the same contract suite."""

    name: str
    capabilities: ProviderCapabilities

    async def submit(self, request: ProviderRequest) -> ProviderJob:
        """Start a job; synchronous providers answer with a finished job."""
        ...

    async def status(self, provider_job_id: str) -> ProviderJob: ...

    def fetch(self, output: ProviderOutput) -> AsyncIterator[bytes]:
        """The output's bytes as a stream."""
        ...

    async def cancel(self, provider_job_id: str) -> None:
        """Stop a job that has not finished (no-op if it has, or if the provider runs jobs synchronously)."""
        ...

    async def delete(self, provider_job_id: str) -> DeletionOutcome:
        """Ask the provider to forget the job, its inputs and outputs, where its API allows."""
        ...


# --- queue and charges ----------------------------------------------------------------------------------------


class JobQueue(Protocol):
    """Runs jobs by id: generation jobs, and on a queue of their own the data-rights module's exports and erasures.
    Jobs carry ids only; running the same id twice is harmless."""

    async def enqueue(self, generation_id: UUID, *, attempt: int = 0, delay_seconds: float = 0.0) -> None: ...


class GenerationCharges(Protocol):
    """The seam billing plugs into. Each call is idempotent per ``generation_id``: a retry after a crash may
    repeat one, never change its effect. ``reserve`` at submission, then exactly one of ``capture`` (succeeded)
    or ``release`` (failed, canceled, deleted before finishing)."""

    async def reserve(
        self, uow: BillingStores, subject_id: UUID, generation_id: UUID, kind: GenerationKind, units: int
    ) -> None:
        """Hold the cost of the generation inside ``uow``, which commits it with the generation row (a crash between
        the two cannot hold credits for a job that does not exist); raises a ``DomainError`` (e.g. insufficient
        credits) to refuse it, or ``Conflict`` when a concurrent writer won (the caller retries the unit of work)."""
        ...

    async def capture(self, generation_id: UUID) -> None: ...

    async def release(self, generation_id: UUID) -> None: ...


# --- reference images -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SanitizedImage:
    """An image decoded and re-encoded from pixels only: no EXIF, GPS, XMP, ICC profile or comments."""

    data: bytes = field(repr=False)
    content_type: str
    width: int
    height: int


class ImageRejected(ValueError):
    """The bytes are not an acceptable image; ``reason`` is a stable code (not_an_image, truncated, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ImageSanitizer(Protocol):
    def sanitize(self, data: bytes) -> SanitizedImage:
        """Decide the type by decoding (PNG, JPEG, WebP only), check limits, re-encode; raises ``ImageRejected``."""
        ...


class MediaRenderer(Protocol):
    """Draws images and encodes videos from a prompt and references (the offline provider's engine)."""

    def image(self, request: ProviderRequest, index: int) -> bytes:
        """A PNG."""
        ...

    def video(self, request: ProviderRequest) -> bytes:
        """An MP4."""
        ...


class GenerationStores(Protocol):
    """The generation module's stores in a unit of work."""

    uploads: UploadRepository
    generations: GenerationRepository
