"""Published policy versions and the acceptances that name them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from dreamina.domain.privacy.policy import PolicyVersion


class AcceptanceMethod(enum.StrEnum):
    """How a subject accepted a policy version (section 10)."""

    SIGN_UP = "sign_up"  # accepted the version in effect when signing up
    EXPLICIT = "explicit"  # accepted it later, explicitly
    CONTINUED_USE = "continued_use"  # kept using the service after being notified of it, once it took effect


@dataclass(frozen=True, slots=True)
class PolicyAcceptance:
    """A subject accepted ``policy_version`` (the text whose hash is ``content_sha256``) at ``accepted_at``."""

    id: UUID
    subject_id: UUID
    policy_version: int
    content_sha256: str
    method: AcceptanceMethod
    accepted_at: datetime


class PolicyVersionRepository(Protocol):
    async def add(self, policy: PolicyVersion) -> None:
        """Store a new version; raises ``Conflict`` if the version number exists."""
        ...

    async def get(self, version: int) -> PolicyVersion | None: ...

    async def list(self) -> list[PolicyVersion]:
        """Every version, oldest first."""
        ...


class PolicyAcceptanceRepository(Protocol):
    async def add(self, acceptance: PolicyAcceptance) -> None: ...

    async def list_for_subject(self, subject_id: UUID) -> list[PolicyAcceptance]:
        """The subject's acceptances, oldest first."""
        ...

    async def delete_for_subject(self, subject_id: UUID) -> int:
        """Erasure: remove the subject's acceptances; returns how many."""
        ...


class PolicyStores(Protocol):
    """Published policy versions and who accepted which (policy section 10)."""

    policies: PolicyVersionRepository
    acceptances: PolicyAcceptanceRepository
