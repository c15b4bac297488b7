"""What the privacy kernel itself stores (G1): subjects' data keys, the audit trail, the disclosure ledger and the
mail outbox.

Every module writes to these through the unit of work; the kernel declares them once, with their schedule lines.
"""

from __future__ import annotations

from dreamina.domain.privacy.datamap import (
    ACCOUNT_LIFETIME,
    DISCLOSURE_RECORD,
    LEGAL_RECORD,
    ROW_ID,
    SUBJECT,
    DataDeclaration,
    FieldDeclaration,
    StoreDeclaration,
    non_personal,
    store,
)
from dreamina.domain.privacy.schedule import (
    LEGAL_RECORD_DAYS,
    PeriodKind,
    RetentionPeriod,
    ScheduleAction,
    ScheduleEntry,
    days_from,
)
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionAction, RetentionRule

UNDELIVERABLE_MAIL_DAYS = 3  # the relay's own retries give up within 5 days; ours sooner, and we drop the text
QUEUED_MAIL = RetentionRule(
    f"deleted once delivered; given up (deleted) {UNDELIVERABLE_MAIL_DAYS} days after it was queued",
    RetentionAction.DELETE,
    UNDELIVERABLE_MAIL_DAYS,
)

IDEMPOTENCY_KEY_HOURS = 24  # how long a retry with the same Idempotency-Key gets the first answer back
KEPT_ANSWER = RetentionRule(
    f"deleted {IDEMPOTENCY_KEY_HOURS} hours after the request, and with the account on erasure",
    RetentionAction.DELETE,
    IDEMPOTENCY_KEY_HOURS // 24,
)

OUTBOX_FILE_DAYS = 7  # the embedded profile's outbox folder stands in for the recipient's mailbox; a week to read it
OUTBOX_FILE = RetentionRule(
    f"embedded profile only: deleted {OUTBOX_FILE_DAYS} days after it was written",
    RetentionAction.DELETE,
    OUTBOX_FILE_DAYS,
)

KERNEL_DATA = DataDeclaration(
    stores=(
        store(
            "subject_keys",
            "each subject's data key, wrapped by the master key; destroying it crypto-shreds their data",
            subject_id=SUBJECT,
            wrapped_key=FieldDeclaration(
                DataCategory.NON_PERSONAL,
                "the subject's AES-256 data key, encrypted by the master key; destroyed on erasure",
                purposes=(Purpose.SECURITY,),
                legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
                retention=ACCOUNT_LIFETIME,
            ),
            created_at=non_personal("when the key was made"),
            destroyed_at=non_personal("when the key was destroyed (crypto-shredding), kept as proof"),
        ),
        store(
            "audit_events",
            "append-only audit trail: rectifications, staff access, privacy-request state changes",
            id=ROW_ID,
            subject_id=FieldDeclaration(
                DataCategory.ACCOUNT,
                "whose data the event concerns",
                purposes=(Purpose.LEGAL, Purpose.SECURITY),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=LEGAL_RECORD,
                links_subject=True,
            ),
            actor_kind=non_personal("subject, staff or system"),
            actor_id=FieldDeclaration(
                DataCategory.ACCOUNT,
                "who acted (the subject, a staff member or the system)",
                purposes=(Purpose.LEGAL, Purpose.SECURITY),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=LEGAL_RECORD,
                links_subject=True,
            ),
            action=non_personal("what happened, e.g. rectification"),
            fields=non_personal("names of the fields concerned; never their values"),
            reason=FieldDeclaration(
                DataCategory.ACCOUNT,
                "why (required for staff access)",
                purposes=(Purpose.LEGAL,),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=LEGAL_RECORD,
            ),
            occurred_at=non_personal("when"),
        ),
        store(
            "disclosures",
            "disclosure ledger: every hand-off of personal data to a processor (G10)",
            id=ROW_ID,
            subject_id=FieldDeclaration(
                DataCategory.ACCOUNT,
                "whose data was disclosed",
                purposes=(Purpose.LEGAL,),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=DISCLOSURE_RECORD,
                links_subject=True,
            ),
            processor=non_personal("which processor received it"),
            categories=non_personal("which data categories"),
            purpose=non_personal("for which purpose"),
            reference=FieldDeclaration(
                DataCategory.TECHNICAL,
                "the processor's id for what it received (e.g. a Stripe customer id)",
                purposes=(Purpose.LEGAL,),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=DISCLOSURE_RECORD,
                links_subject=True,
            ),
            occurred_at=non_personal("when"),
            improvement_allowed=non_personal(
                "whether the subject allowed the content to be used to improve the service at the hand-off"
            ),
        ),
        store(
            "mail_outbox",
            "messages waiting to be mailed: written with the change they report, deleted once delivered",
            id=ROW_ID,
            subject_id=FieldDeclaration(
                DataCategory.ACCOUNT,
                "the account the message concerns (empty for mail to someone without one)",
                retention=QUEUED_MAIL,
                processors=("email_delivery",),
                links_subject=True,
            ),
            kind=non_personal("what the message is, e.g. welcome or privacy_request_code"),
            sealed=FieldDeclaration(
                DataCategory.ACCOUNT,
                "recipient address, subject line and body (and a marketing mail's unsubscribe link), sealed with the "
                "message's own key",
                purposes=(Purpose.SERVICE, Purpose.SUPPORT, Purpose.SECURITY, Purpose.LEGAL, Purpose.MARKETING),
                retention=QUEUED_MAIL,
                processors=("email_delivery",),
                encrypted=True,
            ),
            wrapped_key=non_personal("the message's own AES-256 key, wrapped by the master key; deleted with the row"),
            queued_at=non_personal("when it was written"),
            attempts=non_personal("delivery attempts so far"),
            next_attempt_at=non_personal("when the next attempt is due (back-off, or a deliverer's lease)"),
        ),
        store(
            "idempotency_records",
            "the answer to each request sent with an Idempotency-Key, so that a retry gets it again and has no effect",
            subject_id=FieldDeclaration(
                DataCategory.ACCOUNT, "whose request it was", retention=KEPT_ANSWER, links_subject=True
            ),
            route=non_personal("which operation, e.g. POST /v1/generations"),
            key=FieldDeclaration(
                DataCategory.TECHNICAL, "the key the client chose for the request", retention=KEPT_ANSWER
            ),
            fingerprint=non_personal("SHA-256 of the request, to refuse the key for a different one"),
            status=non_personal("the answer's HTTP status"),
            body=FieldDeclaration(
                DataCategory.CONTENT,
                "the answer's JSON body as sent (ids of what the request created, a checkout link)",
                retention=KEPT_ANSWER,
            ),
            created_at=non_personal("when the request was answered"),
        ),
        StoreDeclaration(
            "mail_outbox_folder",
            "embedded profile only (DREAMINA_MAIL_BACKEND=outbox): delivered mail as .eml files in the outbox folder, "
            "the local stand-in for the SMTP relay and the recipient's mailbox; production refuses this backend",
            table=False,
            fields=dict(
                recipient=FieldDeclaration(
                    DataCategory.ACCOUNT,
                    "the recipient's address",
                    purposes=(Purpose.SERVICE, Purpose.SUPPORT, Purpose.SECURITY, Purpose.LEGAL),
                    retention=OUTBOX_FILE,
                    links_subject=True,
                ),
                message=FieldDeclaration(
                    DataCategory.ACCOUNT,
                    "subject line and body as sent (links and one-time codes included)",
                    purposes=(Purpose.SERVICE, Purpose.SUPPORT, Purpose.SECURITY, Purpose.LEGAL),
                    retention=OUTBOX_FILE,
                ),
            ),
        ),
    ),
    schedule=(
        ScheduleEntry(
            "ip_addresses_and_user_agents",
            DataCategory.TECHNICAL,
            RetentionPeriod(PeriodKind.NEVER_STORED, None, ""),
            ScheduleAction.NONE,
            "IP addresses and user agents are never stored: sessions hold neither, rate limits count a keyed hash of "
            "the address for one minute, analytics keeps only the country of the address truncated to /24 (IPv4) or "
            "/48 (IPv6) and the browser family",
        ),
        ScheduleEntry(
            "queued_mail",
            DataCategory.ACCOUNT,
            days_from(UNDELIVERABLE_MAIL_DAYS, "the message being queued"),
            ScheduleAction.DELETE,
            "mail waiting to be sent is deleted once delivered (seconds after the change it reports); a message the "
            f"relay keeps refusing is given up {UNDELIVERABLE_MAIL_DAYS} days after it was queued",
            stores=("mail_outbox",),
            tasks=("mail_outbox.undeliverable",),
        ),
        ScheduleEntry(
            "idempotency_records",
            DataCategory.CONTENT,
            days_from(IDEMPOTENCY_KEY_HOURS // 24, "the request"),
            ScheduleAction.DELETE,
            f"the answer kept for a request sent with an Idempotency-Key is deleted {IDEMPOTENCY_KEY_HOURS} hours "
            "after the request (a retry after that is a new request), and with the account on erasure",
            stores=("idempotency_records",),
            tasks=("idempotency_records.expired",),
        ),
        ScheduleEntry(
            "outbox_folder",
            DataCategory.ACCOUNT,
            days_from(OUTBOX_FILE_DAYS, "the message being written"),
            ScheduleAction.DELETE,
            "in the embedded profile, mail is delivered as files into the outbox folder (the stand-in for a mailbox); "
            f"each file is deleted {OUTBOX_FILE_DAYS} days after it was written",
            stores=("mail_outbox_folder",),
            tasks=("mail_outbox_folder.expired",),
        ),
        ScheduleEntry(
            "audit_events",
            DataCategory.ACCOUNT,
            days_from(LEGAL_RECORD_DAYS, "the event"),
            ScheduleAction.DELETE,
            "audit events (rectifications, staff access, request changes) are deleted 3 years after they happened; "
            "pseudonymised on erasure until then",
            stores=("audit_events",),
            tasks=("audit_events.legal_period_over",),
        ),
    ),
)
