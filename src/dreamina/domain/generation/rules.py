"""The generation module's rules: the limits on a submission, the worker's retry and polling rules, and where a
job's prompt and outputs are kept."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

PROMPT_FIELD = "generation.prompt"  # the keyring field the prompt is sealed under
OUTPUT_PREFIX = "outputs"

# The limits on a submission. The HTTP schema states these same numbers; the domain enforces them.
MAX_PROMPT_CHARS = 4000
MAX_REFERENCES = 4
MAX_IMAGE_COUNT = 4
MAX_VIDEO_SECONDS = 10
MAX_SEED = 2**31 - 1
PAGE_SIZE_MAX = 100


def outputs_prefix(subject_id: UUID, generation_id: UUID) -> str:
    return f"{OUTPUT_PREFIX}/{subject_id}/{generation_id}"


@dataclass(frozen=True, slots=True)
class GenerationRules:
    max_prompt_chars: int = MAX_PROMPT_CHARS
    max_references: int = MAX_REFERENCES
    max_image_count: int = MAX_IMAGE_COUNT
    max_video_seconds: int = MAX_VIDEO_SECONDS
    max_attempts: int = 5
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 300.0
    job_timeout_seconds: float = 600.0
    max_poll_interval_seconds: float = 10.0
    url_ttl_seconds: int = 15 * 60
    page_size_max: int = PAGE_SIZE_MAX

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff for ``attempt`` (1-based), never sooner than the provider's Retry-After."""
        exponential = min(self.backoff_max_seconds, self.backoff_base_seconds * (1 << max(0, attempt - 1)))
        return max(exponential, retry_after or 0.0)
