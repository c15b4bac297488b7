"""Content moderation (policy section 3: "to prevent fraud, abuse, and security incidents"): what checks a prompt or
an image before anything leaves for a model provider, and the records a refusal leaves.

A pass leaves no record at all (data minimisation): only refusals are kept, and a refusal keeps the category, the
time, what was checked and a keyed hash (HMAC) of the input, never the input itself. Repeated refusals put the
account under moderation review; staff decide in a queue.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

OPEN_REVIEW_EXISTS = "this account already has an open moderation review"  # the Conflict a second open review gets


class CheckedContent(enum.StrEnum):
    """What a moderation check looked at."""

    PROMPT = "prompt"  # a generation's prompt, before the charge is reserved
    UPLOAD = "upload"  # a reference image, after it was decoded and before it is stored
    OUTPUT = "output"  # a provider's output image, before it is stored and served


@dataclass(frozen=True, slots=True)
class ModerationVerdict:
    """A moderator's answer: ``category`` names why the input was refused (None: it passed)."""

    category: str | None = None

    @property
    def refused(self) -> bool:
        return self.category is not None


PASSED = ModerationVerdict()


class ModerationUnavailable(Exception):
    """The moderator could not answer (outage, timeout, rate limit, bad credentials): nothing may go on unchecked."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ContentModerator(Protocol):
    """Checks text and images. ``processor`` names the data-map processor the input is handed to (None: checked in
    this process), so every hand-off is written to the disclosure ledger before it is made."""

    @property
    def name(self) -> str: ...

    @property
    def processor(self) -> str | None: ...

    async def check_text(self, text: str) -> ModerationVerdict:
        """Raises :class:`ModerationUnavailable` if no verdict could be had."""
        ...

    async def check_image(self, data: bytes, content_type: str) -> ModerationVerdict:
        """``data``: an encoded PNG, JPEG or WebP image. Raises :class:`ModerationUnavailable`."""
        ...


class FramesUnavailable(Exception):
    """The video could not be decoded into frames (so it cannot be checked, and is not served)."""


class VideoFrames(Protocol):
    """Still frames of a video, for moderators that take images only (none we use takes video)."""

    async def sample(self, data: bytes, content_type: str) -> list[bytes]:
        """A few frames spread over the video (its first, middle and last), each a PNG; ``FramesUnavailable``."""
        ...


@dataclass(frozen=True, slots=True)
class ModerationRecord:
    """One refusal. ``input_hmac`` is a keyed hash of what was refused (the same prompt refused twice hashes the
    same), so repeats can be recognised without keeping the input."""

    id: UUID
    subject_id: UUID
    checked: CheckedContent
    category: str
    input_hmac: str
    occurred_at: datetime


class ReviewStatus(enum.StrEnum):
    OPEN = "open"  # generation and uploads are paused until staff decide
    LIFTED = "lifted"  # staff found nothing to act on: the pause is over
    SUSPENDED = "suspended"  # staff suspended the account


@dataclass(slots=True)
class ModerationReview:
    """An account put under review by repeated refusals (``refusals``: how many were in the window then)."""

    id: UUID
    subject_id: UUID
    status: ReviewStatus
    refusals: int
    opened_at: datetime
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is ReviewStatus.OPEN


class ModerationRecordRepository(Protocol):
    async def add(self, record: ModerationRecord) -> None: ...

    async def for_subject(self, subject_id: UUID) -> list[ModerationRecord]:
        """The subject's refusals, oldest first."""
        ...

    async def count_since(self, subject_id: UUID, since: datetime) -> int:
        """How many refusals of the subject occurred at or after ``since``."""
        ...

    async def delete_for_subject(self, subject_id: UUID) -> int: ...

    async def count_older(self, before: datetime) -> int:
        """Refusals that occurred before ``before`` (past their retention period)."""
        ...

    async def delete_older(self, before: datetime, limit: int) -> int:
        """Delete at most ``limit`` of them, oldest first; returns how many."""
        ...


class ModerationReviewRepository(Protocol):
    async def add(self, review: ModerationReview) -> None:
        """Store a new review; ``Conflict`` if the subject already has an open one."""
        ...

    async def get(self, review_id: UUID) -> ModerationReview | None: ...

    async def open_for(self, subject_id: UUID) -> ModerationReview | None:
        """The subject's open review, if any."""
        ...

    async def open_reviews(self, limit: int) -> list[ModerationReview]:
        """Open reviews, oldest first."""
        ...

    async def close_if_open(self, review_id: UUID, status: ReviewStatus, now: datetime) -> bool:
        """Close the review only if it is still open (compare-and-set); returns whether this call closed it."""
        ...

    async def for_subject(self, subject_id: UUID) -> list[ModerationReview]:
        """The subject's reviews, oldest first."""
        ...

    async def delete_for_subject(self, subject_id: UUID) -> int: ...

    async def count_closed_before(self, before: datetime) -> int: ...

    async def delete_closed_before(self, before: datetime, limit: int) -> int:
        """Delete at most ``limit`` reviews closed before ``before``; returns how many."""
        ...


class ModerationStores(Protocol):
    moderation_records: ModerationRecordRepository
    moderation_reviews: ModerationReviewRepository
