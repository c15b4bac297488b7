"""Pillow: reference-image sanitising (decode, limit, re-encode without metadata) and the offline renderer's
drawing and video encoding (PyAV)."""

from __future__ import annotations

import hashlib
import io
import warnings
from fractions import Fraction

from PIL import Image, ImageDraw, ImageOps

from dreamina.ports.generation import ImageRejected, ProviderRequest, SanitizedImage

_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _trailing_data(kind: str, data: bytes) -> bool:
    """True if bytes follow the image's own end marker: the mark of a polyglot (image + archive/script)."""
    if kind == "PNG":
        return not data.endswith(_PNG_END)
    if kind == "JPEG":
        return not data.rstrip(b"\x00").endswith(b"\xff\xd9")
    if kind == "WEBP":
        return len(data) < 12 or int.from_bytes(data[4:8], "little") + 8 != len(data)
    return True


MAX_REFERENCE_PIXELS = 4096 * 4096
"""The largest reference image kept as it is (16.8 Mpx): decoding one takes at most 4096 x 4096 x 4 bytes (64 MiB)
plus one converted copy. Larger JPEGs are decoded downscaled to fit; larger PNG and WebP images are refused (413)."""


def _draft_size(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """The size to ask ``draft`` for: the smallest JPEG scale (1/2..1/8) whose picture fits ``max_pixels``."""
    width, height = size
    for scale in (2, 4, 8):
        if (width // scale) * (height // scale) <= max_pixels:
            return (width // scale, height // scale)
    return (max(1, width // 8), max(1, height // 8))


class PillowImageSanitizer:
    """:class:`~dreamina.ports.generation.ImageSanitizer` with Pillow.

    The type comes from decoding, never from a name or header a client chose. ``Image.MAX_IMAGE_PIXELS`` is set
    to ``max_pixels`` and the size is checked again before any pixel is decoded (decompression bombs). The
    output is rebuilt from raw pixels, so no EXIF, GPS, XMP, ICC profile or comment survives; EXIF orientation
    is applied first so the picture still looks the same. ``MAX_IMAGE_PIXELS`` is process-wide: build one
    sanitiser per process (the composition root does).
    """

    def __init__(self, max_pixels: int = MAX_REFERENCE_PIXELS) -> None:
        self.max_pixels = max_pixels
        # Pillow's own bomb check runs on the size a file declares, before a draft could shrink a JPEG: it gets
        # the room a draft needs (1/8 per side at most), and our check on the decoded size does the rest.
        Image.MAX_IMAGE_PIXELS = max_pixels * 64

    def sanitize(self, data: bytes) -> SanitizedImage:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                image = Image.open(io.BytesIO(data), formats=list(_FORMATS))
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ImageRejected("too_many_pixels", f"images may have at most {self.max_pixels} pixels") from None
            except (OSError, ValueError, SyntaxError):
                raise ImageRejected("not_an_image", "the upload is not a PNG, JPEG or WebP image") from None
            kind = image.format or ""
            if kind not in _FORMATS:
                raise ImageRejected("not_an_image", "the upload is not a PNG, JPEG or WebP image")
            if kind == "JPEG" and image.size[0] * image.size[1] > self.max_pixels:
                # JPEG decodes at 1/2, 1/4 or 1/8 scale for the cost of the smaller picture: a big photo is
                # decoded at the largest such scale within the cap instead of being refused
                image.draft("RGB", _draft_size(image.size, self.max_pixels))
            width, height = image.size  # from the header (or the draft): nothing decoded yet
            if width * height > self.max_pixels or width < 1 or height < 1:
                raise ImageRejected("too_many_pixels", f"images may have at most {self.max_pixels} pixels")
            if getattr(image, "n_frames", 1) != 1:
                raise ImageRejected("animated", "animated images are not supported")
            try:
                image.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ImageRejected("too_many_pixels", f"images may have at most {self.max_pixels} pixels") from None
            except (OSError, ValueError, SyntaxError, EOFError):
                raise ImageRejected("truncated", "the image data is incomplete or corrupt") from None
        if _trailing_data(kind, data):
            raise ImageRejected("polyglot", "the file holds data after the end of the image")
        return self._reencode(image, kind)

    @staticmethod
    def _reencode(image: Image.Image, kind: str) -> SanitizedImage:
        """Re-encode with one copy of the pixels at most (a copy only where the mode changes): orientation is
        applied in place, and the info dict (EXIF, XMP, ICC, comments) is emptied, so the encoder finds nothing
        to carry over."""
        ImageOps.exif_transpose(image, in_place=True)
        if kind == "JPEG":
            mode = "RGB"
        elif image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
            mode = "RGBA"
        else:
            mode = "RGB" if image.mode not in ("L",) else "L"
        clean = image if image.mode == mode else image.convert(mode)
        if clean is not image:
            image.close()
        clean.info.clear()
        out = io.BytesIO()
        if kind == "JPEG":
            clean.save(out, "JPEG", quality=90, optimize=True)
        elif kind == "PNG":
            clean.save(out, "PNG", optimize=False)
        else:
            clean.save(out, "WEBP", quality=90)
        return SanitizedImage(out.getvalue(), _FORMATS[kind], clean.width, clean.height)


_SIZES = {"1:1": (512, 512), "16:9": (640, 360), "9:16": (360, 640), "4:3": (576, 432), "3:4": (432, 576)}
_VIDEO_SIZES = {"1:1": (256, 256), "16:9": (320, 180), "9:16": (180, 320), "4:3": (288, 216), "3:4": (216, 288)}
VIDEO_FPS = 12


def _palette(seed_material: bytes) -> list[tuple[int, int, int]]:
    digest = hashlib.sha256(seed_material).digest()
    return [(digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 30, 3)]


class PillowMediaRenderer:
    """:class:`~dreamina.ports.generation.MediaRenderer`: deterministic pictures and MP4s from a request.

    The same prompt, parameters, seed and references always give the same bytes.
    """

    def _material(self, request: ProviderRequest, index: int) -> bytes:
        parts = [request.prompt, request.aspect_ratio, str(request.seed), str(index)]
        parts += [hashlib.sha256(r.data).hexdigest() for r in request.references]
        return "\x1f".join(parts).encode()

    def _canvas(self, request: ProviderRequest, index: int, size: tuple[int, int]) -> Image.Image:
        colours = _palette(self._material(request, index))
        width, height = size
        canvas = Image.new("RGB", size, colours[0])
        draw = ImageDraw.Draw(canvas)
        for row in range(height):  # a vertical gradient between two palette colours
            t = row / max(1, height - 1)
            a, b = colours[0], colours[1]
            draw.line([(0, row), (width, row)], fill=tuple(int(a[c] + (b[c] - a[c]) * t) for c in range(3)))
        for i, colour in enumerate(colours[2:8]):
            x = (colour[0] * width) // 256
            y = (colour[1] * height) // 256
            r = 10 + (colour[2] * min(width, height)) // 1024 + i * 3
            draw.ellipse([x - r, y - r, x + r, y + r], fill=colours[(i + 3) % len(colours)])
        for position, reference in enumerate(request.references[:4]):
            with Image.open(io.BytesIO(reference.data)) as ref:
                thumb = ref.convert("RGB")
                thumb.thumbnail((width // 4, height // 4))
                canvas.paste(thumb, (8 + position * (width // 4 + 4), height - thumb.height - 8))
        return canvas

    def image(self, request: ProviderRequest, index: int) -> bytes:
        canvas = self._canvas(request, index, _SIZES.get(request.aspect_ratio, (512, 512)))
        out = io.BytesIO()
        canvas.save(out, "PNG")
        return out.getvalue()

    def video(self, request: ProviderRequest) -> bytes:
        import av  # PyAV: only the offline renderer's videos need it, and it is slow to import

        size = _VIDEO_SIZES.get(request.aspect_ratio, (256, 256))
        base = self._canvas(request, 0, size)
        accent = _palette(self._material(request, 1))[0]
        frames = max(1, request.duration_seconds) * VIDEO_FPS
        out = io.BytesIO()
        with av.open(out, mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=VIDEO_FPS)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = Fraction(1, VIDEO_FPS)
            stream.codec_context.options = {"threads": "1", "preset": "veryfast", "crf": "28"}
            for n in range(frames):
                frame_image = base.copy()
                x = int((size[0] - 24) * n / max(1, frames - 1))
                ImageDraw.Draw(frame_image).rectangle([x, 8, x + 24, 32], fill=accent)
                frame = av.VideoFrame.from_image(frame_image)  # type: ignore[no-untyped-call]
                frame.pts = n
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        return out.getvalue()
