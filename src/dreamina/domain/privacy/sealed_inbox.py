"""Receiving reports from anyone without saying (by answer or by timing) whether their target exists: what the
children's flow and abuse reports share.

A public report is counted against its reporter and its target (keyed hashes: the counter holds no address; past
either limit, 429 whatever the target), then sealed whole with a key of its own and put in an inbox. Nothing looks
for the target before the answer: a periodic matcher takes each report out of the inbox (in the unit of work that
files it, so it is matched exactly once) and files it or drops it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from uuid import UUID

from dreamina.domain.privacy.datamap import FieldDeclaration, StoreDeclaration, non_personal
from dreamina.domain.privacy.errors import TooManyAttempts
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionAction, RetentionRule
from dreamina.ports.child_reports import ReceivedChildReport as ReceivedReport
from dreamina.ports.clock import Clock
from dreamina.ports.keys import FieldCipher, KeyVault
from dreamina.ports.security import AttemptCounter

THROTTLE_INDEX = "child-report-throttle"  # the blind-index name the counters' keys are hashed under


class ReportThrottle:
    """Counts reports per reporter and per target before anything else; ``scope`` names the flow in the keys."""

    def __init__(self, vault: KeyVault, attempts: AttemptCounter, scope: str) -> None:
        self._vault = vault
        self._attempts = attempts
        self._scope = scope

    async def admit(self, kind: str, value: str, limit: int, window_seconds: int) -> None:
        """Count one report against ``value``; past ``limit`` in the window the report is refused (429)."""
        key = f"{self._scope}:{kind}:" + self._vault.blind_index(THROTTLE_INDEX, value)
        if await self._attempts.hit(key, window_seconds) > limit:
            raise TooManyAttempts(
                "too many reports; try again later",
                retry_after_seconds=max(1, await self._attempts.retry_after(key)),
            )


class ReportSeal:
    """Seals a received report whole with a fresh key (wrapped by the master key), and opens it when matched. The
    cipher context is ``<inbox>/<id>``: a seal opens only as that report of that inbox."""

    def __init__(self, vault: KeyVault, cipher: FieldCipher, clock: Clock, inbox: str) -> None:
        self._vault = vault
        self._cipher = cipher
        self._clock = clock
        self._inbox = inbox

    def context(self, received_id: UUID) -> str:
        return f"{self._inbox}/{received_id}"

    def seal(self, payload: dict[str, Any]) -> ReceivedReport:
        received_id = uuid.uuid4()
        key, wrapped = self._vault.generate_data_key()
        sealed = self._cipher.seal(key, json.dumps(payload).encode("utf-8"), self.context(received_id))
        return ReceivedReport(received_id, self._clock.now(), wrapped, sealed)

    def open(self, received: ReceivedReport) -> dict[str, Any]:
        key = self._vault.unwrap(received.wrapped_key)
        payload: dict[str, Any] = json.loads(self._cipher.open(key, received.sealed, self.context(received.id)))
        return payload


def inbox_retention(days: int) -> RetentionRule:
    """An inbox entry's retention: matched within seconds; one a fault kept waiting is given up after ``days``."""
    return RetentionRule(
        f"deleted when matched (seconds after it arrived), at the latest {days} days after it arrived",
        RetentionAction.DELETE,
        days,
    )


def reporter_data_retention(days: int) -> RetentionRule:
    """The reporter's sealed data: kept until they have been told the outcome, ``days`` after the report closed."""
    return RetentionRule(
        f"deleted {days} days after the report is closed (the reporter has been told the outcome)",
        RetentionAction.DELETE,
        days,
    )


def inbox_store(
    name: str, description: str, sealed: str, *, days: int, purposes: tuple[Purpose, ...]
) -> StoreDeclaration:
    """The data-map declaration of an inbox of reports received sealed whole (``sealed`` says what is in them)."""
    retention = inbox_retention(days)
    return StoreDeclaration(
        name,
        description,
        {
            "id": non_personal("random id"),
            "received_at": non_personal("when the report arrived"),
            "wrapped_key": FieldDeclaration(
                DataCategory.NON_PERSONAL,
                "the received report's own AES-256 data key, wrapped by the master key",
                purposes=(Purpose.SECURITY,),
                legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
                retention=retention,
            ),
            "sealed": FieldDeclaration(
                DataCategory.ACCOUNT,
                sealed,
                purposes=purposes,
                legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
                retention=retention,
                encrypted=True,
            ),
        },
    )
