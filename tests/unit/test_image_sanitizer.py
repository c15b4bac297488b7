"""Reference uploads: type by decoding, limits on bytes and pixels, metadata gone, nothing stored on refusal."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from PIL import Image

from dreamina.adapters.clock import MovableClock
from dreamina.adapters.images import PillowImageSanitizer
from dreamina.adapters.memory.object_store import InMemoryObjectStore
from dreamina.bootstrap import memory_database
from dreamina.domain.generation.errors import ImageTooLarge, UnsupportedImage
from dreamina.domain.generation.uploads import ReferenceUploads, UploadRules
from dreamina.ports.generation import ImageRejected


def encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (40, 30), **params: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (1, 2, 3) if mode == "RGB" else (1, 2, 3, 128)).save(out, fmt, **params)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mode", "content_type"),
    [("PNG", "RGBA", "image/png"), ("JPEG", "RGB", "image/jpeg"), ("WEBP", "RGB", "image/webp")],
)
def test_each_supported_type_is_recognised_by_its_content(fmt: str, mode: str, content_type: str) -> None:
    clean = PillowImageSanitizer().sanitize(encoded(fmt, mode))
    assert (clean.content_type, clean.width, clean.height) == (content_type, 40, 30)
    assert Image.open(io.BytesIO(clean.data)).format == fmt


def test_icc_profiles_xmp_and_text_chunks_do_not_survive() -> None:
    from PIL import ImageCms, PngImagePlugin

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Doe, 1 Main St")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS 52.5N</x:xmpmeta>")
    data = encoded("PNG", "RGB", icc_profile=icc, pnginfo=info)
    clean = PillowImageSanitizer().sanitize(data)
    image = Image.open(io.BytesIO(clean.data))
    assert image.info.get("icc_profile") is None
    assert b"Jane Doe" not in clean.data and b"xmpmeta" not in clean.data and b"iCCP" not in clean.data


def test_exif_orientation_is_applied_before_it_is_dropped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    clean = PillowImageSanitizer().sanitize(encoded("JPEG", size=(40, 30), exif=exif.tobytes()))
    assert (clean.width, clean.height) == (30, 40)
    assert dict(Image.open(io.BytesIO(clean.data)).getexif()) == {}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a" + b"\x00" * 40, "not_an_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not_an_image"),
        (encoded("PNG")[:-30], "truncated"),
        (encoded("JPEG") + b"<?php system($_GET['c']); ?>", "polyglot"),
        (encoded("WEBP") + b"PK\x03\x04trailing", "polyglot"),
    ],
)
def test_bad_content_is_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as rejected:
        PillowImageSanitizer().sanitize(data)
    assert rejected.value.reason == reason


def test_decompression_bombs_are_refused_before_decoding() -> None:
    bomb = encoded("PNG", size=(5000, 5000))  # 25 megapixels of one colour, tiny on disk
    with pytest.raises(ImageRejected) as rejected:
        PillowImageSanitizer(max_pixels=1_000_000).sanitize(bomb)
    assert rejected.value.reason == "too_many_pixels"


async def test_refusals_store_nothing_anywhere() -> None:
    database, store = memory_database(), InMemoryObjectStore()
    uploads = ReferenceUploads(
        database.unit_of_work,
        store,
        PillowImageSanitizer(max_pixels=1_000_000),
        MovableClock(datetime(2026, 11, 25, tzinfo=UTC)),
        UploadRules(max_bytes=5_000),
    )
    subject = uuid.uuid4()
    with pytest.raises(ImageTooLarge):
        await uploads.upload(subject, b"\x89PNG" + b"\x00" * 6_000)  # over the byte limit: never decoded
    with pytest.raises(ImageTooLarge):
        await uploads.upload(subject, encoded("PNG", size=(2000, 2000)))
    with pytest.raises(UnsupportedImage):
        await uploads.upload(subject, b"not an image")
    assert store.objects == {} and database.rows("uploads") == {}
    stored = await uploads.upload(subject, encoded("JPEG"))
    assert list(store.objects) == [stored.object_key]
    assert stored.object_key.startswith(f"uploads/{subject}/")
