"""Input rules shared by every module: text without NUL or control characters, emails, bounded lengths."""

from __future__ import annotations

import re
import unicodedata

from dreamina.domain.privacy.errors import InvalidInput

# Deliberately simple: one "@", a non-empty local part, a domain with a dot and no spaces. Ownership is proven by
# one-time codes later, not by a regular expression.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254


def clean_text(value: str, *, field: str, min_length: int = 0, max_length: int, multiline: bool = False) -> str:
    """Reject NUL, other control characters and lone surrogates; trim outer whitespace; enforce the bounds."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    if len(value) > max_length * 4:  # cheap guard before any per-character work
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cs" or (category == "Cc" and not (multiline and ch in "\n\t")):
            raise InvalidInput(f"{field} contains a control character", field=field)
    value = value.strip()
    if len(value) < min_length:
        raise InvalidInput(f"{field} must be at least {min_length} characters", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    return value


def normalise_email(value: str, *, field: str = "email") -> str:
    """The canonical form of an email address: trimmed and lower-cased (addresses are matched case-insensitively)."""
    email = clean_text(value, field=field, min_length=3, max_length=MAX_EMAIL).lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{field} is not a valid email address", field=field)
    return email
