"""The "use my content to improve the service" control (policy sections 5 and 7): off by default, per subject.

Each change is appended to the subject's history under the policy version in effect (G11), like a consent record;
nothing is updated in place. An objection to ``product_improvement`` forces the choice off and wins over it: while
the objection stands the control cannot be turned on (409 ``objection_in_force``). Whether content may actually be
used is :func:`dreamina.domain.privacy.improvement.improvement_allowed`, asked at every hand-off of content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dreamina.domain.privacy.errors import Conflict, InvalidInput, NotFound
from dreamina.domain.privacy.improvement import improvement_allowed, record_improvement_choice
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.clock import Clock
from dreamina.ports.consent import ImprovementChoice, ImprovementMethod
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

CHOICE_METHODS = frozenset({ImprovementMethod.SETTINGS, ImprovementMethod.API})
HISTORY_PAGE = 20
MAX_HISTORY_PAGE = 100


class ObjectionInForce(Conflict):
    code = "objection_in_force"
    title = "You object to product improvement"


@dataclass(frozen=True, slots=True)
class ImprovementState:
    """``chosen``: the subject's latest choice (False without one); ``allowed``: what every outbound port honours
    (the choice, unless an objection or a restriction stands). ``history`` is newest first."""

    chosen: bool
    allowed: bool
    objected: bool
    restricted: bool
    method: ImprovementMethod | None
    policy_version: int | None
    recorded_at: datetime | None
    history: list[ImprovementChoice]
    history_next: UUID | None


class ImprovementControl:
    """Use cases of the control; each method is one unit of work."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def state(self, subject_id: UUID) -> ImprovementState:
        async with self._uow() as uow:
            return await self._state(uow, subject_id)

    async def choose(self, subject_id: UUID, allowed: bool, method: str = "api") -> ImprovementState:
        try:
            chosen = ImprovementMethod(method)
        except ValueError:
            chosen = None
        if chosen not in CHOICE_METHODS:
            raise InvalidInput("method must be settings or api", field="method")
        assert chosen is not None
        async with self._uow() as uow:
            if allowed and await uow.objections.objects_to(subject_id, Purpose.PRODUCT_IMPROVEMENT):
                raise ObjectionInForce(
                    "you object to product_improvement: withdraw the objection (PUT /v1/me/objections) first"
                )
            if await record_improvement_choice(uow, subject_id, allowed, chosen, self._clock.now()) is None:
                raise NotFound("no privacy policy is in effect")
            await uow.commit()
            return await self._state(uow, subject_id)

    async def history(
        self, subject_id: UUID, limit: int = HISTORY_PAGE, before: UUID | None = None
    ) -> tuple[list[ImprovementChoice], UUID | None]:
        """One page of the history, newest first, and the cursor of the older page (None: no older page)."""
        if not 1 <= limit <= MAX_HISTORY_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_HISTORY_PAGE}", field="limit")
        async with self._uow() as uow:
            return await _page(uow, subject_id, limit, before)

    async def _state(self, uow: UnitOfWork, subject_id: UUID) -> ImprovementState:
        latest = await uow.improvement_choices.latest_for_subject(subject_id)
        history, history_next = await _page(uow, subject_id, HISTORY_PAGE, None)
        return ImprovementState(
            chosen=latest is not None and latest.allowed,
            allowed=await improvement_allowed(uow, subject_id),
            objected=await uow.objections.objects_to(subject_id, Purpose.PRODUCT_IMPROVEMENT),
            restricted=await uow.restrictions.get(subject_id) is not None,
            method=None if latest is None else latest.method,
            policy_version=None if latest is None else latest.policy_version,
            recorded_at=None if latest is None else latest.recorded_at,
            history=history,
            history_next=history_next,
        )


async def _page(
    uow: UnitOfWork, subject_id: UUID, limit: int, before: UUID | None
) -> tuple[list[ImprovementChoice], UUID | None]:
    found = await uow.improvement_choices.page_for_subject(subject_id, limit + 1, before)
    shown = found[:limit]
    return shown, shown[-1].id if len(found) > limit else None
