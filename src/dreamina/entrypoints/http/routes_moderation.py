"""Routes of content moderation: the staff queue of accounts paused by repeated refusals, and its decisions.

Support staff and admins list open reviews and decide them: ``lift`` ends the pause, ``suspend`` suspends the
account (audited, with the reason). A refused prompt or image answers 422 ``content_refused`` on the generation and
upload routes (this face declares its status); a paused account 403 ``moderation_review``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from dreamina.domain.generation.moderation import ContentRefused
from dreamina.domain.generation.moderation_review import MAX_REASON, QUEUE_MAX, ModerationReviews, ReviewClosed
from dreamina.domain.identity.accounts import Principal
from dreamina.entrypoints.http.auth import SECURED, STAFF, TRUST_AND_SAFETY
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.problems import problem_responses
from dreamina.entrypoints.http.texts import stated_text
from dreamina.ports.moderation import ModerationReview, ReviewStatus

MODERATORS = TRUST_AND_SAFETY


class ModerationReviewBody(msgspec.Struct):
    id: UUID
    subject_id: UUID
    status: ReviewStatus
    refusals: int  # refusals within the window when the review opened
    opened_at: datetime
    closed_at: datetime | None


class ModerationReviewList(msgspec.Struct):
    reviews: list[ModerationReviewBody]


class ModerationDecision(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[
        str, Meta(min_length=1, max_length=MAX_REASON * 4), stated_text(MAX_REASON, min_length=1, multiline=True)
    ]


def _body(r: ModerationReview) -> ModerationReviewBody:
    return ModerationReviewBody(r.id, r.subject_id, r.status, r.refusals, r.opened_at, r.closed_at)


class ModerationReviewQueueController(Controller):
    path = "/v1/admin/moderation/reviews"
    tags = ["admin", "moderation"]
    security = SECURED
    dependencies = STAFF

    @get("/", guards=[MODERATORS], summary="Open moderation reviews, oldest first")
    async def queue(
        self,
        staff: NamedDependency[Principal],
        moderation_reviews: NamedDependency[ModerationReviews],
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=QUEUE_MAX)] = 50,
    ) -> ModerationReviewList:
        return ModerationReviewList(reviews=[_body(r) for r in await moderation_reviews.queue(staff.account_id, limit)])

    @post(
        "/{review_id:uuid}/lift",
        status_code=200,
        guards=[MODERATORS],
        summary="Lift: nothing to act on; generation and uploads work again (audited)",
        responses=problem_responses(404, 409, 422),
    )
    async def lift(
        self,
        review_id: FromPath[UUID],
        data: JSONBody[ModerationDecision],
        staff: NamedDependency[Principal],
        moderation_reviews: NamedDependency[ModerationReviews],
    ) -> ModerationReviewBody:
        return _body(await moderation_reviews.lift(staff.account_id, review_id, data.reason))

    @post(
        "/{review_id:uuid}/suspend",
        status_code=200,
        guards=[MODERATORS],
        summary="Suspend the account: sign-in refused, unfinished generations stopped (audited)",
        responses=problem_responses(404, 409, 422),
    )
    async def suspend(
        self,
        review_id: FromPath[UUID],
        data: JSONBody[ModerationDecision],
        staff: NamedDependency[Principal],
        moderation_reviews: NamedDependency[ModerationReviews],
    ) -> ModerationReviewBody:
        return _body(await moderation_reviews.suspend(staff.account_id, review_id, data.reason))


FACE = HttpFace(
    routes=[ModerationReviewQueueController],
    problems={ContentRefused: 422, ReviewClosed: 409},
    dependencies={"moderation_reviews": lambda c: c.generation.moderation_reviews},
)
