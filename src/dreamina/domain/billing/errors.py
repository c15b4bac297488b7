"""Errors the billing module raises on purpose; the HTTP adapter maps each code to a status."""

from __future__ import annotations

from dreamina.domain.privacy.errors import DomainError


class InsufficientCredits(DomainError):
    code = "insufficient_credits"
    title = "Not enough credits"


class UnknownPack(DomainError):
    code = "unknown_pack"
    title = "No such credit pack"


class InvalidSignature(DomainError):
    """A webhook whose signature is missing, wrong or outside the timestamp tolerance: nothing is changed."""

    code = "invalid_signature"
    title = "The event signature could not be verified"


class InvalidEvent(DomainError):
    """A correctly signed event whose content we cannot read."""

    code = "invalid_event"
    title = "The event could not be read"


class EventNotReady(DomainError):
    """An event about a payment we have not recorded yet (delivered out of order); the processor redelivers it."""

    code = "event_not_ready"
    title = "The event refers to a payment not recorded yet"


class PaymentProcessorUnavailable(DomainError):
    code = "payment_processor_unavailable"
    title = "The payment processor could not be reached"
