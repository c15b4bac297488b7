"""The export download (G5): the archive's bytes, streamed to the subject who asked for it while its link lives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

from dreamina.domain.data_rights.requests import PrivacyRequests
from dreamina.ports.object_store import ObjectStore


class ExportDownloads:
    def __init__(self, requests: PrivacyRequests, store: ObjectStore) -> None:
        self._requests = requests
        self._store = store

    async def open(self, subject_id: UUID, request_id: UUID) -> AsyncIterator[bytes]:
        """The archive's chunks; ``NotFound`` for anyone else's request, ``ExportExpired`` after 7 days."""
        return await self._store.stream(await self._requests.archive_for(subject_id, request_id))
