"""Reference uploads: decoded, limited, stripped of metadata and checked by the content moderator before anything is
stored."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from dreamina.domain.generation.errors import ImageTooLarge, UnsupportedImage
from dreamina.domain.generation.moderation import ContentScreening, refuse_new_content
from dreamina.domain.generation.rules import PAGE_SIZE_MAX
from dreamina.domain.generation.views import decode_cursor, encode_cursor
from dreamina.domain.privacy.errors import Conflict, InvalidInput, NotFound
from dreamina.domain.privacy.idempotency import KeptAnswer
from dreamina.ports.audit import ActorKind, AuditEvent
from dreamina.ports.clock import Clock
from dreamina.ports.generation import ImageRejected, ImageSanitizer, Upload
from dreamina.ports.moderation import CheckedContent
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.unit_of_work import UnitOfWorkFactory

UPLOAD_PREFIX = "uploads"
_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


def upload_key(subject_id: UUID, upload_id: UUID, content_type: str) -> str:
    return f"{UPLOAD_PREFIX}/{subject_id}/{upload_id}{_EXTENSIONS[content_type]}"


@dataclass(frozen=True, slots=True)
class UploadRules:
    max_bytes: int = 10 * 1024 * 1024
    url_ttl_seconds: int = 900  # how long the link to view one's own upload works
    concurrent_decodes: int = 1  # images decoded at once by this process: the memory they take is bounded by it


class UploadInUse(Conflict):
    """A generation still names the upload as its reference: deleting that generation deletes the upload with it."""

    code = "upload_in_use"
    title = "A generation uses this upload"


@dataclass(frozen=True, slots=True)
class UploadView:
    upload: Upload
    url: str  # a short-lived link to the stored (metadata-free) image
    url_expires_at: datetime


@dataclass(frozen=True, slots=True)
class UploadListing:
    items: list[UploadView]
    next_cursor: str | None


class ReferenceUploads:
    """Accepts one reference image per call for a subject and stores only its re-encoded pixels."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        store: ObjectStore,
        sanitizer: ImageSanitizer,
        clock: Clock,
        rules: UploadRules | None = None,
        screening: ContentScreening | None = None,
    ) -> None:
        self._uow = uow
        self._screening = screening
        self._store = store
        self._sanitizer = sanitizer
        self._clock = clock
        self.rules = rules or UploadRules()
        self._decoding = asyncio.Semaphore(self.rules.concurrent_decodes)

    async def upload(self, subject_id: UUID, data: bytes, *, answer: KeptAnswer[Upload] | None = None) -> Upload:
        """Store the image for the subject. Refused input leaves nothing behind in any store. ``answer``: the request
        carried an Idempotency-Key; its answer is kept with the upload's row (``AnsweredBefore`` if it has one)."""
        if len(data) > self.rules.max_bytes:
            raise ImageTooLarge(f"an upload may hold at most {self.rules.max_bytes} bytes", limit=self.rules.max_bytes)
        async with self._uow() as uow:
            if answer is not None:
                await answer.before(uow)
            await refuse_new_content(uow, subject_id)  # G4: decoding and storing it is processing
        try:
            async with self._decoding:  # decoded pixels take memory: a burst of uploads waits, it does not pile up
                clean = await asyncio.to_thread(self._sanitizer.sanitize, data)
        except ImageRejected as rejected:
            if rejected.reason == "too_many_pixels":
                raise ImageTooLarge(str(rejected)) from None
            raise UnsupportedImage(str(rejected), reason=rejected.reason) from None
        if self._screening is not None:  # the decoded, re-encoded pixels: what would be stored and sent on
            await self._screening.check_image(subject_id, clean.data, clean.content_type, CheckedContent.UPLOAD)
        upload_id = uuid.uuid4()
        key = upload_key(subject_id, upload_id, clean.content_type)
        upload = Upload(
            id=upload_id,
            subject_id=subject_id,
            object_key=key,
            content_type=clean.content_type,
            width=clean.width,
            height=clean.height,
            bytes=len(clean.data),
            created_at=self._clock.now(),
        )
        await self._store.put(key, clean.data, clean.content_type)
        try:
            async with self._uow() as uow:
                await uow.uploads.add(upload)
                if answer is not None:
                    await answer.record(uow, upload)
                await uow.commit()
        except BaseException:
            await self._store.delete(key)  # the record never landed: neither may the object
            raise
        return upload

    async def get(self, subject_id: UUID, upload_id: UUID) -> Upload:
        async with self._uow() as uow:
            found = await uow.uploads.get(upload_id)
        if found is None or found.subject_id != subject_id:
            raise NotFound("no such upload")
        return found

    async def list(self, subject_id: UUID, limit: int = 20, cursor: str | None = None) -> UploadListing:
        """The subject's uploads, newest first, a page at a time."""
        if not 1 <= limit <= PAGE_SIZE_MAX:
            raise InvalidInput(f"limit must be 1..{PAGE_SIZE_MAX}", field="limit")
        before = decode_cursor(cursor) if cursor else None
        async with self._uow() as uow:
            items, more = await uow.uploads.page_for_subject(subject_id, limit, before)
        next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if more and items else None
        return UploadListing([await self._view(u) for u in items], next_cursor)

    async def view(self, subject_id: UUID, upload_id: UUID) -> UploadView:
        return await self._view(await self.get(subject_id, upload_id))

    async def delete(self, subject_id: UUID, upload_id: UUID) -> None:
        """Delete one upload, row and image, audited as the subject's deletion. One that a generation uses is
        refused (409 ``upload_in_use``): deleting that generation deletes the upload with it."""
        async with self._uow() as uow:
            upload = await uow.uploads.get(upload_id)
            if upload is None or upload.subject_id != subject_id:
                raise NotFound("no such upload")
            used = await uow.generations.count_referencing(upload_id)
            if used:
                raise UploadInUse(
                    f"{used} of your generations use this image as a reference; deleting them deletes it with the last"
                )
            await uow.uploads.delete(upload_id)
            # the object before the commit: a crash in between leaves a row pointing at nothing, never a deleted row
            # whose image lingers
            await self._store.delete(upload.object_key)
            await uow.audit.append(
                AuditEvent(
                    id=uuid.uuid4(),
                    subject_id=subject_id,
                    actor_kind=ActorKind.SUBJECT,
                    actor_id=subject_id,
                    action="upload_deleted",
                    fields=("image",),
                    reason=None,
                    occurred_at=self._clock.now(),
                )
            )
            await uow.commit()

    async def _view(self, upload: Upload) -> UploadView:
        ttl = self.rules.url_ttl_seconds
        url = await self._store.signed_url(upload.object_key, ttl)
        return UploadView(upload, url, self._clock.now() + timedelta(seconds=ttl))
