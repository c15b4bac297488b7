"""The balance is the sum of the subject's ledger entries, whatever wrote them and however a unit of work ended, and a
wallet lock answers it (a charge reads no sum over the ledger: ``bench/ledger.py``). On every backend; SQL wallets
that migration 0025 found (balance not counted yet) count their ledger at their first lock."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from dreamina.adapters.sql.database import Database
from dreamina.adapters.sql.models_billing import BillingWalletRow
from dreamina.domain.privacy.errors import Conflict
from dreamina.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.billing_rows import make_entry

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _locked_balance(uow_factory: UnitOfWorkFactory, subject: uuid.UUID) -> int:
    async with uow_factory() as uow:
        held = await uow.billing.lock_wallet(subject, AT)
        assert await uow.billing.balance(subject) == held
        return held


async def _balance(uow_factory: UnitOfWorkFactory, subject: uuid.UUID) -> int:
    async with uow_factory() as uow:
        return await uow.billing.balance(subject)


async def test_a_lock_answers_the_balance_and_it_follows_each_entry(uow_factory: UnitOfWorkFactory) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    assert await _locked_balance(uow_factory, subject) == 0
    async with uow_factory() as uow:
        assert await uow.billing.lock_wallet(subject, AT) == 0
        await uow.billing.add_entry(make_entry(subject, AT, amount=100))
        assert await uow.billing.balance(subject) == 100  # its own entry, before the commit
        await uow.billing.add_entry(make_entry(subject, AT + timedelta(seconds=1), amount=-30))
        await uow.billing.lock_wallet(other, AT)
        await uow.billing.add_entry(make_entry(other, AT, amount=5))
        await uow.commit()
    assert await _locked_balance(uow_factory, subject) == 70
    assert await _balance(uow_factory, subject) == 70
    assert await _locked_balance(uow_factory, other) == 5
    for n in range(5):
        async with uow_factory() as uow:
            assert await uow.billing.lock_wallet(subject, AT) == 70 - 2 * n
            await uow.billing.add_entry(make_entry(subject, AT + timedelta(minutes=n), amount=-2))
            await uow.commit()
    assert await _balance(uow_factory, subject) == 60


async def test_entries_written_without_a_lock_count_before_and_after_the_first_lock(
    uow_factory: UnitOfWorkFactory,
) -> None:
    subject = uuid.uuid4()
    async with uow_factory() as uow:
        await uow.billing.add_entry(make_entry(subject, AT, amount=40))
        await uow.commit()
    assert await _balance(uow_factory, subject) == 40
    assert await _locked_balance(uow_factory, subject) == 40
    async with uow_factory() as uow:  # again without a lock, now that the wallet exists
        await uow.billing.add_entry(make_entry(subject, AT, amount=-15))
        await uow.commit()
    assert await _balance(uow_factory, subject) == 25
    assert await _locked_balance(uow_factory, subject) == 25


async def test_what_is_not_committed_or_is_refused_does_not_count(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    first = make_entry(subject, AT, amount=50, key="purchase:kept")
    async with uow_factory() as uow:
        await uow.billing.lock_wallet(subject, AT)
        await uow.billing.add_entry(first)
        await uow.commit()
    async with uow_factory() as uow:  # ended without a commit
        await uow.billing.lock_wallet(subject, AT)
        await uow.billing.add_entry(make_entry(subject, AT, amount=-50))
        assert await uow.billing.balance(subject) == 0
    assert await _locked_balance(uow_factory, subject) == 50
    async with uow_factory() as uow:  # rolled back, then written again in the same unit of work
        await uow.billing.lock_wallet(subject, AT)
        await uow.billing.add_entry(make_entry(subject, AT, amount=-20))
        await uow.rollback()
        assert await uow.billing.lock_wallet(subject, AT) == 50
        await uow.billing.add_entry(make_entry(subject, AT, amount=-10))
        await uow.commit()
    assert await _locked_balance(uow_factory, subject) == 40
    async with uow_factory() as uow:  # a duplicate is refused and changes nothing; the unit of work goes on
        await uow.billing.lock_wallet(subject, AT)
        with pytest.raises(Conflict):
            await uow.billing.add_entry(dataclasses.replace(first, id=uuid.uuid4(), amount=999))
        with pytest.raises(Conflict):
            await uow.billing.add_entry(dataclasses.replace(first, idempotency_key="purchase:again", amount=999))
        assert await uow.billing.balance(subject) == 40
        await uow.billing.add_entry(make_entry(subject, AT, amount=1))
        await uow.commit()
    assert await _locked_balance(uow_factory, subject) == 41


async def test_a_pseudonymised_ledger_leaves_nothing_to_the_subject_and_all_to_the_tombstone(
    uow_factory: UnitOfWorkFactory,
) -> None:
    subject, tombstone = uuid.uuid4(), uuid.uuid4()
    async with uow_factory() as uow:
        await uow.billing.lock_wallet(subject, AT)
        await uow.billing.add_entry(make_entry(subject, AT, amount=30))
        await uow.billing.add_entry(make_entry(subject, AT, amount=-4))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.billing.lock_wallet(subject, AT)
        assert await uow.billing.pseudonymise_subject(subject, tombstone, AT) == 2
        await uow.commit()
    assert await _balance(uow_factory, subject) == 0
    assert await _balance(uow_factory, tombstone) == 26
    assert await _locked_balance(uow_factory, subject) == 0  # a new wallet counts what is left: nothing


async def test_a_wallet_from_before_the_running_balance_counts_its_ledger_at_its_first_lock(
    sql_database: Database,
) -> None:
    uow_factory = sql_database.unit_of_work
    subject = uuid.uuid4()
    async with uow_factory() as uow:
        await uow.billing.lock_wallet(subject, AT)
        for amount in (100, -7, -3):
            await uow.billing.add_entry(make_entry(subject, AT, amount=amount))
        await uow.commit()
    async with sql_database.engine.begin() as connection:  # as migration 0025 leaves a wallet it finds
        wallets = BillingWalletRow.__table__
        await connection.execute(update(wallets).where(wallets.c.subject_id == subject).values(balance=None))
    assert await _balance(uow_factory, subject) == 90
    async with uow_factory() as uow:
        await uow.billing.add_entry(make_entry(subject, AT, amount=-1))  # not counted yet: stays uncounted
        await uow.commit()
    assert await _balance(uow_factory, subject) == 89
    assert await _locked_balance(uow_factory, subject) == 89  # counted, and forgotten with its unit of work
    async with sql_database.engine.connect() as connection:
        kept = (await connection.execute(wallets.select().where(wallets.c.subject_id == subject))).one()
    assert kept.balance is None
    async with uow_factory() as uow:
        assert await uow.billing.lock_wallet(subject, AT) == 89
        await uow.commit()
    async with sql_database.engine.connect() as connection:
        kept = (await connection.execute(wallets.select().where(wallets.c.subject_id == subject))).one()
    assert kept.balance == 89  # counted once, kept from now on
    async with uow_factory() as uow:
        await uow.billing.add_entry(make_entry(subject, AT, amount=-9))
        await uow.commit()
    assert await _balance(uow_factory, subject) == await _locked_balance(uow_factory, subject) == 80
