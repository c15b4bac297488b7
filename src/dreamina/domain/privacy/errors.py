"""Domain errors. Each carries a stable machine-readable ``code``; the HTTP adapter maps them to problem details."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code: ClassVar[str] = "domain_error"
    title: ClassVar[str] = "The request could not be completed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    """The input is well-formed JSON of the right shape but its values break a rule."""

    code = "invalid_input"
    title = "Invalid input"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.field = field


class AgeRequirementNotMet(DomainError):
    code = "age_requirement_not_met"
    title = "Age requirement not met"


class PolicyVersionNotCurrent(DomainError):
    code = "policy_version_not_current"
    title = "The policy version accepted is not the current one"


class AuthenticationFailed(DomainError):
    code = "authentication_failed"
    title = "Authentication failed"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class NotFound(DomainError):
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict"


class ProcessingRestricted(DomainError):
    """The subject restricted processing of their data (GDPR Art. 18, G4): it is kept, not processed or disclosed."""

    code = "processing_restricted"
    title = "Processing of your data is restricted"


class KeyDestroyed(DomainError):
    """The subject's data key was destroyed (crypto-shredded): their encrypted values can never be read again."""

    code = "subject_erased"
    title = "The subject's data has been erased"


class Forbidden(DomainError):
    """The caller is known but lacks the role the action needs."""

    code = "forbidden"
    title = "Forbidden"


class StoreBusy(DomainError):
    """The store could not take this write now (SQLite: another unit of work wrote since this one read). Nothing
    was written; the same request can simply be made again."""

    code = "busy"
    title = "Busy, try again"
    retry_after_seconds = 1


class StoreUnavailable(StoreBusy):
    """The store cannot be reached (connection refused or lost, no connection slot free, shutting down): an outage,
    not the caller's mistake. The unit of work did not commit; the same request can be made again later."""

    title = "Temporarily unavailable, try again"
    retry_after_seconds = 5


class UnderAgeReview(Forbidden):
    """A child report about the account is under review (policy section 9): until staff decide, the holder may
    sign in, read, export and delete their data and answer the review, but not generate, upload or pay."""

    code = "age_review"
    title = "Your account is under age review"


class MalformedIdempotencyKey(InvalidInput):
    """An ``Idempotency-Key`` that is not 1-255 printable ASCII characters (400)."""

    code = "invalid_idempotency_key"
    title = "Invalid Idempotency-Key"


class IdempotencyKeyReused(DomainError):
    """The ``Idempotency-Key`` already answered a different request on this route (422)."""

    code = "idempotency_key_reused"
    title = "Idempotency-Key reused"
