"""Data-map declaration of abuse reports (policy section 3: "to prevent fraud, abuse, and security incidents").

A report is about a generation and its owner but holds another person's data: the reporter's contact address and
what they wrote, sealed with the report's own key and dropped 90 days after the report is closed; the record itself
(which generation, which category, what staff decided) is kept 3 years after closing as proof it was handled. A
signed-in reporter's id is on the report: their export holds the report with what they sent, their erasure unlinks
it and drops what they sent. The owner's export lists the reports about their generations without the reporter's
data; the owner's erasure replaces their id with the erasure pseudonym.
"""

from __future__ import annotations

from dreamina.domain.privacy.datamap import DataDeclaration, FieldDeclaration, StoreDeclaration, non_personal
from dreamina.domain.privacy.schedule import LEGAL_RECORD_DAYS, ScheduleAction, ScheduleEntry, days_from
from dreamina.domain.privacy.sealed_inbox import inbox_store, reporter_data_retention
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionAction, RetentionRule

INBOX_DAYS = 7  # a received report is matched within seconds; one a fault kept waiting is given up after a week
REPORTER_DATA_DAYS = 90  # staff decided and the reporter was told; nothing left to answer
REPORT_RECORD_DAYS = LEGAL_RECORD_DAYS  # proof the report was handled

REPORTER_DATA = reporter_data_retention(REPORTER_DATA_DAYS)
REPORT_RECORD = RetentionRule(
    f"kept {REPORT_RECORD_DAYS // 365} years after the report is closed as proof it was handled, then deleted; "
    "the owner's erasure replaces their id with the erasure pseudonym, the reporter's erasure unlinks them",
    RetentionAction.ANONYMISE,
    REPORT_RECORD_DAYS,
)
_PURPOSES = (Purpose.SECURITY, Purpose.LEGAL)


def _record(description: str, *, links: bool = False) -> FieldDeclaration:
    return FieldDeclaration(
        DataCategory.CONTENT,
        description,
        purposes=_PURPOSES,
        legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
        retention=REPORT_RECORD,
        links_subject=links,
    )


def _key(description: str, retention: RetentionRule) -> FieldDeclaration:
    return FieldDeclaration(
        DataCategory.NON_PERSONAL,
        description,
        purposes=(Purpose.SECURITY,),
        legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
        retention=retention,
    )


ABUSE_REPORT_DATA = DataDeclaration(
    stores=(
        StoreDeclaration(
            "abuse_reports",
            "reports that a generation breaks our rules (section 3: preventing abuse), in the staff queue until "
            "staff take the generation down or dismiss the report",
            {
                "id": non_personal("random report id"),
                "generation_id": _record("the generation reported (gone once taken down)"),
                "owner_id": _record("the generation's owner (their erasure pseudonym once erased)", links=True),
                "reporter_id": _record("the signed-in reporter, if they were signed in", links=True),
                "reason": non_personal("the category the reporter chose"),
                "via_link": non_personal("reported through a download link rather than by generation id"),
                "status": non_personal("open, taken_down or dismissed"),
                "received_at": _record("when the report arrived"),
                "updated_at": non_personal("last change"),
                "reporter_key": _key(
                    "the report's own AES-256 data key, wrapped by the master key; dropped with the reporter's data",
                    REPORTER_DATA,
                ),
                "reporter_ciphertext": FieldDeclaration(
                    DataCategory.ACCOUNT,
                    "the reporter's contact address (optional) and what they wrote (optional), encrypted with the "
                    "report's key",
                    purposes=(Purpose.SECURITY, Purpose.SUPPORT),
                    legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
                    retention=REPORTER_DATA,
                    processors=("email_delivery",),
                    encrypted=True,
                ),
                "closed_at": non_personal("when staff took the generation down or dismissed the report"),
                "reporter_data_deleted_at": non_personal("when the reporter's data was deleted"),
            },
        ),
        inbox_store(
            "abuse_report_inbox",
            "abuse reports received and not yet matched to a generation: sealed whole (target, reason, contact, "
            "details, the signed-in reporter) with a key of their own, so receiving a report costs the same whether "
            "or not the generation exists; matching deletes each within seconds, filing it or dropping it",
            "the report as sent (the generation id or download link, the reason, the reporter's contact and details, "
            "the signed-in reporter's id), encrypted with the key beside it",
            days=INBOX_DAYS,
            purposes=_PURPOSES,
        ),
    ),
    schedule=(
        ScheduleEntry(
            "abuse_report_inbox",
            DataCategory.ACCOUNT,
            days_from(INBOX_DAYS, "the report's arrival"),
            ScheduleAction.DELETE,
            "an abuse report waiting to be matched to a generation is deleted when matched (seconds after it "
            "arrived), at the latest 7 days after it arrived",
            stores=("abuse_report_inbox",),
            tasks=("abuse_report_inbox.unmatched",),
        ),
        ScheduleEntry(
            "abuse_report_reporter_data",
            DataCategory.ACCOUNT,
            days_from(REPORTER_DATA_DAYS, "the report's closing"),
            ScheduleAction.DELETE,
            "an abuse report's reporter data (contact, what they wrote, the report's key) is deleted 90 days after "
            "the report is closed",
            stores=("abuse_reports",),
            fields=("reporter_key", "reporter_ciphertext"),
            tasks=("abuse_reports.reporter_data",),
        ),
        ScheduleEntry(
            "abuse_reports",
            DataCategory.CONTENT,
            days_from(REPORT_RECORD_DAYS, "the report's closing"),
            ScheduleAction.DELETE,
            "a closed abuse report's record is deleted 3 years after it was closed; the owner's erasure replaces "
            "their id with the erasure pseudonym until then",
            stores=("abuse_reports",),
            tasks=("abuse_reports.closed",),
        ),
    ),
)
