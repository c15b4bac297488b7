"""What the support module stores (G1): tickets from the contact form (policy section 11), with its retention
lines."""

from __future__ import annotations

from dreamina.domain.privacy.datamap import (
    DataDeclaration,
    FieldDeclaration,
    StoreDeclaration,
    non_personal,
)
from dreamina.domain.privacy.schedule import (
    ScheduleAction,
    ScheduleEntry,
    days_from,
)
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionRule

# Periods enforced by domain/support/retention.py; a signed-in subject's tickets also go with an erasure.
PRIVACY_TICKET_DAYS = 730  # records of how privacy questions were answered (CCPA regs: at least 24 months)
OTHER_TICKET_DAYS = 365  # billing and other tickets: follow-ups and disputes about the same purchase

TICKET_RETENTION = RetentionRule(
    "deleted 2 years after a privacy ticket is closed (records of how privacy requests were answered, "
    "11 CCR 7101(a): 24 months), 1 year after a billing or other ticket is closed; a ticket answered but never "
    "closed counts from its last answer; a signed-in subject's tickets are deleted with the subject on erasure",
    days=PRIVACY_TICKET_DAYS,
)
_SUPPORT = (Purpose.SUPPORT,)
ADDRESS_REQUEST_DAYS = 1  # a pending address request is deleted a day after its link expired
ADDRESS_REQUEST_RETENTION = RetentionRule(
    "deleted 1 day after its link expired (24 hours after the request), or with the erasure it confirmed",
    days=ADDRESS_REQUEST_DAYS,
)


def _ticket(
    description: str,
    *,
    links: bool = False,
    encrypted: bool = False,
    basis: LegalBasis = LegalBasis.LEGITIMATE_INTERESTS,
) -> FieldDeclaration:
    return FieldDeclaration(
        DataCategory.ACCOUNT,
        description,
        purposes=_SUPPORT,
        legal_basis=basis,
        retention=TICKET_RETENTION,
        links_subject=links,
        encrypted=encrypted,
    )


SUPPORT_DATA = DataDeclaration(
    stores=(
        StoreDeclaration(
            "support_tickets",
            "messages to support and the privacy contact (section 11), with our answers",
            {
                "id": non_personal("random ticket id"),
                "subject_id": _ticket("the signed-in subject who wrote (empty for anonymous tickets)", links=True),
                "category": _ticket("privacy, billing or other"),
                "status": non_personal("open, answered or closed"),
                "received_at": _ticket("when the ticket arrived (a privacy ticket's legal clock starts)"),
                "updated_at": non_personal("last change"),
                "subject_line_ciphertext": _ticket("the subject line, encrypted", encrypted=True),
                "message_ciphertext": _ticket("the message, encrypted", encrypted=True),
                "reply_to_ciphertext": _ticket(
                    "the address to answer, encrypted (required without an account)", encrypted=True
                ),
                "wrapped_key": _ticket("an anonymous ticket's own data key, wrapped by the master key"),
                "replies_ciphertext": _ticket("our answers, encrypted", encrypted=True),
                "jurisdiction": _ticket(
                    "privacy tickets: the jurisdiction whose legal clock applies", basis=LegalBasis.LEGAL_OBLIGATION
                ),
                "due_at": _ticket("privacy tickets: when the answer is due", basis=LegalBasis.LEGAL_OBLIGATION),
                "flag": non_personal("near_due or overdue, set by the hourly deadline monitor"),
                "answered_at": _ticket("when we answered"),
                "closed_at": _ticket("when the ticket was closed (its retention period starts)"),
                "reply_to_index": _ticket(
                    "anonymous tickets: a keyed hash (blind index) of the reply-to address, so a verified request "
                    "by that address (or the account that verified it) finds them",
                    links=True,
                ),
            },
        ),
        StoreDeclaration(
            "ticket_address_requests",
            "access or erasure requests about anonymous tickets, waiting for the link mailed to the address",
            {
                "id": non_personal("random request id"),
                "kind": non_personal("access or erasure"),
                "address_index": FieldDeclaration(
                    DataCategory.ACCOUNT,
                    "a keyed hash (blind index) of the address the link was mailed to",
                    purposes=_SUPPORT,
                    legal_basis=LegalBasis.LEGAL_OBLIGATION,
                    retention=ADDRESS_REQUEST_RETENTION,
                    links_subject=True,
                ),
                "token_hash": non_personal("keyed hash of the mailed link's token"),
                "created_at": non_personal("when the request was made"),
                "expires_at": non_personal("when the link stops working (24 hours)"),
                "used_at": non_personal("when the link was used"),
            },
        ),
    ),
    schedule=(
        ScheduleEntry(
            "privacy_support_tickets",
            DataCategory.ACCOUNT,
            days_from(PRIVACY_TICKET_DAYS, "the ticket's closing"),
            ScheduleAction.DELETE,
            "closed privacy tickets (the record of how a privacy question was answered) are deleted 2 years after "
            "closing (a ticket answered but never closed: after its last answer); a signed-in subject's tickets go "
            "with their erasure",
            stores=("support_tickets",),
            tasks=("support_tickets.closed_privacy",),
        ),
        ScheduleEntry(
            "other_support_tickets",
            DataCategory.ACCOUNT,
            days_from(OTHER_TICKET_DAYS, "the ticket's closing"),
            ScheduleAction.DELETE,
            "closed billing and other support tickets are deleted 1 year after closing (answered but never closed: "
            "after the last answer)",
            stores=("support_tickets",),
            tasks=("support_tickets.closed_other",),
        ),
        ScheduleEntry(
            "ticket_address_requests",
            DataCategory.ACCOUNT,
            days_from(ADDRESS_REQUEST_DAYS, "the link's expiry"),
            ScheduleAction.DELETE,
            "requests by email address about anonymous tickets are deleted 1 day after their link expired",
            stores=("ticket_address_requests",),
            tasks=("ticket_address_requests.expired",),
        ),
    ),
)
