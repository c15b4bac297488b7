"""What the privacy kernel itself stores (G1): subjects' data keys, the audit trail and the disclosure ledger.

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
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose

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
