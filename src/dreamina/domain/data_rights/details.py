"""What a privacy request may carry: the ``details`` each type accepts, and the reason staff give for a decision."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dreamina.domain.privacy.errors import InvalidInput
from dreamina.domain.privacy.validation import clean_text
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import OBJECTABLE_PURPOSES
from dreamina.ports.data_rights import RequestType

CORRECTABLE_FIELDS = ("email", "display_name", "birth_date")
MAX_FREE_TEXT = 2000
MAX_REASON = 500

ALLOWED_DETAILS: Mapping[RequestType, frozenset[str]] = {
    RequestType.ACCESS: frozenset({"note"}),
    RequestType.EXPORT: frozenset({"note"}),
    RequestType.ERASURE: frozenset({"reason"}),
    RequestType.RECTIFICATION: frozenset({"corrections", "free_text"}),
    RequestType.OBJECTION: frozenset({"purpose", "withdraw"}),
    RequestType.RESTRICTION: frozenset({"action", "reason"}),
}


def request_type(value: str, field: str = "type") -> RequestType:
    """``value`` as a request type, or ``InvalidInput`` naming the six."""
    try:
        return RequestType(value)
    except ValueError:
        raise InvalidInput(f"type must be one of {', '.join(RequestType)}", field=field) from None


def clean_reason(value: str) -> str:
    """A staff member's reason for a view or a decision (audited, and told to the subject for decisions)."""
    return clean_text(value, field="reason", min_length=3, max_length=MAX_REASON)


def clean_details(type: RequestType, details: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the ``details`` of a request of ``type``; returns the cleaned copy that is stored (encrypted)."""
    if not isinstance(details, Mapping):
        raise InvalidInput("details must be an object", field="details")
    unknown = set(details) - ALLOWED_DETAILS[type]
    if unknown:
        raise InvalidInput(f"details of a {type} request cannot hold {', '.join(sorted(unknown))}", field="details")
    cleaned: dict[str, Any] = {}
    for key in ("note", "reason"):
        if details.get(key) is not None:
            cleaned[key] = clean_text(details[key], field=f"details.{key}", max_length=MAX_REASON, multiline=True)
    if type == RequestType.RECTIFICATION:
        cleaned.update(_rectification(details))
    elif type == RequestType.OBJECTION:
        cleaned.update(_objection(details))
    elif type == RequestType.RESTRICTION:
        action = details.get("action", "restrict")
        if action not in ("restrict", "lift"):
            raise InvalidInput("details.action must be restrict or lift", field="details.action")
        cleaned["action"] = action
    return cleaned


def _rectification(details: Mapping[str, Any]) -> dict[str, Any]:
    corrections = details.get("corrections") or {}
    if not isinstance(corrections, Mapping):
        raise InvalidInput("details.corrections must be an object", field="details.corrections")
    unknown = set(corrections) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            f"only {', '.join(CORRECTABLE_FIELDS)} can be corrected here; describe others in free_text",
            field="details.corrections",
        )
    for name, value in corrections.items():
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"details.corrections.{name} must be a string", field="details.corrections")
    free_text = details.get("free_text")
    if free_text is not None:
        free_text = clean_text(free_text, field="details.free_text", max_length=MAX_FREE_TEXT, multiline=True)
    if not corrections and not free_text:
        raise InvalidInput("a rectification needs corrections or free_text", field="details")
    cleaned: dict[str, Any] = {}
    if corrections:
        cleaned["corrections"] = dict(corrections)
    if free_text:
        cleaned["free_text"] = free_text
    return cleaned


def _objection(details: Mapping[str, Any]) -> dict[str, Any]:
    purpose = details.get("purpose")
    if purpose not in {p.value for p in Purpose}:
        raise InvalidInput("details.purpose must name a purpose of the policy", field="details.purpose")
    if purpose not in {p.value for p in OBJECTABLE_PURPOSES}:
        raise InvalidInput(
            "only analytics, product_improvement and marketing can be objected to; processing needed to "
            "provide the service, take payments or meet legal obligations cannot: ask for erasure or restriction",
            field="details.purpose",
        )
    cleaned: dict[str, Any] = {"purpose": purpose}
    if details.get("withdraw") is not None:
        if not isinstance(details["withdraw"], bool):
            raise InvalidInput("details.withdraw must be true or false", field="details.withdraw")
        cleaned["withdraw"] = details["withdraw"]
    return cleaned
