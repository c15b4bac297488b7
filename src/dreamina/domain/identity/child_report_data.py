"""Data-map declaration of the children's flow (policy section 9, G8): reports that an account belongs to a child.

A report is about the reported subject but holds another person's data (the reporter's contact and what they
wrote). The subject's export lists the reports about them without the reporter's data; the subject's erasure
replaces the account id with the erasure pseudonym and drops the free-text details (they may name the child). The
record itself is kept, pseudonymised, as proof the report was handled; the reporter's data goes 90 days after the
report is closed, the record 3 years after.
"""

from __future__ import annotations

from dreamina.domain.privacy.datamap import (
    DataDeclaration,
    FieldDeclaration,
    StoreDeclaration,
    non_personal,
)
from dreamina.domain.privacy.schedule import (
    LEGAL_RECORD_DAYS,
    ScheduleAction,
    ScheduleEntry,
    days_from,
)
from dreamina.domain.privacy.sealed_inbox import inbox_store, reporter_data_retention
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionAction, RetentionRule

INBOX_DAYS = 7  # a received report is matched within seconds; one a fault kept waiting is given up after a week
REPORTER_DATA_DAYS = 90  # the reporter has been told the outcome; nothing left to answer
REPORT_RECORD_DAYS = LEGAL_RECORD_DAYS  # proof the report was handled

REPORTER_DATA = reporter_data_retention(REPORTER_DATA_DAYS)
REPORT_RECORD = RetentionRule(
    f"kept {REPORT_RECORD_DAYS // 365} years after the report is closed as proof it was handled, then deleted; "
    "the reported subject's erasure replaces their id with the erasure pseudonym",
    RetentionAction.ANONYMISE,
    REPORT_RECORD_DAYS,
)
_PURPOSES = (Purpose.LEGAL, Purpose.SECURITY)


def _about_subject(description: str, *, links: bool = False) -> FieldDeclaration:
    return FieldDeclaration(
        DataCategory.ACCOUNT,
        description,
        purposes=_PURPOSES,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        retention=REPORT_RECORD,
        links_subject=links,
    )


def _reporter(description: str) -> FieldDeclaration:
    return FieldDeclaration(
        DataCategory.ACCOUNT,
        description,
        purposes=(Purpose.LEGAL, Purpose.SUPPORT),
        legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
        retention=REPORTER_DATA,
        processors=("email_delivery",),
        encrypted=True,
    )


CHILD_REPORT_DATA = DataDeclaration(
    stores=(
        StoreDeclaration(
            "child_reports",
            "reports that an account belongs to a child (section 9): the account is under age review until staff "
            "decide (a staff member's account: escalated to admins)",
            {
                "id": non_personal("random report id"),
                "subject_id": _about_subject("the account reported (its erasure pseudonym once erased)", links=True),
                "source": non_personal(
                    "report (someone told us) or birth_date_correction (the subject's own correction)"
                ),
                "status": non_personal("open, confirmed, dismissed or account_erased"),
                "received_at": _about_subject("when the first report arrived"),
                "updated_at": non_personal("last change"),
                "reports_received": _about_subject("how many reports were merged into this one"),
                "suspended_account": _about_subject("whether this report suspended an active account"),
                "reporter_key": FieldDeclaration(
                    DataCategory.NON_PERSONAL,
                    "the report's own AES-256 data key, wrapped by the master key; dropped with the reporter's data",
                    purposes=(Purpose.SECURITY,),
                    legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
                    retention=REPORTER_DATA,
                ),
                "reporters_ciphertext": _reporter(
                    "the reporters' contact address and relationship to the child, encrypted with the report's key"
                ),
                "details_ciphertext": _reporter(
                    "what the reporters wrote, encrypted with the report's key; also dropped on the subject's erasure"
                ),
                "closed_at": non_personal("when staff confirmed or dismissed the report"),
                "erasure_request_id": non_personal(
                    "the erasure request a confirmation started (names nothing once it is done)"
                ),
                "reporter_data_deleted_at": non_personal("when the reporter's data was deleted"),
                "escalated": non_personal(
                    "the account is a staff member's: nothing changed automatically, only admins see and decide it"
                ),
                "statement_ciphertext": FieldDeclaration(
                    DataCategory.ACCOUNT,
                    "the holder's answer to the age review, sealed with their own data key (shown to the staff "
                    "who decide; in their export; gone with their key and dropped on their erasure)",
                    purposes=_PURPOSES,
                    legal_basis=LegalBasis.LEGAL_OBLIGATION,
                    retention=REPORT_RECORD,
                    encrypted=True,
                ),
                "statement_at": _about_subject("when the holder answered the review"),
            },
        ),
        inbox_store(
            "child_report_inbox",
            "child reports received and not yet matched to an account: sealed whole (target, reporter, details) "
            "with a key of their own, so receiving a report costs the same whether or not the account exists; "
            "matching deletes each within seconds, filing it or dropping it",
            "the report as sent (the reported address or id, the reporter's contact, relationship and details), "
            "encrypted with the key beside it",
            days=INBOX_DAYS,
            purposes=(Purpose.LEGAL, Purpose.SECURITY),
        ),
    ),
    schedule=(
        ScheduleEntry(
            "child_report_inbox",
            DataCategory.ACCOUNT,
            days_from(INBOX_DAYS, "the report's arrival"),
            ScheduleAction.DELETE,
            "a child report waiting to be matched to an account is deleted when matched (seconds after it arrived), "
            "at the latest 7 days after it arrived",
            stores=("child_report_inbox",),
            tasks=("child_report_inbox.unmatched",),
        ),
        ScheduleEntry(
            "child_report_reporter_data",
            DataCategory.ACCOUNT,
            days_from(REPORTER_DATA_DAYS, "the report's closing"),
            ScheduleAction.DELETE,
            "a child report's reporter data (contact, relationship, what they wrote, the report's key) is deleted 90 "
            "days after the report is closed",
            stores=("child_reports",),
            fields=("reporter_key", "reporters_ciphertext", "details_ciphertext"),
            tasks=("child_reports.reporter_data",),
        ),
        ScheduleEntry(
            "child_reports",
            DataCategory.ACCOUNT,
            days_from(REPORT_RECORD_DAYS, "the report's closing"),
            ScheduleAction.DELETE,
            "a closed child report's record is deleted 3 years after it was closed; the reported subject's erasure "
            "replaces their id with the erasure pseudonym until then",
            stores=("child_reports",),
            tasks=("child_reports.closed",),
        ),
    ),
)
