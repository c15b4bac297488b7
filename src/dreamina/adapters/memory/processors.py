"""A fake processor eraser for tests: records every deletion call; can be told to fail."""

from __future__ import annotations


class ProcessorUnavailable(RuntimeError):
    """The processor did not answer (a failure worth retrying)."""


class RecordingProcessorEraser:
    """:class:`~dreamina.ports.data_rights.ProcessorEraser` that keeps ``calls``; fails ``failures`` times first."""

    def __init__(self, processor: str, *, failures: int = 0) -> None:
        self.processor = processor
        self.failures = failures
        self.calls: list[str | None] = []
        self.deleted: list[str | None] = []

    async def delete(self, reference: str | None) -> str:
        self.calls.append(reference)
        if self.failures > 0:
            self.failures -= 1
            raise ProcessorUnavailable(f"{self.processor} did not answer")
        if reference in self.deleted:
            return "not_found"
        self.deleted.append(reference)
        return "deleted"
