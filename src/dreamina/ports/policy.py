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


class NoticeRunStatus(enum.StrEnum):
    PENDING = "pending"  # published: the notices are due, no batch has gone out yet
    SENDING = "sending"  # batches are going out (or a run was interrupted and the next one resumes it)
    DONE = "done"  # every account active when the last batch ran was notified
    NONE = "none"  # published without notices (the shipped first version, or before notices were a job); not stored


@dataclass(slots=True)
class PolicyNoticeRun:
    """The notices of one policy version, sent by a job in batches: recorded as due when the version is published."""

    policy_version: int
    status: NoticeRunStatus
    notices_sent: int  # mails queued so far (counted in each batch's own unit of work)
    requested_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def start(self, now: datetime) -> None:
        if self.status is NoticeRunStatus.PENDING:
            self.status, self.started_at = NoticeRunStatus.SENDING, now

    def finish(self, now: datetime) -> None:
        self.status, self.finished_at = NoticeRunStatus.DONE, now


class PolicyNoticeRunRepository(Protocol):
    async def add(self, run: PolicyNoticeRun) -> None:
        """Record that a version's notices are due; raises ``Conflict`` if that version already has a run."""
        ...

    async def get(self, policy_version: int) -> PolicyNoticeRun | None: ...

    async def unfinished(self, limit: int) -> list[PolicyNoticeRun]:
        """Runs not done yet, oldest version first; at most ``limit``."""
        ...

    async def update(self, run: PolicyNoticeRun) -> None:
        """Store the run's status and times (not its count: see :meth:`count_sent`)."""
        ...

    async def count_sent(self, policy_version: int, sent: int) -> None:
        """Add ``sent`` to the run's count in place (an increment, so concurrent batches never lose one)."""
        ...


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
    notice_runs: PolicyNoticeRunRepository
