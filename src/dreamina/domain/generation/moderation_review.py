"""The staff side of moderation reviews: the queue of accounts paused by repeated refusals, and the two decisions.

Lifting ends the pause. Suspending uses the account's own suspension (:meth:`Account.suspend`, as the erasure saga
does: sign-in and tokens are refused) and stops the account's unfinished generations with their charges released.
Both decisions are audited with the staff member and their reason; no staff member decides a review of their own
account, and a staff member's review only an admin decides (to anyone else it is "no such review").
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from dreamina.domain.privacy.errors import Conflict, InvalidInput, NotFound
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.moderation import ModerationReview, ReviewStatus
from dreamina.ports.staff import StaffRole
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

MAX_REASON = 500
QUEUE_MAX = 100
VIEWED = "staff_viewed_moderation_review"  # the audit action of a review shown to staff


class ReviewClosed(Conflict):
    """Another decision closed the review first."""

    code = "review_closed"
    title = "The review is already closed"


class ModerationReviews:
    """Staff decide open moderation reviews. ``stop_generations`` stops a suspended account's unfinished jobs."""

    def __init__(
        self, *, uow: UnitOfWorkFactory, clock: Clock, stop_generations: Callable[[UUID], Awaitable[int]]
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._stop_generations = stop_generations

    async def queue(self, staff_id: UUID, limit: int = 50) -> list[ModerationReview]:
        """Open reviews, oldest first (never one of the staff member's own account); every review listed is recorded
        as a staff view of that subject."""
        if not 1 <= limit <= QUEUE_MAX:
            raise InvalidInput(f"limit must be 1..{QUEUE_MAX}", field="limit")
        now = self._clock.now()
        async with self._uow() as uow:
            reviews = await uow.moderation_reviews.open_reviews(QUEUE_MAX + 1)
            listed = [r for r in reviews if await _may_decide(uow, r, staff_id)][:limit]
            for review in listed:
                await self._audit(uow, review, staff_id, VIEWED, (), "listed in the queue", now)
            await uow.commit()
        return listed

    async def lift(self, staff_id: UUID, review_id: UUID, reason: str) -> ModerationReview:
        """Nothing to act on: generation and uploads work again."""
        return await self._decide(staff_id, review_id, reason, ReviewStatus.LIFTED)

    async def suspend(self, staff_id: UUID, review_id: UUID, reason: str) -> ModerationReview:
        """Abuse confirmed: the account is suspended and its unfinished generations stopped."""
        review = await self._decide(staff_id, review_id, reason, ReviewStatus.SUSPENDED)
        await self._stop_generations(review.subject_id)
        return review

    async def _decide(self, staff_id: UUID, review_id: UUID, reason: str, status: ReviewStatus) -> ModerationReview:
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise InvalidInput(f"a reason of 1..{MAX_REASON} characters is required", field="reason")
        now = self._clock.now()
        async with self._uow() as uow:
            review = await self._get(uow, review_id, staff_id)
            if not await uow.moderation_reviews.close_if_open(review_id, status, now):
                raise ReviewClosed("the review is already closed")
            fields: tuple[str, ...] = ("generation", "uploads")
            if status is ReviewStatus.SUSPENDED:
                account = await uow.accounts.get(review.subject_id)
                if account is not None and account.suspend(now):
                    await uow.accounts.update(account)
                    fields = (*fields, "status")
            await self._audit(uow, review, staff_id, f"moderation_review_{status.value}", fields, reason, now)
            await uow.commit()
        review.status, review.closed_at = status, now
        return review

    @staticmethod
    async def _audit(
        uow: UnitOfWork,
        review: ModerationReview,
        staff_id: UUID,
        action: str,
        fields: tuple[str, ...],
        reason: str,
        now: datetime,
    ) -> None:
        event = AuditEvent(uuid.uuid4(), review.subject_id, ActorKind.STAFF, staff_id, action, fields, reason, now)
        await uow.audit.append(event)

    async def _get(self, uow: UnitOfWork, review_id: UUID, staff_id: UUID) -> ModerationReview:
        review = await uow.moderation_reviews.get(review_id)
        if review is None or not await _may_decide(uow, review, staff_id):
            raise NotFound("no such review")  # a review the caller may not decide is indistinguishable from none
        return review


async def _may_decide(uow: UnitOfWork, review: ModerationReview, staff_id: UUID) -> bool:
    """Never one's own review; a staff member's review only as an admin (as child reports about staff are)."""
    if review.subject_id == staff_id:
        return False
    if await uow.staff.get(review.subject_id) is None:
        return True
    viewer = await uow.staff.get(staff_id)
    return viewer is not None and viewer.role is StaffRole.ADMIN
