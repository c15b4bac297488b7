"""The billing module's records and the repository that stores them (ledger, customers, checkouts, payments).

The credit ledger is append-only: a subject's balance is the sum of their entries, never a stored counter.
Every entry carries an idempotency key that is unique across the ledger, so each effect (a purchase, a
reservation, its capture or release, a claw-back) is written exactly once however often it is attempted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


class EntryKind(enum.StrEnum):
    WELCOME_GRANT = "welcome_grant"
    PURCHASE = "purchase"
    RESERVE = "reserve"  # a generation's cost held at submission (negative)
    CAPTURE = "capture"  # the hold becomes a charge (zero: the credits already left the balance)
    RELEASE = "release"  # the hold is given back (positive)
    REFUND_CLAWBACK = "refund_clawback"
    DISPUTE_CLAWBACK = "dispute_clawback"  # credits withdrawn while a dispute is open (once per dispute)
    DISPUTE_REVERSAL = "dispute_reversal"  # a won dispute gives back what its withdrawal took


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: UUID
    subject_id: UUID
    kind: EntryKind
    amount: int  # credits; positive adds to the balance, negative takes from it
    idempotency_key: str  # unique across the ledger
    reference: str | None  # what the entry is about: a generation id or a processor id (never personal data)
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerCursor:
    """Position after an entry in newest-first order."""

    created_at: datetime
    entry_id: UUID


class CheckoutStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    EXPIRED = "expired"
    MISMATCH = "amount_mismatch"
    AWAITING_PAYMENT = "awaiting_payment"  # completed with a delayed method (a debit): the bank has not answered
    PAYMENT_FAILED = "payment_failed"  # the delayed payment failed: nothing was credited


@dataclass(slots=True)
class CheckoutRecord:
    """A hosted checkout we started for a subject: which pack, at which price."""

    session_id: str  # the processor's Checkout Session id
    subject_id: UUID
    pack_id: str
    credits: int
    amount: int  # minor units
    currency: str  # ISO 4217, lower case
    status: CheckoutStatus
    created_at: datetime
    updated_at: datetime

    def complete(self, now: datetime) -> None:
        """Paid in full: the pack's credits are in the ledger."""
        self._become(CheckoutStatus.COMPLETED, now)

    def expire(self, now: datetime) -> None:
        """The processor closed the session unpaid."""
        self._become(CheckoutStatus.EXPIRED, now)

    def await_payment(self, now: datetime) -> None:
        """Completed with a delayed method: credited only once the processor confirms the payment."""
        if self.status is CheckoutStatus.OPEN:
            self._become(CheckoutStatus.AWAITING_PAYMENT, now)

    def fail_payment(self, now: datetime) -> None:
        """The delayed payment failed; a checkout already credited is not undone by a stray event."""
        if self.status is not CheckoutStatus.COMPLETED:
            self._become(CheckoutStatus.PAYMENT_FAILED, now)

    def refuse_amount(self, now: datetime) -> None:
        """Paid, but not the amount or currency we asked for: nothing is credited."""
        self._become(CheckoutStatus.MISMATCH, now)

    def _become(self, status: CheckoutStatus, now: datetime) -> None:
        self.status = status
        self.updated_at = now


@dataclass(slots=True)
class PaymentRecord:
    """A completed payment: the record the law makes us keep. Card data is limited to brand, last4 and expiry."""

    id: UUID
    subject_id: UUID  # replaced by a random tombstone when the subject is erased
    checkout_session_id: str
    payment_intent_id: str
    customer_id: str | None
    pack_id: str
    credits: int
    amount: int
    currency: str
    card_brand: str | None
    card_last4: str | None
    card_exp_month: int | None
    card_exp_year: int | None
    amount_refunded: int
    amount_disputed: int
    credits_clawed_back: int
    paid_at: datetime
    retain_until: datetime
    pseudonymised_at: datetime | None = None

    def record_refund(self, total_refunded: int) -> None:
        """The processor's running total of refunds (a redelivered or stale total never lowers it)."""
        self.amount_refunded = min(self.amount, max(self.amount_refunded, total_refunded))

    def record_dispute(self, disputed: int) -> None:
        """One more dispute; together they never exceed the payment."""
        self.amount_disputed = min(self.amount, self.amount_disputed + disputed)

    def claw_back(self, credits: int) -> None:
        """``credits`` more were taken back from the subject's balance for refunds and disputes."""
        self.credits_clawed_back += credits

    def reverse_dispute(self, disputed: int, credits: int) -> None:
        """A dispute of ``disputed`` was won: it no longer counts, and its ``credits`` went back to the subject."""
        self.amount_disputed = max(0, self.amount_disputed - disputed)
        self.credits_clawed_back = max(0, self.credits_clawed_back - credits)


@dataclass(frozen=True, slots=True)
class BillingCustomer:
    subject_id: UUID
    processor: str
    customer_id: str
    created_at: datetime


class BillingRepository(Protocol):
    # -- ledger ---------------------------------------------------------------------------------------------------

    async def lock_wallet(self, subject_id: UUID, now: datetime) -> int:
        """Serialise ledger writes of one subject until the unit of work ends (a row lock; created if missing), and
        return the subject's balance as of the lock: it changes only by this unit of work's own entries until then.

        Call it first in the unit of work, before reading the balance, so two writers cannot both spend the
        same credits. Its cost does not grow with the subject's history: a charge is not a sum over the ledger.
        """
        ...

    async def add_entry(self, entry: LedgerEntry) -> None:
        """Append an entry; raises ``Conflict`` if its id or idempotency key is already in the ledger."""
        ...

    async def get_entry(self, idempotency_key: str) -> LedgerEntry | None: ...

    async def balance(self, subject_id: UUID) -> int:
        """The sum of the subject's entries (0 with none), this unit of work's included."""
        ...

    async def list_entries(self, subject_id: UUID, after: LedgerCursor | None, limit: int) -> list[LedgerEntry]:
        """The subject's entries newest first, starting after ``after``; at most ``limit``."""
        ...

    async def count_entries(self, subject_id: UUID) -> int:
        """How many entries the subject has (counted by the store: none is loaded)."""
        ...

    async def has_wallet(self, subject_id: UUID) -> bool:
        """Whether the subject has a wallet row (made by their first ledger write's lock; it keeps their balance)."""
        ...

    # -- processor customers --------------------------------------------------------------------------------------

    async def get_customer(self, subject_id: UUID) -> BillingCustomer | None: ...

    async def add_customer(self, customer: BillingCustomer) -> None:
        """Raises ``Conflict`` if the subject already has a customer."""
        ...

    async def delete_customer(self, subject_id: UUID) -> bool: ...

    # -- checkouts and payments -----------------------------------------------------------------------------------

    async def add_checkout(self, checkout: CheckoutRecord) -> None: ...

    async def get_checkout(self, session_id: str) -> CheckoutRecord | None: ...

    async def update_checkout(self, checkout: CheckoutRecord) -> None: ...

    async def add_payment(self, payment: PaymentRecord) -> None:
        """Raises ``Conflict`` if a payment for the same checkout session or payment intent exists."""
        ...

    async def get_payment_by_intent(self, payment_intent_id: str) -> PaymentRecord | None: ...

    async def update_payment(self, payment: PaymentRecord) -> None: ...

    async def list_payments(self, subject_id: UUID) -> list[PaymentRecord]:
        """The subject's payment records, oldest first."""
        ...

    # -- webhook events -------------------------------------------------------------------------------------------

    async def record_event(self, event_id: str, event_type: str, received_at: datetime) -> None:
        """Mark a processor event handled; raises ``Conflict`` if it already was (exactly-once handling)."""
        ...

    async def event_handled(self, event_id: str) -> bool: ...

    # -- erasure and retention ------------------------------------------------------------------------------------

    async def pseudonymise_subject(self, subject_id: UUID, tombstone: UUID, now: datetime) -> int:
        """Replace the subject's id by ``tombstone`` in ledger entries, checkouts and payments; drop the wallet
        lock row. Returns how many rows now point at the tombstone."""
        ...

    async def delete_payments_before(self, cutoff: datetime, limit: int) -> int:
        """Delete at most ``limit`` payment records whose ``retain_until`` is before ``cutoff``."""
        ...

    async def delete_events_before(self, cutoff: datetime, limit: int) -> int:
        """Forget at most ``limit`` handled-event marks received before ``cutoff``."""
        ...

    async def count_payments_before(self, cutoff: datetime) -> int:
        """How many payment records' ``retain_until`` is before ``cutoff`` (dry runs of the retention sweep)."""
        ...

    async def count_events_before(self, cutoff: datetime) -> int: ...

    async def prepare_event_periods(self, now: datetime) -> None:
        """Retention by whole period: a store that keeps its handled-event marks by period (a month) makes room for
        the current and the coming periods' marks (a store without periods does nothing)."""
        ...

    async def drop_event_periods_before(self, cutoff: datetime) -> int | None:
        """Retention by whole period: forget at once a bounded run of whole periods of marks that end at or before
        ``cutoff``; returns how many marks went, or None when there is none (or no periods are kept, or they cannot
        be removed now). The rest goes through ``delete_events_before``."""
        ...

    async def delete_checkouts_before(self, cutoff: datetime, limit: int) -> int:
        """Delete at most ``limit`` of the oldest checkout sessions opened before ``cutoff``."""
        ...

    async def count_checkouts_before(self, cutoff: datetime) -> int: ...


class BillingStores(Protocol):
    """The billing module's store in a unit of work."""

    billing: BillingRepository
