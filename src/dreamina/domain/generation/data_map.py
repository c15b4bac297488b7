"""What the generation module stores (G1): uploads, generations and their references, the object prefixes
``uploads/`` and ``outputs/``, and its retention line (the subject's own content-retention setting)."""

from __future__ import annotations

from dreamina.domain.privacy.datamap import (
    ACCOUNT_LIFETIME,
    DataDeclaration,
    FieldDeclaration,
    ObjectPrefixDeclaration,
    StoreDeclaration,
    non_personal,
)
from dreamina.domain.privacy.processors import MODEL_PROVIDERS, MODERATION_VENDORS
from dreamina.domain.privacy.schedule import (
    PeriodKind,
    RetentionPeriod,
    ScheduleAction,
    ScheduleEntry,
)
from dreamina.domain.privacy.vocabulary import DataCategory, Purpose, RetentionRule

GENERATION_LIFETIME = RetentionRule(
    "kept until the subject deletes the generation or the account, or for the days the subject chose "
    "(content_retention_days)"
)
UPLOAD_LIFETIME = RetentionRule(
    "kept until the subject deletes the generations using it, or the account; an upload no generation uses goes "
    "after the days the subject chose (content_retention_days)"
)


_OWNER = FieldDeclaration(
    DataCategory.ACCOUNT,
    "id of the account the record belongs to",
    purposes=(Purpose.GENERATION,),
    retention=ACCOUNT_LIFETIME,
    links_subject=True,
)


def _content(description: str, retention: RetentionRule = GENERATION_LIFETIME) -> FieldDeclaration:
    return FieldDeclaration(DataCategory.CONTENT, description, purposes=(Purpose.GENERATION,), retention=retention)


GENERATION_DATA = DataDeclaration(
    stores=(
        StoreDeclaration(
            "uploads",
            "reference images the subject uploaded; the pixels live in the object store under uploads/",
            {
                "id": non_personal("random upload id"),
                "subject_id": _OWNER,
                "object_key": _content("where the re-encoded image is stored", UPLOAD_LIFETIME),
                "content_type": non_personal("image/png, image/jpeg or image/webp"),
                "width": non_personal("width in pixels"),
                "height": non_personal("height in pixels"),
                "bytes": non_personal("size of the stored image"),
                "created_at": _content("when it was uploaded", UPLOAD_LIFETIME),
            },
        ),
        StoreDeclaration(
            "generations",
            "image and video generation jobs; outputs live in the object store under outputs/",
            {
                "id": non_personal("random generation id"),
                "subject_id": _OWNER,
                "kind": non_personal("image or video"),
                "status": non_personal("queued, running, succeeded, failed or canceled"),
                "prompt_ciphertext": FieldDeclaration(
                    DataCategory.CONTENT,
                    "the prompt, encrypted with the subject's data key (checked by the content moderator before the "
                    "charge is reserved)",
                    purposes=(Purpose.GENERATION, Purpose.SECURITY),
                    retention=GENERATION_LIFETIME,
                    processors=MODEL_PROVIDERS + MODERATION_VENDORS,
                    encrypted=True,
                ),
                "params": _content("aspect ratio, count or duration, seed"),
                "provider": non_personal("which configured model provider runs it"),
                "provider_job_id": FieldDeclaration(
                    DataCategory.TECHNICAL,
                    "the provider's id for the job (to poll it, cancel it and ask it to delete its copy)",
                    purposes=(Purpose.GENERATION,),
                    retention=GENERATION_LIFETIME,
                ),
                "attempts": non_personal("how many times the job was run"),
                "failure_reason": non_personal("a user-safe reason when the job failed"),
                "outputs": _content("object keys, media types and sizes of the outputs"),
                "created_at": _content("when it was submitted"),
                "updated_at": _content("when it last changed"),
            },
        ),
        StoreDeclaration(
            "generation_references",
            "which uploads a generation uses as references",
            {
                "generation_id": non_personal("the generation"),
                "position": non_personal("order of the reference"),
                "upload_id": non_personal("the upload"),
            },
        ),
    ),
    object_prefixes=(
        ObjectPrefixDeclaration(
            "uploads/",
            DataCategory.CONTENT,
            "reference images the subject uploaded (metadata stripped; checked by the content moderator first)",
            (Purpose.GENERATION, Purpose.SECURITY),
            UPLOAD_LIFETIME,
            processors=MODEL_PROVIDERS + MODERATION_VENDORS,
        ),
        ObjectPrefixDeclaration(
            "outputs/",
            DataCategory.CONTENT,
            "images and videos generated for the subject (each image checked by the content moderator first)",
            (Purpose.GENERATION, Purpose.SECURITY),
            GENERATION_LIFETIME,
            processors=MODERATION_VENDORS,
        ),
    ),
    schedule=(
        ScheduleEntry(
            "prompts_and_outputs",
            DataCategory.CONTENT,
            RetentionPeriod(PeriodKind.ACCOUNT_SETTING, None, "the generation being submitted"),
            ScheduleAction.DELETE,
            "generations (prompt, parameters, outputs and reference uploads no other generation uses) are kept until "
            "you delete them, or deleted automatically after the number of days you set (PATCH /v1/me "
            "content_retention_days, 1 to 3650); with that setting, reference uploads no generation uses are deleted, "
            "image included, once they are older than the same number of days",
            stores=("generations", "generation_references", "uploads"),
            prefix="outputs/",
            tasks=("generations.owner_retention", "uploads.owner_retention"),
        ),
    ),
)
