"""Settling a generation's charge as it reaches a terminal state."""

from __future__ import annotations

from uuid import UUID

from dreamina import failpoints
from dreamina.ports.generation import GenerationCharges, GenerationStatus
from dreamina.ports.unit_of_work import UnitOfWork


async def settle(uow: UnitOfWork, charges: GenerationCharges, generation_id: UUID, status: GenerationStatus) -> None:
    """Capture (succeeded) or release (anything else) the charge, before the job's terminal state commits.

    The unit of work has only read so far; its transaction is ended first because billing commits in its own,
    and on SQLite a read snapshot older than another connection's commit can never write. Both calls are
    idempotent per generation: a crash before the job's commit repeats the same call on retry, never a second
    charge.
    """
    await uow.rollback()
    if status is GenerationStatus.SUCCEEDED:
        await charges.capture(generation_id)
    else:
        await charges.release(generation_id)
    failpoints.hit("generation.after_effect", "charge_settled")  # billing committed; the job's state not yet
