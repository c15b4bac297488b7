"""Ledger entries are appended once: a second entry with the same idempotency key, or the same id, is a ``Conflict``,
and the unit of work goes on (a submission retried on ``Conflict`` starts over, but nothing may depend on that)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dreamina.domain.privacy.errors import Conflict
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.billing_rows import make_entry

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def test_a_repeated_key_or_id_is_a_conflict_and_the_unit_of_work_goes_on(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    first = make_entry(subject, AT, amount=100, key="purchase:one")
    async with uow_factory() as uow:
        await uow.billing.add_entry(first)
        with pytest.raises(Conflict):
            await uow.billing.add_entry(dataclasses.replace(first, id=uuid.uuid4()))  # the same idempotency key
        with pytest.raises(Conflict):
            await uow.billing.add_entry(dataclasses.replace(first, idempotency_key="purchase:two"))  # the same id
        await uow.billing.add_entry(make_entry(subject, AT + timedelta(seconds=1), amount=-30))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.billing.balance(subject) == 70
        assert await uow.billing.get_entry("purchase:one") == first
