"""Routes of the generation module: reference uploads, generations, and signed object downloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, Parameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from msgspec import Meta

from dreamina.domain.generation.errors import ImageTooLarge, KindNotAvailable, UnsupportedImage
from dreamina.domain.generation.generations import Generations
from dreamina.domain.generation.rules import (
    MAX_IMAGE_COUNT,
    MAX_PROMPT_CHARS,
    MAX_REFERENCES,
    MAX_SEED,
    MAX_VIDEO_SECONDS,
    PAGE_SIZE_MAX,
)
from dreamina.domain.generation.uploads import ReferenceUploads, UploadInUse, UploadView
from dreamina.domain.generation.validation import ASPECT_RATIOS, GenerationRequest
from dreamina.domain.generation.views import GenerationView
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.privacy.idempotency import KeptAnswers
from dreamina.entrypoints.http.auth import AUTH, SECURED
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.idempotency import IdempotencyKeyHeader, answered_once
from dreamina.entrypoints.http.rate_limits import CONTENT
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.texts import stated, stated_text
from dreamina.ports.generation import GenerationKind, GenerationStatus
from dreamina.wiring.generation import SignedDownloads

UPLOAD_BODY_LIMIT = 64 * 1024 * 1024  # hard ceiling for the multipart body; the configured image limit is lower


class UploadCreated(msgspec.Struct):
    id: UUID
    width: int
    height: int
    content_type: str
    bytes: int


class UploadBody(msgspec.Struct):
    id: UUID
    width: int
    height: int
    content_type: str
    bytes: int
    created_at: datetime
    url: str  # the stored, metadata-free image through a short-lived link
    url_expires_at: datetime


class UploadList(msgspec.Struct):
    items: list[UploadBody]
    next_cursor: str | None


def _upload_out(view: UploadView) -> UploadBody:
    u = view.upload
    return UploadBody(u.id, u.width, u.height, u.content_type, u.bytes, u.created_at, view.url, view.url_expires_at)


@dataclass
class UploadForm:
    file: UploadFile


class GenerationParams(msgspec.Struct, forbid_unknown_fields=True):
    aspect_ratio: Annotated[str, Meta(max_length=8), stated(enum=list(ASPECT_RATIOS))] = "1:1"
    count: Annotated[int, Meta(ge=1, description="images to make (image)"), stated(maximum=MAX_IMAGE_COUNT)] = 1
    duration_seconds: Annotated[
        int, Meta(ge=1, description="video length (video)"), stated(maximum=MAX_VIDEO_SECONDS)
    ] = 4
    seed: Annotated[int, Meta(ge=0, le=MAX_SEED)] | None = None


class GenerationBody(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["image", "video"]
    prompt: Annotated[str, stated_text(MAX_PROMPT_CHARS, min_length=1, multiline=True)]
    reference_upload_ids: Annotated[list[UUID], stated(maxItems=MAX_REFERENCES)] = msgspec.field(default_factory=list)
    params: GenerationParams = msgspec.field(default_factory=GenerationParams)


class GenerationAccepted(msgspec.Struct):
    id: UUID
    status: GenerationStatus


class OutputBody(msgspec.Struct):
    url: str
    content_type: str
    bytes: int
    expires_at: datetime


class ParamsOut(msgspec.Struct, omit_defaults=True):
    """The parameters a generation was made with: ``count`` for an image, ``duration_seconds`` for a video."""

    aspect_ratio: Annotated[str, stated(enum=list(ASPECT_RATIOS))]
    count: int | msgspec.UnsetType = msgspec.UNSET
    duration_seconds: int | msgspec.UnsetType = msgspec.UNSET
    seed: int | msgspec.UnsetType = msgspec.UNSET


class GenerationBodyOut(msgspec.Struct):
    id: UUID
    kind: GenerationKind
    status: GenerationStatus
    prompt: str
    params: ParamsOut
    reference_upload_ids: list[UUID]
    outputs: list[OutputBody]
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


class GenerationList(msgspec.Struct):
    items: list[GenerationBodyOut]
    next_cursor: str | None


def _out(view: GenerationView) -> GenerationBodyOut:
    return GenerationBodyOut(
        id=view.id,
        kind=view.kind,
        status=view.status,
        prompt=view.prompt,
        params=msgspec.convert(view.params, ParamsOut),
        reference_upload_ids=list(view.reference_upload_ids),
        outputs=[OutputBody(o.url, o.content_type, o.bytes, o.expires_at) for o in view.outputs],
        failure_reason=view.failure_reason,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


class UploadsController(Controller):
    path = "/v1/uploads"
    tags = ["generation"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        dependencies=AUTH,
        security=SECURED,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        opt={RATE_LIMIT_OPT: CONTENT},
        summary="Upload one reference image (multipart field `file`); metadata is stripped",
    )
    async def upload(
        self,
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        principal: NamedDependency[Principal],
        uploads: NamedDependency[ReferenceUploads],
        kept_answers: NamedDependency[KeptAnswers],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[UploadCreated]:
        """The type is decided by decoding the content (PNG, JPEG, WebP); the stored copy is re-encoded from
        pixels. Refused: 415 ``unsupported_image`` (non-images, truncated files, polyglots), 413
        ``image_too_large``. With an ``Idempotency-Key``, the same file sent again gets the first answer."""
        content = await data.file.read(uploads.rules.max_bytes + 1)
        await data.file.close()
        return await answered_once(
            kept_answers,
            subject_id=principal.account_id,
            route="POST /v1/uploads",
            key=idempotency_key,
            request=content,  # the file itself: a retry's multipart boundary differs
            status=HTTP_201_CREATED,
            render=lambda u: UploadCreated(u.id, u.width, u.height, u.content_type, u.bytes),
            effect=lambda answer: uploads.upload(principal.account_id, content, answer=answer),
        )

    @get("/", dependencies=AUTH, security=SECURED, summary="Your uploads, newest first")
    async def list_uploads(
        self,
        principal: NamedDependency[Principal],
        uploads: NamedDependency[ReferenceUploads],
        limit: Annotated[int, Parameter(ge=1, le=PAGE_SIZE_MAX)] = 20,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
    ) -> UploadList:
        listing = await uploads.list(principal.account_id, limit, cursor)
        return UploadList(items=[_upload_out(v) for v in listing.items], next_cursor=listing.next_cursor)

    @get("/{upload_id:uuid}", dependencies=AUTH, security=SECURED, summary="One upload, with a short-lived link")
    async def get_upload(
        self,
        upload_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        uploads: NamedDependency[ReferenceUploads],
    ) -> UploadBody:
        return _upload_out(await uploads.view(principal.account_id, upload_id))

    @delete(
        "/{upload_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        dependencies=AUTH,
        security=SECURED,
        summary="Delete an upload (row and image)",
    )
    async def delete_upload(
        self,
        upload_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        uploads: NamedDependency[ReferenceUploads],
    ) -> None:
        """409 ``upload_in_use`` while a generation names it as its reference: deleting that generation deletes the
        upload with it (the last one that uses it)."""
        await uploads.delete(principal.account_id, upload_id)


class GenerationsController(Controller):
    path = "/v1/generations"
    tags = ["generation"]
    dependencies = AUTH
    security = SECURED

    @post(
        "/",
        status_code=HTTP_202_ACCEPTED,
        opt={RATE_LIMIT_OPT: CONTENT},
        summary="Submit an image or video generation",
    )
    async def submit(
        self,
        data: JSONBody[GenerationBody],
        principal: NamedDependency[Principal],
        generations: NamedDependency[Generations],
        kept_answers: NamedDependency[KeptAnswers],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[GenerationAccepted]:
        """Queued by id; poll ``GET /v1/generations/{id}``. 403 ``processing_restricted`` if the subject
        restricted processing (nothing is sent anywhere). With an ``Idempotency-Key``, a retry is charged once."""
        request = GenerationRequest(
            kind=data.kind,
            prompt=data.prompt,
            reference_upload_ids=data.reference_upload_ids,
            aspect_ratio=data.params.aspect_ratio,
            count=data.params.count,
            duration_seconds=data.params.duration_seconds,
            seed=data.params.seed,
        )
        return await answered_once(
            kept_answers,
            subject_id=principal.account_id,
            route="POST /v1/generations",
            key=idempotency_key,
            request=msgspec.json.encode(data),  # decoded and re-encoded: spacing and key order do not matter
            status=HTTP_202_ACCEPTED,
            render=lambda g: GenerationAccepted(id=g.id, status=g.status),
            effect=lambda answer: generations.submit(principal.account_id, request, answer=answer),
        )

    @get("/", summary="Your generations, newest first")
    async def list_generations(
        self,
        principal: NamedDependency[Principal],
        generations: NamedDependency[Generations],
        limit: Annotated[int, Parameter(ge=1, le=PAGE_SIZE_MAX)] = 20,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
    ) -> GenerationList:
        listing = await generations.list(principal.account_id, limit, cursor)
        return GenerationList(items=[_out(v) for v in listing.items], next_cursor=listing.next_cursor)

    @get("/{generation_id:uuid}", summary="One generation: status, and outputs with short-lived URLs")
    async def get_generation(
        self,
        generation_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        generations: NamedDependency[Generations],
    ) -> GenerationBodyOut:
        return _out(await generations.get(principal.account_id, generation_id))

    @post("/{generation_id:uuid}/cancel", status_code=200, summary="Cancel a generation that has not finished")
    async def cancel(
        self,
        generation_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        generations: NamedDependency[Generations],
    ) -> GenerationBodyOut:
        return _out(await generations.cancel(principal.account_id, generation_id))

    @delete("/{generation_id:uuid}", status_code=HTTP_204_NO_CONTENT, summary="Delete a generation everywhere")
    async def delete_generation(
        self,
        generation_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        generations: NamedDependency[Generations],
    ) -> None:
        """Removes the prompt, the outputs and references nothing else uses from every store, and asks the
        provider to delete its copy where its API allows."""
        await generations.delete(principal.account_id, generation_id)


@get("/v1/objects/{key:path}", tags=["generation"], summary="Download through a signed, expiring URL")
async def signed_object(
    key: FromPath[str],
    downloads: NamedDependency[SignedDownloads],
    expires: Annotated[int, Parameter(ge=0, le=2**40)],
    signature: Annotated[str, Parameter(max_length=128)],
) -> Stream:
    """Serves objects of the local store only to holders of a URL it signed that has not expired (the S3
    store hands out presigned S3 URLs instead). Keys with ``..`` or other unsafe segments never verify."""
    content_type, chunks = await downloads.open(key.lstrip("/"), expires, signature)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in chunks:
            yield chunk

    return Stream(body(), media_type=content_type, headers={"Cache-Control": "private, no-store"})


FACE = HttpFace(
    routes=[UploadsController, GenerationsController, signed_object],
    problems={UnsupportedImage: 415, ImageTooLarge: 413, KindNotAvailable: 422, UploadInUse: 409},
    dependencies={
        "uploads": lambda c: c.generation.uploads,
        "generations": lambda c: c.generation.generations,
        "downloads": lambda c: c.generation.downloads,
    },
)
