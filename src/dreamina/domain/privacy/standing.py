"""The one guard every use case that creates something new for a subject calls (generation, uploads, purchases):
an account under age review (policy section 9) keeps its rights but starts nothing new until staff decide."""

from __future__ import annotations

from uuid import UUID

from dreamina.domain.privacy.errors import UnderAgeReview
from dreamina.ports.identity import AccountRepository

AGE_REVIEW_OPEN = "an age review of your account is open; you can answer it at /v1/me/age-review/statement"


async def refuse_during_age_review(accounts: AccountRepository, subject_id: UUID) -> None:
    """Raise :class:`UnderAgeReview` (403 ``age_review``) if the subject's account is under age review."""
    account = await accounts.get(subject_id)
    if account is not None and account.under_age_review:
        raise UnderAgeReview(AGE_REVIEW_OPEN)
