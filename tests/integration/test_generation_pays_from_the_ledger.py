"""Generation wired to the real credit ledger (no fake charges) on memory, SQLite and PostgreSQL: a submission
reserves its price, success captures it, cancel and failure release it, an empty balance refuses with nothing queued.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest

from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.bootstrap import Container, build_container
from dreamina.domain.billing.errors import InsufficientCredits
from dreamina.domain.generation.validation import GenerationRequest
from dreamina.domain.identity.registrations import SignUp
from dreamina.ports.generation import GenerationStatus
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


class _FailingGenerations:
    """The generations repository of one unit of work, with ``add`` failing as a crash after the reservation would."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def add(self, generation: Any) -> None:
        raise OSError("the process died while writing the generation row")


def _failing_generation_writes(uow_factory: UnitOfWorkFactory, failing: list[bool]) -> UnitOfWorkFactory:
    """Units of work whose ``generations.add`` fails while ``failing[0]`` is true."""

    class FailingUnitOfWork:
        def __init__(self) -> None:
            self._inner = uow_factory()

        def __getattr__(self, name: str) -> Any:
            found = getattr(self._inner, name)
            return _FailingGenerations(found) if name == "generations" and failing[0] else found

        async def __aenter__(self) -> Any:
            await self._inner.__aenter__()
            return self

        async def __aexit__(self, *exc: Any) -> None:
            await self._inner.__aexit__(*exc)

    return lambda: cast(UnitOfWork, FailingUnitOfWork())


async def test_a_failed_generation_write_leaves_neither_the_reservation_nor_the_row(
    uow_factory: UnitOfWorkFactory, stored_rows: RowCounter, tmp_path: Path
) -> None:
    failing = [False]
    overrides = test_overrides()
    del overrides["charges"]
    container = build_container(
        load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}),
        uow=_failing_generation_writes(uow_factory, failing),
        **overrides,
    )
    await container.start()
    subject = await container.identity.registrations.sign_up(
        SignUp("crash@example.com", PASSWORD, date(1990, 1, 1), "DE", None, 1)
    )
    credits = container.billing.credits
    start = await credits.balance(subject)
    before = await stored_rows()
    failing[0] = True
    with pytest.raises(OSError):
        await container.generation.generations.submit(subject, GenerationRequest(kind="image", prompt="lost", count=2))
    failing[0] = False
    assert await credits.balance(subject) == start  # nothing held for a job that does not exist
    after = await stored_rows()
    assert after.get("credit_ledger_entries") == before.get("credit_ledger_entries")
    assert after.get("generations", 0) == before.get("generations", 0) == 0
    queue = container.generation.queue
    assert isinstance(queue, ManualJobQueue) and queue.enqueued == []
    await container.aclose()
