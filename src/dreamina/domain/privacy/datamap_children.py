"""Data-map declaration of the children's flow (policy section 9, G8): reports that an account belongs to a child.

A report is about the reported subject but holds another person's data (the reporter's contact and what they
wrote). The subject's export lists the reports about them without the reporter's data; the subject's erasure
replaces the account id with the erasure pseudonym and drops the free-text details (they may name the child). The
record itself is kept, pseudonymised, as proof the report was handled; the reporter's data goes 90 days after the
report is closed, the record 3 years after.
"""

from __future__ import annotations

from dreamina.domain.privacy.datamap import FieldDeclaration, StoreDeclaration
from dreamina.domain.privacy.schedule import CHILD_REPORT_RECORD_DAYS, CHILD_REPORTER_DATA_DAYS
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionAction, RetentionRule

REPORTER_DATA_DAYS = CHILD_REPORTER_DATA_DAYS
REPORT_RECORD_DAYS = CHILD_REPORT_RECORD_DAYS

REPORTER_DATA = RetentionRule(
    f"deleted {REPORTER_DATA_DAYS} days after the report is closed (the reporter has been told the outcome)",
    RetentionAction.DELETE,
    REPORTER_DATA_DAYS,
)
REPORT_RECORD = RetentionRule(
    f"kept {REPORT_RECORD_DAYS // 365} years after the report is closed as proof it was handled, then deleted; "
    "the reported subject's erasure replaces their id with the erasure pseudonym",
    RetentionAction.ANONYMISE,
    REPORT_RECORD_DAYS,
)
_PURPOSES = (Purpose.LEGAL, Purpose.SECURITY)


def _np(description: str) -> FieldDeclaration:
    return FieldDeclaration(DataCategory.NON_PERSONAL, description, purposes=(), legal_basis=LegalBasis.NOT_APPLICABLE)


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


CHILD_REPORT_STORES: tuple[StoreDeclaration, ...] = (
    StoreDeclaration(
        "child_reports",
        "reports that an account belongs to a child (section 9): the account is suspended at once, staff review",
        {
            "id": _np("random report id"),
            "subject_id": _about_subject("the account reported (its erasure pseudonym once erased)", links=True),
            "source": _np("report (someone told us) or birth_date_correction (the subject's own correction)"),
            "status": _np("open, confirmed, dismissed or account_erased"),
            "received_at": _about_subject("when the first report arrived"),
            "updated_at": _np("last change"),
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
            "closed_at": _np("when staff confirmed or dismissed the report"),
            "erasure_request_id": _np("the erasure request a confirmation started (names nothing once it is done)"),
            "reporter_data_deleted_at": _np("when the reporter's data was deleted"),
        },
    ),
)
