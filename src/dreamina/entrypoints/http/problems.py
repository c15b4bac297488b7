"""Errors as RFC 9457 problem details with a stable ``code`` member; never a 500 for bad input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from dreamina.adapters.logs import get_logger
from dreamina.domain.privacy import errors

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://dreamina-ai.pro/problems/"

STATUS_FOR: dict[type[errors.DomainError], int] = {
    errors.InvalidInput: 422,
    errors.MalformedIdempotencyKey: 400,
    errors.IdempotencyKeyReused: 422,
    errors.AgeRequirementNotMet: 403,
    errors.PolicyVersionNotCurrent: 409,
    errors.AuthenticationFailed: 401,
    errors.TooManyAttempts: 429,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.KeyDestroyed: 410,
    errors.Forbidden: 403,
    errors.ProcessingRestricted: 403,
    errors.StoreBusy: 503,
}
"""The statuses of the privacy kernel's errors; each module's HTTP face adds its own (``FACE.problems``)."""

_HTTP_CODES = {
    400: "malformed_request",
    401: "authentication_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}

log = get_logger("dreamina.http")


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_status(status_for: Mapping[type[errors.DomainError], int], exc: errors.DomainError) -> int:
    """The most specific class with a declared status decides (the API's problems and the web pages' alike)."""
    return next((status_for[t] for t in type(exc).__mro__ if t in status_for), HTTP_500_INTERNAL_SERVER_ERROR)


def _domain_error_handler(status_for: Mapping[type[errors.DomainError], int]) -> Any:
    def handle(_: Request[Any, Any, Any], exc: errors.DomainError) -> Response[dict[str, Any]]:
        status = domain_status(status_for, exc)
        headers: dict[str, str] = {}
        if isinstance(exc, errors.TooManyAttempts | errors.StoreBusy):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        if isinstance(exc, errors.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Bearer realm="dreamina"'
        extra = {"field": getattr(exc, "field", None), **exc.extra}
        if status >= 500:
            log.warning("domain_error", code=exc.code, error_type=type(exc).__name__)
        return problem(status, exc.code, exc.title, exc.detail, headers=headers or None, **extra)

    return handle


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    # Litestar's extra names the offending keys and messages; values are never echoed back.
    errors_list = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            errors_list.append({"key": item.get("key"), "message": item.get("message"), "source": item.get("source")})
    return problem(
        400,
        "validation_failed",
        "The request is malformed",
        safe_detail(exc.detail),
        errors=errors_list or None,
    )


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    code = _HTTP_CODES.get(status, f"http_{status}")
    if status >= 500:
        log.error("http_error", status=status)
        return problem(status, "internal_error", "Internal error", "The server could not complete the request.")
    headers = dict(exc.headers or {})
    if status == 429 and "Retry-After" not in headers and "RateLimit-Reset" in headers:
        headers["Retry-After"] = str(max(1, int(headers["RateLimit-Reset"])))
    return problem(status, code, code.replace("_", " ").capitalize(), safe_detail(exc.detail), headers=headers or None)


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # Only the type: messages of driver errors can carry parameters.
    log.error("unhandled_exception", error_type=type(exc).__name__, module=type(exc).__module__)
    return problem(500, "internal_error", "Internal error", "The server could not complete the request.")


def safe_detail(detail: str) -> str:
    text = detail if isinstance(detail, str) else "invalid request"
    return text[:300]


_DESCRIPTIONS = {
    400: "malformed request or failed validation",
    401: "missing, invalid or expired access token; or wrong credentials",
    402: "not enough credits",
    403: "refused",
    404: "not found",
    409: "conflict with the current state",
    410: "the subject's data has been erased",
    413: "request body too large",
    415: "the body's media type (or an uploaded file's real type) is not accepted",
    422: "a value breaks a rule (see field)",
    429: "too many requests or attempts; see Retry-After",
    502: "the payment processor did not answer",
    503: "busy: the store could not take the request now (busy or out); nothing was done, retry after Retry-After",
}


def problem_responses(
    *statuses: int, examples: Mapping[int, list[tuple[str, str]]] | None = None
) -> dict[int, ResponseSpec]:
    """OpenAPI documentation of the problem responses an operation can give; ``examples`` gives each status the
    ``(code, title)`` pairs it can answer with (by default the status's plain HTTP code)."""
    from litestar.openapi.spec import Example

    from dreamina.entrypoints.http.schemas import ProblemDetails

    def example(status: int, code: str, title: str) -> Example:
        body = {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": _DESCRIPTIONS[status]}
        return Example(id=code, summary=f"{status} {code}", value={**body, "code": code})

    def pairs(status: int) -> list[tuple[str, str]]:
        given = (examples or {}).get(status)
        if given:
            return given
        code = _HTTP_CODES.get(status, "busy" if status == 503 else f"http_{status}")
        return [(code, code.replace("_", " ").capitalize())]

    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            description=f"{_DESCRIPTIONS[status]}; code: " + ", ".join(code for code, _ in pairs(status)),
            media_type=PROBLEM_JSON,
            generate_examples=False,
            examples=[example(status, code, title) for code, title in pairs(status)],
        )
        for status in statuses
    }


def exception_handlers(module_problems: Mapping[type[errors.DomainError], int]) -> dict[type[Exception] | int, Any]:
    """Problem details for every error: the kernel's statuses plus those the modules declare for their own errors."""
    return {
        errors.DomainError: _domain_error_handler({**STATUS_FOR, **module_problems}),
        ValidationException: _validation_error,
        HTTPException: _http_error,
        Exception: _unexpected,
    }


__all__ = ["PROBLEM_JSON", "MediaType", "exception_handlers", "problem", "problem_responses"]
