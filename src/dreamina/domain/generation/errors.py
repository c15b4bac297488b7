"""Errors the generation module raises on purpose; each maps to a problem response with a stable code."""

from __future__ import annotations

from dreamina.domain.privacy.errors import DomainError, ProcessingRestricted


class UnsupportedImage(DomainError):
    """The upload is not a PNG, JPEG or WebP image we can decode completely."""

    code = "unsupported_image"
    title = "The upload is not a supported image"


class ImageTooLarge(DomainError):
    """The upload exceeds the byte or pixel limit."""

    code = "image_too_large"
    title = "The image is too large"


class KindNotAvailable(DomainError):
    """No provider is configured for the requested kind, or it cannot take that many references."""

    code = "generation_kind_not_available"
    title = "This kind of generation is not available"


__all__ = ["ProcessingRestricted"]  # re-exported: the generation module raised it first
