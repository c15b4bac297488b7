"""Contract of the payment sandbox's session store, on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from dreamina.domain.privacy.errors import Conflict
from dreamina.ports.payments import SandboxSession
from dreamina.ports.unit_of_work import UnitOfWorkFactory

from .billing_rows import make_sandbox_session

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _session(number: int, created_at: datetime = NOW) -> SandboxSession:
    return make_sandbox_session(created_at, number)


async def test_sessions_are_found_by_id_reference_and_payment_intent(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.sandbox_sessions.add(_session(1))
        await uow.sandbox_sessions.add(_session(2))
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await uow.sandbox_sessions.add(dataclasses.replace(_session(3), reference=_session(1).reference))
    async with uow_factory() as uow:
        assert await uow.sandbox_sessions.get(_session(1).id) == _session(1)
        assert await uow.sandbox_sessions.by_reference(_session(2).reference) == _session(2)
        assert await uow.sandbox_sessions.get("cs_test_missing") is None
        paid = dataclasses.replace(
            _session(1), status="complete", payment_status="paid", payment_intent_id="pi_1", charge_id="ch_1"
        )
        paid.card_brand, paid.card_last4, paid.card_exp_month, paid.card_exp_year = "visa", "4242", 12, 2031
        assert await uow.sandbox_sessions.update(paid, from_status="open", from_payment_status="unpaid")
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.sandbox_sessions.by_payment_intent("pi_1")
        assert found == paid and found.card is not None and found.card.last4 == "4242"
        assert await uow.sandbox_sessions.by_payment_intent("pi_2") is None


async def test_an_update_is_a_compare_and_set_so_one_session_is_paid_once(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.sandbox_sessions.add(_session(1))
        await uow.commit()
    first = dataclasses.replace(_session(1), status="complete", payment_status="paid", payment_intent_id="pi_a")
    second = dataclasses.replace(_session(1), status="complete", payment_status="paid", payment_intent_id="pi_b")
    async with uow_factory() as uow:
        assert await uow.sandbox_sessions.update(first, from_status="open", from_payment_status="unpaid")
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.sandbox_sessions.update(second, from_status="open", from_payment_status="unpaid")
        stored = await uow.sandbox_sessions.get(_session(1).id)
        assert stored is not None and stored.payment_intent_id == "pi_a"


async def test_retention_deletes_the_oldest_sessions_in_batches(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for number in range(5):
            await uow.sandbox_sessions.add(_session(number, NOW - timedelta(days=100 - number)))
        await uow.sandbox_sessions.add(_session(9))
        await uow.commit()
    cutoff = NOW - timedelta(days=90)
    async with uow_factory() as uow:
        assert await uow.sandbox_sessions.count_created_before(cutoff) == 5
        assert await uow.sandbox_sessions.delete_created_before(cutoff, 3) == 3
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.sandbox_sessions.get(_session(0).id) is None
        assert await uow.sandbox_sessions.get(_session(3).id) is not None
        assert await uow.sandbox_sessions.delete_created_before(cutoff, 10) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.sandbox_sessions.count_created_before(cutoff) == 0
        assert await uow.sandbox_sessions.get(_session(9).id) is not None
