"""Whether a subject's content may be used to improve the service (policy sections 5 and 7), decided in one place.

The subject's "use my content to improve the service" choice is off until they turn it on. An objection to
``product_improvement`` wins over it (and appends a forced-off choice to the history), as does a processing
restriction. Every outbound port that hands content over asks :func:`improvement_allowed` in the unit of work that
records the hand-off, so the disclosure ledger says what was allowed at that moment.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from dreamina.domain.privacy.policy import current_version
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.ports.consent import ImprovementChoice, ImprovementMethod
from dreamina.ports.unit_of_work import UnitOfWork


async def improvement_allowed(uow: UnitOfWork, subject_id: UUID) -> bool:
    """True only if the subject's latest choice allows it, they do not object to ``product_improvement`` and their
    processing is not restricted."""
    latest = await uow.improvement_choices.latest_for_subject(subject_id)
    if latest is None or not latest.allowed:
        return False
    if await uow.objections.objects_to(subject_id, Purpose.PRODUCT_IMPROVEMENT):
        return False
    return await uow.restrictions.get(subject_id) is None


async def record_improvement_choice(
    uow: UnitOfWork, subject_id: UUID, allowed: bool, method: ImprovementMethod, now: datetime
) -> ImprovementChoice | None:
    """Append a choice under the policy version in effect; None if no policy is in effect (nothing to name)."""
    policy = current_version(await uow.policies.list(), now)
    if policy is None:
        return None
    choice = ImprovementChoice(
        id=uuid.uuid4(),
        subject_id=subject_id,
        allowed=allowed,
        method=method,
        policy_version=policy.version,
        content_sha256=policy.content_sha256,
        recorded_at=now,
    )
    await uow.improvement_choices.add(choice)
    return choice


async def objection_forces_improvement_off(uow: UnitOfWork, subject_id: UUID, purpose: Purpose, now: datetime) -> None:
    """Called wherever an objection is recorded: an objection to ``product_improvement`` turns the choice off in the
    history (method ``objection``), so withdrawing the objection later does not silently turn it back on."""
    if purpose is not Purpose.PRODUCT_IMPROVEMENT:
        return
    latest = await uow.improvement_choices.latest_for_subject(subject_id)
    if latest is not None and latest.allowed:
        await record_improvement_choice(uow, subject_id, False, ImprovementMethod.OBJECTION, now)
