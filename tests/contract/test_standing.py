"""A subject's standing (``uow.standing.of``) on every backend: the one read a submission and an upload make answers
what the three stores answer one by one (the account's status, an open moderation review, a restriction), in a
read-only unit of work, in one that writes (its own uncommitted changes included), through the driver on a pooled
PostgreSQL database and through SQLAlchemy's own execution alike."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from dreamina.ports.identity import AccountStatus
from dreamina.ports.moderation import ModerationReview, ReviewStatus
from dreamina.ports.standing import Standing
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory, reader_of
from tests.contract.test_read_only_units_of_work import through_sqlalchemy
from tests.contract.test_repositories_contract import make_account

NOW = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)

Setup = Callable[[UnitOfWork, uuid.UUID], Awaitable[None]]


def _review(subject: uuid.UUID, status: ReviewStatus) -> ModerationReview:
    closed = None if status is ReviewStatus.OPEN else NOW
    return ModerationReview(uuid.uuid4(), subject, status, 5, NOW, closed)


def _case(
    status: AccountStatus | None = AccountStatus.ACTIVE,
    reviews: tuple[ReviewStatus, ...] = (),
    restricted: bool = False,
    others: bool = False,
) -> Setup:
    async def setup(uow: UnitOfWork, subject: uuid.UUID) -> None:
        if status is not None:
            await uow.accounts.add(make_account(id=subject, status=status))
        for review_status in reviews:
            await uow.moderation_reviews.add(_review(subject, review_status))
        if restricted:
            await uow.restrictions.restrict(subject, "accuracy contested", NOW)
        if others:  # another subject under every hold: none of it is this subject's
            other = uuid.uuid4()
            await uow.accounts.add(make_account(id=other, status=AccountStatus.AGE_REVIEW))
            await uow.moderation_reviews.add(_review(other, ReviewStatus.OPEN))
            await uow.restrictions.restrict(other, "objection", NOW)

    return setup


CASES: dict[str, tuple[Setup, Standing]] = {
    "an active account": (_case(), Standing(False, False, False)),
    "no account": (_case(status=None), Standing(False, False, False)),
    "under age review": (_case(status=AccountStatus.AGE_REVIEW), Standing(True, False, False)),
    "suspended (not an age review)": (_case(status=AccountStatus.SUSPENDED), Standing(False, False, False)),
    "an open moderation review": (_case(reviews=(ReviewStatus.OPEN,)), Standing(False, True, False)),
    "a closed review only": (_case(reviews=(ReviewStatus.LIFTED,)), Standing(False, False, False)),
    "a closed review and an open one": (
        _case(reviews=(ReviewStatus.LIFTED, ReviewStatus.OPEN)),
        Standing(False, True, False),
    ),
    "restricted": (_case(restricted=True), Standing(False, False, True)),
    "restricted, no account": (_case(status=None, restricted=True), Standing(False, False, True)),
    "every hold at once": (
        _case(status=AccountStatus.AGE_REVIEW, reviews=(ReviewStatus.OPEN,), restricted=True),
        Standing(True, True, True),
    ),
    "another subject's holds": (_case(others=True), Standing(False, False, False)),
}


async def _one_by_one(uow: UnitOfWork, subject: uuid.UUID) -> Standing:
    account = await uow.accounts.get(subject)
    return Standing(
        under_age_review=account is not None and account.under_age_review,
        under_moderation_review=await uow.moderation_reviews.open_for(subject) is not None,
        restricted=await uow.restrictions.get(subject) is not None,
    )


@pytest.mark.parametrize("case", list(CASES))
async def test_standing_is_what_the_three_stores_answer(uow_factory: UnitOfWorkFactory, case: str) -> None:
    setup, expected = CASES[case]
    subject = uuid.uuid4()
    async with uow_factory() as uow:
        await setup(uow, subject)
        assert await uow.standing.of(subject) == expected  # the unit of work's own changes, not yet committed
        await uow.commit()
    for name, factory in (
        ("a unit of work", uow_factory),
        ("a read-only one", reader_of(uow_factory)),
        ("through SQLAlchemy", through_sqlalchemy(uow_factory)),
    ):
        async with factory() as uow:
            assert await uow.standing.of(subject) == expected, name
            assert await _one_by_one(uow, subject) == expected, name


async def test_a_hold_lifted_in_the_same_unit_of_work_is_gone(uow_factory: UnitOfWorkFactory) -> None:
    subject = uuid.uuid4()
    async with uow_factory() as uow:
        await _case(reviews=(ReviewStatus.OPEN,), restricted=True)(uow, subject)
        await uow.commit()
    async with uow_factory() as uow:
        review = await uow.moderation_reviews.open_for(subject)
        assert review is not None
        assert await uow.moderation_reviews.close_if_open(review.id, ReviewStatus.LIFTED, NOW)
        await uow.restrictions.lift(subject, NOW)
        assert await uow.standing.of(subject) == Standing(False, False, False)
