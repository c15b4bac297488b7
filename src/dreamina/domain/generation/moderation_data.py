"""Data-map declaration of content moderation (policy section 3, "to prevent fraud, abuse, and security incidents").

Only refusals are recorded; a pass leaves nothing. A refusal keeps what was checked, the category, the time and a
keyed hash (HMAC under a key derived from the master key) of the input, never the prompt or image. Refusal records
are deleted 1 year after the refusal; a closed review 1 year after it was closed. The subject's export lists both;
their erasure deletes both (no legal hold: nothing obliges us to keep them).
"""

from __future__ import annotations

from dreamina.domain.privacy.datamap import DataDeclaration, FieldDeclaration, StoreDeclaration, non_personal
from dreamina.domain.privacy.schedule import ScheduleAction, ScheduleEntry, days_from
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionAction, RetentionRule

MODERATION_RECORD_DAYS = 365
MODERATION_REVIEW_DAYS = 365

REFUSAL_RECORD = RetentionRule(
    f"deleted {MODERATION_RECORD_DAYS} days after the refusal, or with the account",
    RetentionAction.DELETE,
    MODERATION_RECORD_DAYS,
)
REVIEW_RECORD = RetentionRule(
    f"kept while open; deleted {MODERATION_REVIEW_DAYS} days after staff closed it, or with the account",
    RetentionAction.DELETE,
    MODERATION_REVIEW_DAYS,
)


def _refusal(description: str, *, links: bool = False, retention: RetentionRule = REFUSAL_RECORD) -> FieldDeclaration:
    return FieldDeclaration(
        DataCategory.USAGE,
        description,
        purposes=(Purpose.SECURITY,),
        legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
        retention=retention,
        links_subject=links,
    )


MODERATION_DATA = DataDeclaration(
    stores=(
        StoreDeclaration(
            "moderation_records",
            "refusals by the content moderator (a pass is not recorded): what was checked, why it was refused and "
            "when, with a keyed hash of the input instead of the input",
            {
                "id": non_personal("random record id"),
                "subject_id": _refusal("the account whose prompt or image was refused", links=True),
                "checked": _refusal("prompt, upload or output"),
                "category": _refusal("the moderator's category for the refusal, e.g. violence or blocked_term"),
                "input_hmac": _refusal(
                    "HMAC-SHA256 of the refused input under a key derived from the master key: recognises a "
                    "repeated input, cannot be reversed without the key; never the prompt or image itself"
                ),
                "occurred_at": _refusal("when the input was refused"),
            },
        ),
        StoreDeclaration(
            "moderation_reviews",
            "accounts put under moderation review by repeated refusals: generation and uploads are paused until "
            "staff lift the review or suspend the account",
            {
                "id": non_personal("random review id"),
                "subject_id": _refusal("the account under review", links=True, retention=REVIEW_RECORD),
                "status": non_personal("open, lifted or suspended (the subject's erasure deletes the review)"),
                "refusals": _refusal("how many refusals in the window opened it", retention=REVIEW_RECORD),
                "opened_at": _refusal("when the review opened", retention=REVIEW_RECORD),
                "closed_at": non_personal("when staff decided"),
            },
        ),
    ),
    schedule=(
        ScheduleEntry(
            "moderation_records",
            DataCategory.USAGE,
            days_from(MODERATION_RECORD_DAYS, "the refusal"),
            ScheduleAction.DELETE,
            "a content-moderation refusal (what was checked, category, time, keyed hash of the input; never the "
            "input) is deleted 1 year after the refusal",
            stores=("moderation_records",),
            tasks=("moderation_records.expired",),
        ),
        ScheduleEntry(
            "moderation_reviews",
            DataCategory.USAGE,
            days_from(MODERATION_REVIEW_DAYS, "the review's closing"),
            ScheduleAction.DELETE,
            "a closed moderation review is deleted 1 year after staff closed it (an open one is kept until decided)",
            stores=("moderation_reviews",),
            tasks=("moderation_reviews.closed",),
        ),
    ),
)
