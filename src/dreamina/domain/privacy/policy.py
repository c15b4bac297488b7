"""The privacy policy as versioned data (policy section 10): text, content hash, sections, dates."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime

_SECTION = re.compile(r"^(\d+)\.\s+(.+?)\s*$")
_LAST_UPDATED = re.compile(r"^Last updated:\s*(.+?)\s*$", re.MULTILINE)


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


def last_updated_label(text: str) -> str | None:
    """The "Last updated" line as the document states it (e.g. "May 2026")."""
    match = _LAST_UPDATED.search(text)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One published version of the policy. Acceptances name ``version`` and ``content_sha256`` (G11)."""

    version: int
    text: str
    content_sha256: str
    last_updated: date
    effective_at: datetime
    published_at: datetime

    @property
    def sections(self) -> list[PolicySection]:
        return split_sections(self.text)

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
