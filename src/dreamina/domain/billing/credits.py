"""The credit ledger's use cases: balance, history, the welcome grant, and a generation's reserve/capture/release.

Every write starts by locking the subject's wallet row, so two writers never spend the same credits, and every
entry carries an idempotency key that is unique across the ledger, so retries (a worker that died mid-job, a
duplicated request) never write an effect twice. Capture and release share one key per generation
(``settle:<id>``): whichever comes first wins and the other becomes a no-op.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dreamina.domain.billing.errors import InsufficientCredits
from dreamina.domain.privacy.errors import Conflict, InvalidInput, NotFound
from dreamina.domain.privacy.retries import retry_on_conflict
from dreamina.ports.billing import BillingStores, EntryKind, LedgerCursor, LedgerEntry
from dreamina.ports.clock import Clock
from dreamina.ports.unit_of_work import UnitOfWorkFactory

MAX_PAGE = 100
MAX_COST = 1_000_000


@dataclass(frozen=True, slots=True)
class LedgerPage:
    entries: list[LedgerEntry]
    next_cursor: str | None


def reserve_key(generation_id: UUID) -> str:
    return f"reserve:{generation_id}"


def settle_key(generation_id: UUID) -> str:
    return f"settle:{generation_id}"


def welcome_key(subject_id: UUID) -> str:
    return f"welcome:{subject_id}"


def encode_cursor(entry: LedgerEntry) -> str:
    raw = f"{entry.created_at.isoformat()}|{entry.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> LedgerCursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, entry_id = raw.partition("|")
        created_at = datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            raise ValueError("naive")
        return LedgerCursor(created_at=created_at, entry_id=UUID(entry_id))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this API returned", field="cursor") from None


class Credits:
    """Balance, ledger and generation charges. Each method is one or more units of work that commit themselves."""

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock, welcome_credits: int) -> None:
        self._uow = uow
        self._clock = clock
        self._welcome = welcome_credits

    async def _grant_welcome(self, uow: BillingStores, subject_id: UUID) -> int:
        """Inside a unit of work that holds the subject's wallet lock: write the welcome grant if it is missing.
        Returns the credits it granted (0 if it was there)."""
        if self._welcome <= 0 or await uow.billing.get_entry(welcome_key(subject_id)) is not None:
            return 0
        await uow.billing.add_entry(
            LedgerEntry(
                id=uuid.uuid4(),
                subject_id=subject_id,
                kind=EntryKind.WELCOME_GRANT,
                amount=self._welcome,
                idempotency_key=welcome_key(subject_id),
                reference=None,
                created_at=self._clock.now(),
            )
        )
        return self._welcome

    async def ensure_welcome_grant(self, subject_id: UUID) -> None:
        """Give a new subject the configured welcome credits, exactly once (safe to call on every access)."""
        if self._welcome <= 0:
            return
        async with self._uow() as uow:
            if await uow.billing.get_entry(welcome_key(subject_id)) is not None:
                return

        async def grant() -> None:
            async with self._uow() as uow:
                await uow.billing.lock_wallet(subject_id, self._clock.now())
                await self._grant_welcome(uow, subject_id)
                await uow.commit()

        await retry_on_conflict(grant)

    async def balance(self, subject_id: UUID) -> int:
        await self.ensure_welcome_grant(subject_id)
        async with self._uow() as uow:
            return await uow.billing.balance(subject_id)

    async def ledger(self, subject_id: UUID, *, cursor: str | None = None, limit: int = 20) -> LedgerPage:
        """The subject's entries, newest first, ``limit`` per page; ``next_cursor`` continues after the last."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
        after = decode_cursor(cursor) if cursor else None
        await self.ensure_welcome_grant(subject_id)
        async with self._uow() as uow:
            entries = await uow.billing.list_entries(subject_id, after, limit + 1)
        more = len(entries) > limit
        entries = entries[:limit]
        return LedgerPage(entries=entries, next_cursor=encode_cursor(entries[-1]) if more and entries else None)

    # -- generation charges ---------------------------------------------------------------------------------------

    async def reserve(self, subject_id: UUID, generation_id: UUID, amount: int) -> None:
        """Hold ``amount`` credits for a generation in a unit of work of its own (see :meth:`reserve_in`)."""

        async def attempt() -> None:
            async with self._uow() as uow:
                await self.reserve_in(uow, subject_id, generation_id, amount)
                await uow.commit()

        await retry_on_conflict(attempt)

    async def reserve_in(self, uow: BillingStores, subject_id: UUID, generation_id: UUID, amount: int) -> None:
        """Hold ``amount`` credits for a generation inside the caller's unit of work, which commits it together with
        what the hold is for (the generation row); ``InsufficientCredits`` (402) when the balance is short.

        Idempotent: reserving the same generation again with the same terms changes nothing. It locks the wallet
        first (writes the welcome grant if it is missing), so a caller retrying on ``Conflict`` starts over.
        """
        if not isinstance(amount, int) or not 0 < amount <= MAX_COST:
            raise InvalidInput(f"a generation costs between 1 and {MAX_COST} credits", field="cost")
        balance = await uow.billing.lock_wallet(subject_id, self._clock.now())
        balance += await self._grant_welcome(uow, subject_id)
        existing = await uow.billing.get_entry(reserve_key(generation_id))
        if existing is not None:
            if existing.subject_id != subject_id or existing.amount != -amount:
                raise Conflict("this generation was already reserved with other terms")
            return
        if balance < amount:
            raise InsufficientCredits(
                f"this generation costs {amount} credits and the balance is {balance}", balance=balance, cost=amount
            )
        await uow.billing.add_entry(
            LedgerEntry(
                id=uuid.uuid4(),
                subject_id=subject_id,
                kind=EntryKind.RESERVE,
                amount=-amount,
                idempotency_key=reserve_key(generation_id),
                reference=str(generation_id),
                created_at=self._clock.now(),
            )
        )

    async def capture(self, generation_id: UUID) -> None:
        """The generation succeeded: its hold becomes a charge. Exactly once; a no-op after release."""
        await self._settle(generation_id, EntryKind.CAPTURE)

    async def release(self, generation_id: UUID) -> None:
        """The generation failed or was cancelled: its hold is given back. Exactly once; a no-op after capture."""
        await self._settle(generation_id, EntryKind.RELEASE)

    async def _settle(self, generation_id: UUID, kind: EntryKind) -> None:
        async with self._uow() as uow:
            hold = await uow.billing.get_entry(reserve_key(generation_id))
        if hold is None:
            raise NotFound("no credits are reserved for this generation")

        async def attempt() -> None:
            async with self._uow() as uow:
                await uow.billing.lock_wallet(hold.subject_id, self._clock.now())
                if await uow.billing.get_entry(settle_key(generation_id)) is not None:
                    return
                await uow.billing.add_entry(
                    LedgerEntry(
                        id=uuid.uuid4(),
                        subject_id=hold.subject_id,
                        kind=kind,
                        amount=0 if kind is EntryKind.CAPTURE else -hold.amount,
                        idempotency_key=settle_key(generation_id),
                        reference=str(generation_id),
                        created_at=self._clock.now(),
                    )
                )
                await uow.commit()

        await retry_on_conflict(attempt)
