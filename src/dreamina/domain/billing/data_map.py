"""What the billing module stores (G1, G2: no card number or CVC is a declared field), with its retention lines."""

from __future__ import annotations

from dreamina.domain.privacy.datamap import (
    ACCOUNT_LIFETIME,
    DataDeclaration,
    FieldDeclaration,
    StoreDeclaration,
    non_personal,
    store,
)
from dreamina.domain.privacy.schedule import (
    ScheduleAction,
    ScheduleEntry,
    days_from,
)
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionAction, RetentionRule

PAYMENT_RECORD_YEARS = 10
PAYMENT_RECORD = RetentionRule(
    "accounting record kept for the legal period (DREAMINA_BILLING_RECORD_RETENTION_DAYS, default 10 years), "
    "then deleted; pseudonymised (link to the person replaced by a random tombstone) on erasure",
    RetentionAction.ANONYMISE,
    365 * PAYMENT_RECORD_YEARS,
)
LEDGER_RECORD = RetentionRule(
    "kept with the payment records it balances; pseudonymised on erasure", RetentionAction.ANONYMISE
)
HANDLED_EVENT = RetentionRule("forgotten 90 days after the event was handled", RetentionAction.DELETE, 90)
SANDBOX_SESSION_DAYS = 90
SANDBOX_SESSION = RetentionRule(
    f"test purchases of the local payment sandbox (embedded profile): deleted {SANDBOX_SESSION_DAYS} days after "
    "the session was opened",
    RetentionAction.DELETE,
    SANDBOX_SESSION_DAYS,
)

_PAYMENTS = (Purpose.PAYMENTS, Purpose.LEGAL)


def _payment(description: str, *, retention: RetentionRule = PAYMENT_RECORD, links: bool = False) -> FieldDeclaration:
    return FieldDeclaration(
        DataCategory.PAYMENT,
        description,
        purposes=_PAYMENTS,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        retention=retention,
        links_subject=links,
    )


def _sandbox(description: str) -> FieldDeclaration:
    return FieldDeclaration(DataCategory.PAYMENT, description, purposes=(Purpose.PAYMENTS,), retention=SANDBOX_SESSION)


BILLING_DATA = DataDeclaration(
    stores=(
        store(
            "billing_wallets",
            "one row per subject with credits: the lock that serialises their ledger writes, and their balance (the "
            "running sum of their ledger entries, kept so a charge does not add up their whole history)",
            subject_id=FieldDeclaration(
                DataCategory.ACCOUNT, "whose wallet", retention=ACCOUNT_LIFETIME, links_subject=True
            ),
            revision=non_personal("how many ledger writes took the lock"),
            updated_at=non_personal("when the lock was last taken"),
            balance=FieldDeclaration(
                DataCategory.PAYMENT,
                "the sum of the subject's ledger entries (empty until first counted); deleted on erasure",
                purposes=_PAYMENTS,
                retention=ACCOUNT_LIFETIME,
            ),
        ),
        store(
            "credit_ledger_entries",
            "append-only credit ledger: grants, purchases, generation holds and charges, claw-backs",
            id=non_personal("random row identifier"),
            subject_id=_payment(
                "whose credits; replaced by a tombstone on erasure", retention=LEDGER_RECORD, links=True
            ),
            kind=non_personal(
                "welcome_grant, purchase, reserve, capture, release, refund_clawback, dispute_clawback or "
                "dispute_reversal"
            ),
            amount=_payment("credits added (positive) or taken (negative)", retention=LEDGER_RECORD),
            idempotency_key=_payment(
                "what the entry is for (e.g. reserve:<generation id>), unique so each effect is written once",
                retention=LEDGER_RECORD,
            ),
            reference=_payment("generation id or processor id the entry is about", retention=LEDGER_RECORD),
            created_at=_payment("when", retention=LEDGER_RECORD),
        ),
        store(
            "billing_customers",
            "the subject's customer at the payment processor",
            subject_id=FieldDeclaration(
                DataCategory.ACCOUNT, "whose customer", retention=ACCOUNT_LIFETIME, links_subject=True
            ),
            processor=non_personal("which processor"),
            customer_id=FieldDeclaration(
                DataCategory.PAYMENT,
                "the processor's customer id (deleted at the processor and here on erasure)",
                purposes=(Purpose.PAYMENTS,),
                retention=ACCOUNT_LIFETIME,
                processors=("stripe",),
                links_subject=True,
            ),
            created_at=FieldDeclaration(
                DataCategory.PAYMENT, "when", purposes=(Purpose.PAYMENTS,), retention=ACCOUNT_LIFETIME
            ),
        ),
        store(
            "checkout_sessions",
            "hosted checkouts we opened: which pack at which price (card details are typed only at the processor)",
            session_id=_payment("the processor's Checkout Session id", retention=PAYMENT_RECORD),
            subject_id=_payment("who is buying; replaced by a tombstone on erasure", links=True),
            pack_id=non_personal("which credit pack"),
            credits=non_personal("credits in the pack"),
            amount=_payment("price in minor units"),
            currency=_payment("ISO 4217 currency"),
            status=non_personal("open, awaiting_payment, completed, payment_failed, expired or amount_mismatch"),
            created_at=_payment("when the checkout was opened"),
            updated_at=_payment("when its status last changed"),
        ),
        store(
            "payments",
            "completed payments: the accounting record (legal hold). Card data limited to brand, last4 and expiry",
            id=non_personal("random row identifier"),
            subject_id=_payment("who paid; replaced by a random tombstone on erasure", links=True),
            checkout_session_id=_payment("the processor's Checkout Session id"),
            payment_intent_id=_payment("the processor's PaymentIntent id"),
            customer_id=FieldDeclaration(
                DataCategory.PAYMENT,
                "the processor's customer id; cleared on erasure",
                purposes=_PAYMENTS,
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=PAYMENT_RECORD,
                processors=("stripe",),
                links_subject=True,
            ),
            pack_id=non_personal("which credit pack"),
            credits=_payment("credits bought"),
            amount=_payment("amount paid in minor units"),
            currency=_payment("ISO 4217 currency"),
            card_brand=_payment("card brand (e.g. visa)"),
            card_last4=_payment("last four digits of the card (never the full number)"),
            card_exp_month=_payment("card expiry month"),
            card_exp_year=_payment("card expiry year"),
            amount_refunded=_payment("amount refunded so far"),
            amount_disputed=_payment("amount disputed so far"),
            credits_clawed_back=_payment("credits taken back for refunds and disputes"),
            paid_at=_payment("when the payment completed"),
            retain_until=non_personal("end of the legal retention period"),
            pseudonymised_at=non_personal("when the link to the person was replaced by a tombstone"),
        ),
        StoreDeclaration(
            "sandbox_checkout_sessions",
            "the local payment sandbox's checkout sessions and the test payment made on each (embedded profile only; "
            "nothing leaves the machine). Card data limited to brand, last4 and expiry; the number and CVC typed on "
            "the page are never stored",
            {
                "id": _sandbox("the sandbox's Checkout Session id (our checkout_sessions row names it)"),
                "reference": _sandbox("our checkout reference (random)"),
                "customer_id": _sandbox("the sandbox's customer id"),
                "pack_id": non_personal("which credit pack"),
                "description": non_personal("the pack's name and credits, shown on the page"),
                "amount": _sandbox("price in minor units"),
                "currency": _sandbox("ISO 4217 currency"),
                "success_url": non_personal("where the page sends the buyer after paying"),
                "cancel_url": non_personal("where the page sends the buyer after a decline"),
                "created_at": _sandbox("when the session was opened"),
                "expires_at": non_personal("when the session closes unpaid"),
                "status": non_personal("open, complete or expired"),
                "payment_status": non_personal("unpaid or paid"),
                "pending_debit": non_personal("a test debit awaiting the simulated bank: succeeds or fails"),
                "payment_intent_id": _sandbox("the sandbox's PaymentIntent id"),
                "charge_id": _sandbox("the sandbox's charge id"),
                "card_brand": _sandbox("card brand (e.g. visa)"),
                "card_last4": _sandbox("last four digits of the test card (never the full number)"),
                "card_exp_month": _sandbox("card expiry month"),
                "card_exp_year": _sandbox("card expiry year"),
                "amount_refunded": _sandbox("amount refunded so far"),
            },
        ),
        store(
            "processed_payment_events",
            "ids of processor events already handled, so each is handled exactly once",
            event_id=FieldDeclaration(
                DataCategory.TECHNICAL,
                "the processor's event id",
                purposes=(Purpose.PAYMENTS,),
                retention=HANDLED_EVENT,
            ),
            type=non_personal("event type"),
            received_at=FieldDeclaration(
                DataCategory.TECHNICAL, "when it was handled", purposes=(Purpose.PAYMENTS,), retention=HANDLED_EVENT
            ),
        ),
    ),
    schedule=(
        ScheduleEntry(
            "payment_records",
            DataCategory.PAYMENT,
            days_from(3650, "the payment (DREAMINA_BILLING_RECORD_RETENTION_DAYS, fixed on each record when made)"),
            ScheduleAction.DELETE,
            "payment records are kept for the legal accounting period, pseudonymised on erasure, then deleted",
            stores=("payments",),
            tasks=("payments.legal_period_over",),
        ),
        ScheduleEntry(
            "checkout_sessions",
            DataCategory.PAYMENT,
            days_from(3650, "the checkout being opened (DREAMINA_BILLING_RECORD_RETENTION_DAYS)"),
            ScheduleAction.DELETE,
            "hosted checkouts we opened are kept with the payment records, pseudonymised on erasure, then deleted",
            stores=("checkout_sessions",),
            tasks=("checkout_sessions.legal_period_over",),
        ),
        ScheduleEntry(
            "sandbox_checkout_sessions",
            DataCategory.PAYMENT,
            days_from(SANDBOX_SESSION_DAYS, "the sandbox session being opened"),
            ScheduleAction.DELETE,
            "the local payment sandbox's test purchases (embedded profile) are deleted",
            stores=("sandbox_checkout_sessions",),
            tasks=("sandbox_checkout_sessions.expired",),
        ),
        ScheduleEntry(
            "handled_payment_events",
            DataCategory.TECHNICAL,
            days_from(90, "the event being handled"),
            ScheduleAction.DELETE,
            "marks of processor events already handled are forgotten after 90 days",
            stores=("processed_payment_events",),
            tasks=("processed_payment_events.expired",),
        ),
    ),
)
