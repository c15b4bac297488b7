"""What the moderation tests check: a phrase and an image the operator's lists (offline) and the emulated vendor both
refuse, and ones both pass."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

BAD_PHRASE = "Forbidden Phrase"
BAD_TEXT_CATEGORY = "violence"
BAD_IMAGE_CATEGORY = "sexual"


def bad_image(size: int = 96, fmt: str = "PNG") -> bytes:
    """A picture with enough structure that its perceptual hash survives resizing and JPEG re-encoding."""
    image = Image.new("RGB", (96, 96), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 47, 95], fill=(20, 20, 20))
    draw.ellipse([50, 10, 90, 50], fill=(200, 30, 30))
    draw.polygon([(10, 90), (40, 60), (70, 90)], fill=(240, 200, 0))
    if size != 96:
        image = image.resize((size, size))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def benign_image() -> bytes:
    image = Image.new("RGB", (96, 96), (0, 0, 0))
    draw = ImageDraw.Draw(image)
    for i in range(0, 96, 12):
        draw.line([(i, 0), (95 - i, 95)], fill=(255, 255, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def write_lists(directory: Path) -> tuple[Path, Path]:
    """The operator's term and hash files for the offline moderator (the formats the README documents)."""
    import imagehash

    terms = directory / "terms.txt"
    terms.write_text(f"# operator terms\n\n{BAD_TEXT_CATEGORY}: {BAD_PHRASE.lower()}\nplain-term\n", encoding="utf-8")
    hashes = directory / "hashes.txt"
    with Image.open(io.BytesIO(bad_image())) as image:
        known = imagehash.phash(image)
    hashes.write_text(f"# known images\n{BAD_IMAGE_CATEGORY}: {known}\n", encoding="utf-8")
    return terms, hashes
