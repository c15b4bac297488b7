"""The privacy policy as versioned data (policy section 10): text, content hash, sections, dates.

A published version's text is a *template*: what ``content_sha256`` covers and acceptances pin (G11), never changed.
It is served with two facts filled in (:func:`render`): the operator's privacy contact (the ``{privacy_contact}`` slot)
and the version's own date on its "Last updated" line. The contact is a fact served beside the text, not a term of
it: configuring or changing it changes no version's hash, so every acceptance keeps naming the text it accepted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime

_SECTION = re.compile(r"^(\d+)\.\s+(.+?)\s*$")
_LAST_UPDATED = re.compile(r"^Last updated:[^\n]*$", re.MULTILINE)
CONTACT_SLOT = "{privacy_contact}"
# The company document (version 1, pinned by its hash) spells its contact slots in words: section 11's address is
# the placeholder its source page left ("[email protected]") and section 7 points at "the address below".
WORDED_SLOTS = (
    ("[email protected]", CONTACT_SLOT),
    ("contact us at the address below", f"contact us at the address below ({CONTACT_SLOT})"),
)
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def content_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class PolicySection:
    number: int
    title: str
    body: str


def split_sections(text: str) -> list[PolicySection]:
    """Split the policy into its numbered sections ("1. Introduction" ... "11. Contact Us")."""
    sections: list[PolicySection] = []
    number: int | None = None
    title = ""
    body: list[str] = []
    for line in text.splitlines():
        match = _SECTION.match(line)
        if match:
            if number is not None:
                sections.append(PolicySection(number, title, "\n".join(body).strip()))
            number, title, body = int(match.group(1)), match.group(2), []
        elif number is not None:
            body.append(line)
    if number is not None:
        sections.append(PolicySection(number, title, "\n".join(body).strip()))
    return sections


def last_updated_label(day: date) -> str:
    """How the served text states a version's date ("1 May 2026"), whatever the locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def render(template: str, *, contact: str, last_updated: date) -> str:
    """The text as served: the contact in every contact slot, and the version's date on its "Last updated" line
    (added under the title, or first, when the template has none), so the line and ``last_updated`` never differ."""
    text = template
    for worded, slot in WORDED_SLOTS:
        text = text.replace(worded, slot)
    text = text.replace(CONTACT_SLOT, contact)
    line = f"Last updated: {last_updated_label(last_updated)}"
    if _LAST_UPDATED.search(text):
        return _LAST_UPDATED.sub(lambda _: line, text)
    title, newline, rest = text.partition("\n")
    if title.strip() and not _SECTION.match(title):
        return f"{title}\n{line}{newline}{rest}"
    return f"{line}\n{text}"


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One published version of the policy. Acceptances name ``version`` and ``content_sha256`` (G11)."""

    version: int
    text: str
    content_sha256: str
    last_updated: date
    effective_at: datetime
    published_at: datetime

    def served(self, contact: str) -> str:
        """The text subjects read: this version's template with its facts filled in (see :func:`render`)."""
        return render(self.text, contact=contact, last_updated=self.last_updated)

    def in_effect(self, now: datetime) -> bool:
        return self.effective_at <= now


def current_version(versions: list[PolicyVersion], now: datetime) -> PolicyVersion | None:
    """The newest version already in effect at ``now``."""
    in_effect = [v for v in versions if v.in_effect(now)]
    return max(in_effect, key=lambda v: v.version, default=None)


def names_version(policy: PolicyVersion, named: int | str) -> bool:
    """Whether a client's ``accept_policy_version`` (a version number or the content hash) names ``policy``."""
    if isinstance(named, bool):
        return False
    if isinstance(named, int):
        return named == policy.version
    text = named.strip().lower()
    return text == policy.content_sha256 or text == str(policy.version)
