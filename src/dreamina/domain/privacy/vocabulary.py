"""The privacy vocabulary every module speaks: data categories, purposes, legal bases, retention rules."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class DataCategory(enum.StrEnum):
    """Policy section 2: the categories of information we collect (plus what is not personal at all)."""

    ACCOUNT = "account"
    CONTENT = "content"
    USAGE = "usage"
    TECHNICAL = "technical"
    PAYMENT = "payment"
    NON_PERSONAL = "non_personal"


class Purpose(enum.StrEnum):
    """Policy section 3: why we process data. Every processing path names one."""

    SERVICE = "provide_service"
    GENERATION = "generate_content"
    PAYMENTS = "process_payments"
    SUPPORT = "respond_to_support"
    SECURITY = "prevent_fraud_and_abuse"
    LEGAL = "comply_with_legal_obligations"
    ANALYTICS = "analytics"
    PRODUCT_IMPROVEMENT = "product_improvement"
    MARKETING = "marketing"


class LegalBasis(enum.StrEnum):
    """GDPR Art. 6(1) bases (the strictest regime we serve decides the vocabulary)."""

    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    LEGITIMATE_INTERESTS = "legitimate_interests"
    CONSENT = "consent"
    NOT_APPLICABLE = "not_applicable"


class RetentionAction(enum.StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"
    TRUNCATE = "truncate"
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """How long a declared field or object lives, and what happens when its time is up."""

    description: str
    action: RetentionAction = RetentionAction.DELETE
    days: int | None = None  # None: lives as long as the record it belongs to

    def as_dict(self) -> dict[str, object]:
        return {"description": self.description, "action": self.action.value, "days": self.days}
