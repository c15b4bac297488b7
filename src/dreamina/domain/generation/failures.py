"""Why a generation failed, in words safe to show the subject: they name what happened, never the vendor's own."""

from __future__ import annotations

from dreamina.ports.generation import (
    ProviderAuthFailed,
    ProviderBadResponse,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
)

REASON_REFUSED = "The model provider declined this prompt or image under its content policy."
REASON_UNAVAILABLE = "The model provider stayed unavailable; please try again later."
REASON_MISCONFIGURED = "The model provider could not be reached with our credentials; please try again later."
REASON_BAD_RESPONSE = "The model provider returned an invalid result."
REASON_FAILED = "The model provider could not complete this generation."
REASON_RESTRICTED = "Processing of your data is restricted."
REASON_ERASED = "The data of this account has been erased."
REASON_MODERATED = "The result was withheld under our content policy; the credits were returned."
REASON_PROVIDER_GONE = "The model provider for this generation is no longer configured."


def reason_for(error: ProviderError) -> str:
    if isinstance(error, ProviderRefused):
        return REASON_REFUSED
    if isinstance(error, ProviderAuthFailed):
        return REASON_MISCONFIGURED
    if isinstance(error, ProviderBadResponse):
        return REASON_BAD_RESPONSE
    if isinstance(error, ProviderUnavailable):
        return REASON_UNAVAILABLE
    return REASON_FAILED
