"""What identity's children's flow needs from other modules, answered by their own use cases: the generation module
stops a suspended account's jobs, the data-rights module erases a confirmed child's account at once."""

from __future__ import annotations

from uuid import UUID

from dreamina.domain.data_rights.requests import PrivacyRequests
from dreamina.domain.generation.generations import Generations


class GenerationModuleStopper:
    """:class:`~dreamina.ports.child_reports.GenerationStopper` by :meth:`Generations.stop_for_subject`.

    Identity is wired before the generation module (which needs nothing from it), so the composition root binds the
    use case once it exists; a call before that is a wiring bug and fails loudly.
    """

    def __init__(self) -> None:
        self._generations: Generations | None = None

    def bind(self, generations: Generations) -> None:
        self._generations = generations

    async def stop_all(self, subject_id: UUID) -> int:
        if self._generations is None:
            raise RuntimeError("the generation module is not wired")
        return await self._generations.stop_for_subject(subject_id)


class DataRightsChildErasure:
    """:class:`~dreamina.ports.child_reports.ChildErasure` by :meth:`PrivacyRequests.create_for_child_report`: an
    erasure due at once, run by the data-rights worker's saga like any other."""

    def __init__(self, requests: PrivacyRequests) -> None:
        self._requests = requests

    async def erase_now(self, staff_id: UUID, subject_id: UUID, reason: str) -> UUID:
        return (await self._requests.create_for_child_report(staff_id, subject_id, reason)).id
