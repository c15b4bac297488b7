"""The embedded profile's moderator: operator-supplied lists, checked in this process (nothing leaves).

- Terms (``DREAMINA_MODERATION_TERMS_FILE``): one per line, ``term`` or ``category: term``; blank lines and lines
  starting with ``#`` are skipped. A prompt is refused when a term occurs in it as whole words, compared after
  Unicode NFKC normalisation and case folding, with runs of whitespace as one space.
- Known images (``DREAMINA_MODERATION_HASHES_FILE``): one perceptual hash per line, ``hex`` or ``category: hex``, as
  ``imagehash.phash`` prints it (https://github.com/JohannesBuchner/imagehash). An image is refused when its pHash
  is within ``max_distance`` bits (Hamming distance) of a listed one, so re-encoding or resizing does not evade it.

With no files configured it refuses nothing.
"""

from __future__ import annotations

import asyncio
import io
import re
import unicodedata
from pathlib import Path

from dreamina.ports.moderation import PASSED, ModerationVerdict

TERM_CATEGORY = "blocked_term"
IMAGE_CATEGORY = "known_image"
_LINE = re.compile(r"^([a-z][a-z0-9_/-]*)\s*:\s*(.+)$")


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _entries(path: Path | None, default: str) -> list[tuple[str, str]]:
    if path is None:
        return []
    entries = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        matched = _LINE.match(line)
        entries.append((matched.group(1), matched.group(2).strip()) if matched else (default, line))
    return entries


def hash_line(data: bytes, category: str = IMAGE_CATEGORY) -> str:
    """The hashes file's line for an image (``dreamina moderation hash``): ``category: <pHash hex>``."""
    import imagehash
    from PIL import Image

    if not _LINE.match(f"{category}: x"):
        raise ValueError("a category is lower-case letters, digits, _, / and -, starting with a letter")
    with Image.open(io.BytesIO(data)) as image:
        return f"{category}: {imagehash.phash(image.convert('RGB'))}"


class OfflineModerator:
    """:class:`~dreamina.ports.moderation.ContentModerator` over term lists and perceptual hashes."""

    name = "offline"
    processor: str | None = None

    def __init__(self, terms_file: Path | None = None, hashes_file: Path | None = None, max_distance: int = 6) -> None:
        import imagehash

        if not 0 <= max_distance <= 64:
            raise ValueError("DREAMINA_MODERATION_HASH_DISTANCE must be 0..64 (bits of a 64-bit pHash)")
        self._terms = [
            (category, re.compile(r"(?<!\w)" + re.escape(_normal(term)) + r"(?!\w)"))
            for category, term in _entries(terms_file, TERM_CATEGORY)
        ]
        self._hashes = [
            (category, imagehash.hex_to_hash(value)) for category, value in _entries(hashes_file, IMAGE_CATEGORY)
        ]
        self._max_distance = max_distance

    async def check_text(self, text: str) -> ModerationVerdict:
        normal = _normal(text)
        for category, pattern in self._terms:
            if pattern.search(normal):
                return ModerationVerdict(category)
        return PASSED

    async def check_image(self, data: bytes, content_type: str) -> ModerationVerdict:
        if not self._hashes:
            return PASSED
        return await asyncio.to_thread(self._match, data)

    def _match(self, data: bytes) -> ModerationVerdict:
        import imagehash
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            found = imagehash.phash(image.convert("RGB"))  # as hash_line makes the listed ones
        for category, known in self._hashes:
            if found - known <= self._max_distance:
                return ModerationVerdict(category)
        return PASSED
