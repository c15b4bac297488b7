"""Input rules shared by every module: text without NUL or control characters, emails, bounded lengths."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from dreamina.domain.privacy.errors import InvalidInput

MAX_EMAIL = 254


def clean_text(value: str, *, field: str, min_length: int = 0, max_length: int, multiline: bool = False) -> str:
    """Reject NUL, other control characters and lone surrogates; trim outer whitespace; enforce the bounds."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    if len(value) > max_length:  # as sent, outer whitespace included: the bound the published schema states
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
    """The canonical form of an address our mail can reach: trimmed, checked by ``email-validator`` (syntax, domain
    rules; no DNS look-up), lower-cased (addresses are matched case-insensitively); the domain in Unicode.

    Refused with ``InvalidInput`` (422) before anything is stored: anything SMTP cannot carry or a mail header would
    mangle (commas, quotes, angle brackets, display names, domain literals), reserved domains (``.test``,
    ``.invalid``, ``localhost``) and non-ASCII before the ``@`` (our relays do not speak SMTPUTF8). Internationalised
    domains are accepted and mailed in their ASCII (punycode) form, see :func:`deliverable_email`.
    """
    text = clean_text(value, field=field, min_length=3, max_length=MAX_EMAIL)
    try:
        checked = validate_email(
            text,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
        )
    except EmailNotValidError:
        raise InvalidInput(f"{field} is not an address we can send mail to", field=field) from None
    return checked.normalized.lower()


def deliverable_email(address: str) -> str:
    """The form of a canonical address an SMTP relay accepts in ``RCPT TO`` and ``To:``: the domain in punycode."""
    try:
        checked = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return address  # stored before addresses were checked: the relay refuses it and the outbox gives up
    return checked.ascii_email or address
