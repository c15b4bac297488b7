"""What a subject asks for, checked against the rules before anything is stored, reserved or sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from dreamina.domain.generation.rules import MAX_SEED, GenerationRules
from dreamina.domain.privacy.errors import InvalidInput
from dreamina.domain.privacy.validation import clean_text
from dreamina.ports.generation import GenerationKind

ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4")


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    kind: str
    prompt: str
    reference_upload_ids: Sequence[UUID] = ()
    aspect_ratio: str = "1:1"
    count: int = 1
    duration_seconds: int = 4
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class ValidRequest:
    """A request that passed :func:`validate`: the kind, the cleaned prompt and the parameters the job keeps."""

    kind: GenerationKind
    prompt: str
    params: dict[str, Any]

    @property
    def units(self) -> int:
        """What the generation costs in billing's units: images per picture, videos per second."""
        key = "count" if self.kind is GenerationKind.IMAGE else "duration_seconds"
        return int(self.params[key])


def validate(request: GenerationRequest, rules: GenerationRules) -> ValidRequest:
    """Refuse, with ``InvalidInput`` naming the field, whatever the rules do not allow."""
    try:
        kind = GenerationKind(request.kind)
    except ValueError:
        raise InvalidInput("kind must be image or video", field="kind") from None
    prompt = clean_text(request.prompt, field="prompt", min_length=1, max_length=rules.max_prompt_chars, multiline=True)
    if len(request.reference_upload_ids) > rules.max_references:
        raise InvalidInput(f"at most {rules.max_references} reference images", field="reference_upload_ids")
    if request.aspect_ratio not in ASPECT_RATIOS:
        raise InvalidInput("aspect_ratio must be one of " + ", ".join(ASPECT_RATIOS), field="aspect_ratio")
    params: dict[str, Any] = {"aspect_ratio": request.aspect_ratio}
    if request.seed is not None:
        if not 0 <= request.seed <= MAX_SEED:
            raise InvalidInput(f"seed must be 0..{MAX_SEED}", field="seed")
        params["seed"] = request.seed
    # Both are checked whatever the kind (the published schema bounds both); only the kind's own one is kept.
    if not 1 <= request.count <= rules.max_image_count:
        raise InvalidInput(f"count must be 1..{rules.max_image_count}", field="count")
    if not 1 <= request.duration_seconds <= rules.max_video_seconds:
        raise InvalidInput(f"duration_seconds must be 1..{rules.max_video_seconds}", field="duration_seconds")
    if kind is GenerationKind.IMAGE:
        params["count"] = request.count
    else:
        params["duration_seconds"] = request.duration_seconds
    return ValidRequest(kind, prompt, params)
