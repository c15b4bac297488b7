"""Content moderation at the outbound port (policy section 3): every prompt, reference image and output image is
checked by the configured :class:`~dreamina.ports.moderation.ContentModerator` before a model provider receives it or
it is stored and served.

Fail closed: a moderator that cannot answer stops the request (503 ``busy`` with ``Retry-After``); nothing goes on
unchecked. A refusal answers 422 ``content_refused`` with its category, before any charge or provider call, and
leaves one record (category, time, what was checked, an HMAC of the input; never the input). A pass leaves nothing.
Repeated refusals within the window put the account under moderation review (403 ``moderation_review`` for new
generations and uploads until staff decide). Handing the input to a moderation vendor is a disclosure: it is
written to the ledger, committed, before the request is made.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from dreamina.domain.privacy.errors import (
    Conflict,
    DomainError,
    Forbidden,
    ProcessingRestricted,
    StoreBusy,
    UnderAgeReview,
)
from dreamina.domain.privacy.retries import retry_on_conflict
from dreamina.domain.privacy.standing import AGE_REVIEW_OPEN
from dreamina.domain.privacy.vocabulary import DataCategory, Purpose
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.disclosures import Disclosure
from dreamina.ports.keys import KeyVault
from dreamina.ports.moderation import (
    CheckedContent,
    ContentModerator,
    ModerationRecord,
    ModerationReview,
    ModerationUnavailable,
    ModerationVerdict,
    ReviewStatus,
    VideoFrames,
)
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

OPENED = "moderation_review_opened"  # the audit action of a review repeated refusals opened
INPUT_INDEX = "moderation_input"  # the blind-index purpose the refused inputs' HMACs are made under


class ContentRefused(DomainError):
    """The content moderator refused the prompt or image (422); ``category`` says why."""

    code = "content_refused"
    title = "The content was refused by our content policy"


class ModerationBusy(StoreBusy):
    """The content moderator could not answer: nothing was sent on unchecked (503 with ``Retry-After``)."""

    title = "Content checks are unavailable, try again"
    retry_after_seconds = 30


class UnderModerationReview(Forbidden):
    """Repeated refusals put the account under moderation review: until staff decide, the holder may sign in, read,
    export, correct and delete their data, but not generate or upload."""

    code = "moderation_review"
    title = "Your account is under moderation review"


@dataclass(frozen=True, slots=True)
class ModerationRules:
    review_threshold: int = 5  # refusals within the window that open a review
    review_window_seconds: int = 24 * 3600


async def refuse_new_content(uow: UnitOfWork, subject_id: UUID) -> None:
    """A new upload or generation is refused, in this order: 403 ``age_review`` while the account is under age
    review (policy section 9), 403 ``moderation_review`` while its moderation review is open, 403
    ``processing_restricted`` while processing is restricted (G4: storing or generating is processing). One read."""
    standing = await uow.standing.of(subject_id)
    if standing.under_age_review:
        raise UnderAgeReview(AGE_REVIEW_OPEN)
    if standing.under_moderation_review:
        raise UnderModerationReview("your account is under moderation review; our staff will decide shortly")
    if standing.restricted:
        raise ProcessingRestricted("your data may not be processed while the restriction is in place")


def input_hmac(vault: KeyVault, checked: CheckedContent, content: str | bytes) -> str:
    """The keyed hash a refusal keeps in place of its input (an image's is over its SHA-256)."""
    value = content if isinstance(content, str) else hashlib.sha256(content).hexdigest()
    return vault.blind_index(f"{INPUT_INDEX}/{checked.value}", value)


class ContentScreening:
    """Checks content for a subject, records refusals and opens reviews."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        moderator: ContentModerator,
        vault: KeyVault,
        clock: Clock,
        rules: ModerationRules | None = None,
        frames: VideoFrames | None = None,
    ) -> None:
        self._uow = uow
        self.moderator = moderator
        self.frames = frames  # how a video output is checked: its frames, as images (None: videos unchecked)
        self._vault = vault
        self._clock = clock
        self.rules = rules or ModerationRules()

    async def check_prompt(self, subject_id: UUID, prompt: str) -> None:
        """``ContentRefused`` or ``ModerationBusy``; returns only when the prompt passed."""
        await self._disclose(subject_id, CheckedContent.PROMPT)
        verdict = await self._ask(self.moderator.check_text(prompt))
        await self._settle(subject_id, CheckedContent.PROMPT, prompt, verdict)

    async def check_image(self, subject_id: UUID, data: bytes, content_type: str, checked: CheckedContent) -> None:
        """``ContentRefused`` or ``ModerationBusy``; returns only when the image passed."""
        await self._disclose(subject_id, checked)
        verdict = await self._ask(self.moderator.check_image(data, content_type))
        await self._settle(subject_id, checked, data, verdict)

    async def _ask(self, pending: Awaitable[ModerationVerdict]) -> ModerationVerdict:
        try:
            return await pending
        except ModerationUnavailable as outage:
            busy = ModerationBusy("content checks are unavailable; nothing was sent on, please try again later")
            if outage.retry_after is not None:
                busy.retry_after_seconds = max(1, int(outage.retry_after))
            raise busy from None

    async def _disclose(self, subject_id: UUID, checked: CheckedContent) -> None:
        processor = self.moderator.processor
        if processor is None:
            return  # checked in this process: nothing leaves
        async with self._uow() as uow:
            await uow.disclosures.record(
                Disclosure(
                    id=uuid.uuid4(),
                    subject_id=subject_id,
                    processor=processor,
                    categories=(DataCategory.CONTENT.value,),
                    purpose=Purpose.SECURITY.value,
                    reference=None,
                    occurred_at=self._clock.now(),
                )
            )
            await uow.commit()

    async def _settle(
        self, subject_id: UUID, checked: CheckedContent, content: str | bytes, verdict: ModerationVerdict
    ) -> None:
        if verdict.category is None:
            return  # a pass is not recorded
        category = verdict.category
        record = ModerationRecord(
            id=uuid.uuid4(),
            subject_id=subject_id,
            checked=checked,
            category=category,
            input_hmac=input_hmac(self._vault, checked, content),
            occurred_at=self._clock.now(),
        )

        async def store() -> None:
            async with self._uow() as uow:
                await uow.moderation_records.add(record)
                await self._maybe_open_review(uow, subject_id)
                await uow.commit()

        await retry_on_conflict(store)
        raise ContentRefused(f"this {checked.value} was refused by our content policy ({category})", category=category)

    async def _maybe_open_review(self, uow: UnitOfWork, subject_id: UUID) -> None:
        now = self._clock.now()
        since = now - timedelta(seconds=self.rules.review_window_seconds)
        refusals = await uow.moderation_records.count_since(subject_id, since)
        if refusals < self.rules.review_threshold or await uow.moderation_reviews.open_for(subject_id) is not None:
            return
        review = ModerationReview(uuid.uuid4(), subject_id, ReviewStatus.OPEN, refusals, now)
        try:
            await uow.moderation_reviews.add(review)
        except Conflict:
            return  # opened by a refusal at the same moment
        reason = f"{refusals} refusals within {self.rules.review_window_seconds} s"
        paused = ("generation", "uploads")
        opened = AuditEvent(uuid.uuid4(), subject_id, ActorKind.SYSTEM, None, OPENED, paused, reason, now)
        await uow.audit.append(opened)
