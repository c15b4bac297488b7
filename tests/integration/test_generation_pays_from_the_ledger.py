"""Generation wired to the real credit ledger (no fake charges) on memory, SQLite and PostgreSQL: a submission
reserves its price, success captures it, cancel and failure release it, an empty balance refuses with nothing queued.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import pytest

from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.bootstrap import Container, build_container
from dreamina.domain.billing.errors import InsufficientCredits
from dreamina.domain.generation.validation import GenerationRequest
from dreamina.domain.identity.registrations import SignUp
from dreamina.domain.privacy.idempotency import Answer, AnsweredBefore, IdempotentRequest, KeptAnswer
from dreamina.ports.generation import Generation, GenerationStatus
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dreamina.settings import load_settings

from ..conftest import RowCounter
from ..e2e.conftest import test_overrides

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def container(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> Container:
    overrides = test_overrides()
    del overrides["charges"]  # the composition root wires billing's ledger
    wired = build_container(load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=uow_factory, **overrides)
    await wired.start()
    return wired


async def test_generations_are_paid_exactly_once(container: Container) -> None:
    subject = await container.identity.registrations.sign_up(
        SignUp("payer@example.com", PASSWORD, date(1990, 1, 1), "DE", None, 1)
    )
    assert container.generation.generations is not None and container.billing is not None
    credits = container.billing.credits
    queue = container.generation.queue
    assert isinstance(queue, ManualJobQueue)
    start = await credits.balance(subject)
    assert start == 40  # the welcome grant

    images = await container.generation.generations.submit(
        subject, GenerationRequest(kind="image", prompt="two foxes", count=2)
    )
    assert await credits.balance(subject) == start - 8  # reserved at submission
    await queue.drain(container.generation.runner.run)
    done = await container.generation.generations.get(subject, images.id)
    assert done.status is GenerationStatus.SUCCEEDED
    assert await credits.balance(subject) == start - 8  # captured, not charged again
    await queue.drain(container.generation.runner.run)  # a repeated run changes nothing
    assert await credits.balance(subject) == start - 8

    video = await container.generation.generations.submit(
        subject, GenerationRequest(kind="video", prompt="waves", duration_seconds=4)
    )
    assert await credits.balance(subject) == start - 16
    await container.generation.generations.cancel(subject, video.id)
    await container.generation.generations.cancel(subject, video.id)
    assert await credits.balance(subject) == start - 8  # released once

    pending = await container.generation.generations.submit(
        subject, GenerationRequest(kind="image", prompt="a heron", count=4)
    )
    await container.generation.generations.delete(subject, pending.id)
    assert await credits.balance(subject) == start - 8  # deleting an unfinished job releases its charge

    for _ in range(2):  # 2 x 16 credits: the balance reaches exactly 0
        await container.generation.generations.submit(subject, GenerationRequest(kind="image", prompt="more", count=4))
    assert await credits.balance(subject) == 0
    with pytest.raises(InsufficientCredits):
        await container.generation.generations.submit(
            subject, GenerationRequest(kind="image", prompt="too much", count=1)
        )
    listing = await container.generation.generations.list(subject)
    assert len(listing.items) == 4  # images, the cancelled video, two more; the refused one was never stored
    await container.aclose()


class _FailingAdds:
    """One repository of a unit of work, with ``add`` failing as a crash in the middle of the unit of work would."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def add(self, record: Any) -> None:
        raise OSError("the process died while writing")


def _failing_writes(uow_factory: UnitOfWorkFactory, failing: list[str]) -> UnitOfWorkFactory:
    """Units of work whose repositories named in ``failing`` fail on ``add``."""

    class FailingUnitOfWork:
        def __init__(self) -> None:
            self._inner = uow_factory()

        def __getattr__(self, name: str) -> Any:
            found = getattr(self._inner, name)
            return _FailingAdds(found) if name in failing else found

        async def __aenter__(self) -> Any:
            await self._inner.__aenter__()
            return self

        async def __aexit__(self, *exc: Any) -> None:
            await self._inner.__aexit__(*exc)

    return lambda: cast(UnitOfWork, FailingUnitOfWork())


async def _crashing_container(
    uow_factory: UnitOfWorkFactory, tmp_path: Path, failing: list[str], email: str
) -> tuple[Container, UUID, int]:
    """A container over the real ledger whose repositories named in ``failing`` crash on ``add``; a subject signed
    up on it, and their balance."""
    overrides = test_overrides()
    del overrides["charges"]
    container = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}), uow=_failing_writes(uow_factory, failing), **overrides
    )
    await container.start()
    subject = await container.identity.registrations.sign_up(SignUp(email, PASSWORD, date(1990, 1, 1), "DE", None, 1))
    return container, subject, await container.billing.credits.balance(subject)


async def test_a_failed_generation_write_leaves_neither_the_reservation_nor_the_row(
    uow_factory: UnitOfWorkFactory, stored_rows: RowCounter, tmp_path: Path
) -> None:
    failing: list[str] = []
    container, subject, start = await _crashing_container(uow_factory, tmp_path, failing, "crash@example.com")
    credits = container.billing.credits
    before = await stored_rows()
    failing.append("generations")
    with pytest.raises(OSError):
        await container.generation.generations.submit(subject, GenerationRequest(kind="image", prompt="lost", count=2))
    failing.clear()
    assert await credits.balance(subject) == start  # nothing held for a job that does not exist
    after = await stored_rows()
    assert after.get("credit_ledger_entries") == before.get("credit_ledger_entries")
    assert after.get("generations", 0) == before.get("generations", 0) == 0
    queue = container.generation.queue
    assert isinstance(queue, ManualJobQueue) and queue.enqueued == []
    await container.aclose()


async def test_a_crash_while_keeping_the_answer_charges_nothing_and_the_retry_charges_once(
    uow_factory: UnitOfWorkFactory, stored_rows: RowCounter, tmp_path: Path
) -> None:
    failing: list[str] = []
    container, subject, start = await _crashing_container(uow_factory, tmp_path, failing, "answer.crash@example.com")
    credits = container.billing.credits
    request = GenerationRequest(kind="image", prompt="kept", count=2)
    retry = IdempotentRequest.of(subject, "POST /v1/generations", "crash-1", b"kept x2")

    def keep() -> KeptAnswer[Generation]:
        return container.privacy.kept_answers.keep(retry, lambda g: Answer(202, f'"{g.id}"'))

    failing.append("idempotency_records")
    with pytest.raises(OSError):
        await container.generation.generations.submit(subject, request, answer=keep())
    failing.clear()
    assert await credits.balance(subject) == start  # the answer was not kept: neither was the charge
    assert (await stored_rows()).get("generations", 0) == 0
    kept = keep()
    first = await container.generation.generations.submit(subject, request, answer=kept)
    assert kept.answered == Answer(202, f'"{first.id}"')
    with pytest.raises(AnsweredBefore) as again:
        await container.generation.generations.submit(subject, request, answer=keep())
    assert again.value.record.body == f'"{first.id}"'
    assert await credits.balance(subject) == start - 8
    assert (await stored_rows()).get("generations", 0) == 1
    await container.aclose()
