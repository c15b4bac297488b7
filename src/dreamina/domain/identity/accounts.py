"""What the account use cases share: who a request acts for, and the rules for the fields more than one of them
takes. The use cases are one per concern: :mod:`~dreamina.domain.identity.registrations` (sign-up with the age
gate), :mod:`~dreamina.domain.identity.sessions` (sign-in with the login throttle, bearer tokens, sign-out) and
:mod:`~dreamina.domain.identity.profiles` (the subject's own profile, its rectification and the retention setting).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from dreamina.domain.privacy.validation import clean_text
from dreamina.ports.keys import KeyVault

MAX_PASSWORD = 256
MAX_DISPLAY_NAME = 100
EMAIL_INDEX = "email"  # the blind index an account is found by at sign-in, sign-up and in child reports


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for: a signed-in subject and the session it came through."""

    account_id: UUID
    session_id: UUID


def email_index_of(vault: KeyVault, email: str) -> str:
    """The blind index of a normalised email: what is stored and looked up instead of the address."""
    return vault.blind_index(EMAIL_INDEX, email)


def clean_display_name(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = clean_text(value, field="display_name", max_length=MAX_DISPLAY_NAME)
    return cleaned or None
