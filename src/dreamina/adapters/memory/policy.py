"""In-memory fakes of the published policy versions and their acceptances."""

from __future__ import annotations

import dataclasses
from uuid import UUID

from dreamina.adapters.memory.tables import (
    MemoryStores,
    Table,
    TableSpec,
    utc,
)
from dreamina.adapters.record_rules import check_text, check_time
from dreamina.domain.privacy.policy import PolicyVersion
from dreamina.ports.policy import AcceptanceMethod, PolicyAcceptance


class InMemoryPolicyVersionRepository:
    def __init__(self, table: Table[int, PolicyVersion]) -> None:
        self._table = table

    async def add(self, policy: PolicyVersion) -> None:
        check_text("text", policy.text)
        check_text("content_sha256", policy.content_sha256)
        check_time("effective_at", policy.effective_at)
        check_time("published_at", policy.published_at)
        stored = dataclasses.replace(
            policy, effective_at=utc(policy.effective_at), published_at=utc(policy.published_at)
        )
        self._table.insert(stored.version, stored)

    async def get(self, version: int) -> PolicyVersion | None:
        return self._table.get(version)

    async def list(self) -> list[PolicyVersion]:
        return sorted((p for _, p in self._table.rows()), key=lambda p: p.version)


class InMemoryPolicyAcceptanceRepository:
    def __init__(self, table: Table[UUID, PolicyAcceptance]) -> None:
        self._table = table

    async def add(self, acceptance: PolicyAcceptance) -> None:
        check_text("content_sha256", acceptance.content_sha256)
        check_text("method", acceptance.method)
        check_time("accepted_at", acceptance.accepted_at)
        stored = dataclasses.replace(
            acceptance, method=AcceptanceMethod(acceptance.method), accepted_at=utc(acceptance.accepted_at)
        )
        self._table.insert(stored.id, stored)

    async def list_for_subject(self, subject_id: UUID) -> list[PolicyAcceptance]:
        found = (a for _, a in self._table.rows() if a.subject_id == subject_id)
        return sorted(found, key=lambda a: (a.accepted_at, a.id))

    async def delete_for_subject(self, subject_id: UUID) -> int:
        doomed = [key for key, a in self._table.rows() if a.subject_id == subject_id]
        for key in doomed:
            self._table.delete(key)
        return len(doomed)


STORES = MemoryStores(
    tables=(
        TableSpec("policy_versions", duplicate_key="this policy version already exists"),
        TableSpec("policy_acceptances", duplicate_key="this acceptance is already recorded"),
    ),
    repositories={
        "policies": lambda s: InMemoryPolicyVersionRepository(s.table("policy_versions")),
        "acceptances": lambda s: InMemoryPolicyAcceptanceRepository(s.table("policy_acceptances")),
    },
)
