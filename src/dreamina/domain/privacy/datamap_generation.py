"""Data-map declarations of the generation module's tables (its object prefixes ``uploads/`` and ``outputs/``
are declared in :mod:`dreamina.domain.privacy.datamap`).

A function rather than a module constant: ``datamap`` calls it while building ``STORES``, and the declaration
classes live there, so importing them at module level would be circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionRule

if TYPE_CHECKING:
    from dreamina.domain.privacy.datamap import StoreDeclaration

GENERATION_LIFETIME = RetentionRule(
    "kept until the subject deletes the generation or the account, or for the days the subject chose "
    "(content_retention_days)"
)
UPLOAD_LIFETIME = RetentionRule(
    "kept until the subject deletes the generations using it, or the account; an upload no generation uses goes "
    "after the days the subject chose (content_retention_days)"
)


def generation_stores() -> tuple[StoreDeclaration, ...]:
    """The generation module's tables, declared."""
    from dreamina.domain.privacy import datamap as _dm

    _F = _dm.FieldDeclaration

    def _np(description: str) -> _dm.FieldDeclaration:
        return _F(DataCategory.NON_PERSONAL, description, purposes=(), legal_basis=LegalBasis.NOT_APPLICABLE)

    owner = _F(
        DataCategory.ACCOUNT,
        "id of the account the record belongs to",
        purposes=(Purpose.GENERATION,),
        retention=_dm.ACCOUNT_LIFETIME,
        links_subject=True,
    )

    def _content(description: str, retention: RetentionRule = GENERATION_LIFETIME) -> _dm.FieldDeclaration:
        return _F(DataCategory.CONTENT, description, purposes=(Purpose.GENERATION,), retention=retention)

    return (
        _dm.StoreDeclaration(
            "uploads",
            "reference images the subject uploaded; the pixels live in the object store under uploads/",
            {
                "id": _np("random upload id"),
                "subject_id": owner,
                "object_key": _content("where the re-encoded image is stored", UPLOAD_LIFETIME),
                "content_type": _np("image/png, image/jpeg or image/webp"),
                "width": _np("width in pixels"),
                "height": _np("height in pixels"),
                "bytes": _np("size of the stored image"),
                "created_at": _content("when it was uploaded", UPLOAD_LIFETIME),
            },
        ),
        _dm.StoreDeclaration(
            "generations",
            "image and video generation jobs; outputs live in the object store under outputs/",
            {
                "id": _np("random generation id"),
                "subject_id": owner,
                "kind": _np("image or video"),
                "status": _np("queued, running, succeeded, failed or canceled"),
                "prompt_ciphertext": _F(
                    DataCategory.CONTENT,
                    "the prompt, encrypted with the subject's data key",
                    purposes=(Purpose.GENERATION,),
                    retention=GENERATION_LIFETIME,
                    processors=_dm.MODEL_PROVIDERS,
                    encrypted=True,
                ),
                "params": _content("aspect ratio, count or duration, seed"),
                "provider": _np("which configured model provider runs it"),
                "provider_job_id": _F(
                    DataCategory.TECHNICAL,
                    "the provider's id for the job (to poll it, cancel it and ask it to delete its copy)",
                    purposes=(Purpose.GENERATION,),
                    retention=GENERATION_LIFETIME,
                ),
                "attempts": _np("how many times the job was run"),
                "failure_reason": _np("a user-safe reason when the job failed"),
                "outputs": _content("object keys, media types and sizes of the outputs"),
                "created_at": _content("when it was submitted"),
                "updated_at": _content("when it last changed"),
            },
        ),
        _dm.StoreDeclaration(
            "generation_references",
            "which uploads a generation uses as references",
            {
                "generation_id": _np("the generation"),
                "position": _np("order of the reference"),
                "upload_id": _np("the upload"),
            },
        ),
    )
