"""Data-map declarations of the data-rights module's stores (G1)."""

from __future__ import annotations

from dreamina.domain.privacy.datamap import FieldDeclaration, StoreDeclaration
from dreamina.domain.privacy.schedule import ONE_TIME_CODE_MINUTES, REQUEST_RECORD_DAYS
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionRule

_REQUEST_RECORD = RetentionRule(
    "kept 3 years after the request closed, as proof it was answered; deleted at the end of an erasure",
    days=REQUEST_RECORD_DAYS,
)
_ONE_TIME_CODE = RetentionRule(f"cleared once the code expires ({ONE_TIME_CODE_MINUTES} minutes after it was sent)")
_EXPORT_ARCHIVE = RetentionRule("cleared with the archive, 7 days after it is built", days=7)
_LEGAL = (Purpose.LEGAL,)
ACCOUNT_LIFETIME = RetentionRule("kept while the account exists; erased with it (30-day grace after a request)")


def _np(description: str) -> FieldDeclaration:
    return FieldDeclaration(DataCategory.NON_PERSONAL, description, purposes=(), legal_basis=LegalBasis.NOT_APPLICABLE)


def _req(description: str, *, links: bool = False, encrypted: bool = False) -> FieldDeclaration:
    return FieldDeclaration(
        DataCategory.ACCOUNT,
        description,
        purposes=_LEGAL,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        retention=_REQUEST_RECORD,
        links_subject=links,
        encrypted=encrypted,
    )


DATA_RIGHTS_STORES: tuple[StoreDeclaration, ...] = (
    StoreDeclaration(
        "privacy_requests",
        "the subject's data-rights requests (section 7) with their legal clock",
        {
            "id": _np("random request id"),
            "subject_id": _req("who made the request", links=True),
            "type": _req("access, export, rectification, erasure, objection or restriction"),
            "status": _np("where the request stands"),
            "jurisdiction": _req("the jurisdiction rule whose clock applies"),
            "received_at": _req("when the request was received (the legal clock starts)"),
            "due_at": _req("when the answer is due"),
            "updated_at": _np("last change"),
            "details_ciphertext": _req("what the subject asked for, encrypted with their data key", encrypted=True),
            "paused_since": _req("the clock stopped waiting for proof of identity (where the law allows)"),
            "paused_seconds": _req("how long the clock was stopped in total"),
            "extended_at": _req("when staff extended the deadline"),
            "extension_reason": _req("why the deadline was extended (told to the subject)"),
            "flag": _np("near_due or overdue, set by the hourly deadline monitor"),
            "code_hash": FieldDeclaration(
                DataCategory.TECHNICAL,
                "keyed hash of the one-time identity code (the code itself is never stored)",
                purposes=(Purpose.SECURITY,),
                legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
                retention=_ONE_TIME_CODE,
            ),
            "code_expires_at": _np("when the one-time code expires"),
            "code_attempts": _np("wrong codes entered"),
            "codes_sent": _np("codes sent for this request"),
            "verified_at": _req("when the subject proved their identity"),
            "scheduled_for": _req("erasure: when the 30-day grace period ends"),
            "outcome": _req("what was done (counts, links, processor outcomes; never personal values)"),
        },
    ),
    StoreDeclaration(
        "privacy_request_events",
        "status history of every request: the append-only trail of its state changes",
        {
            "id": _np("random row id"),
            "request_id": _np("which request"),
            "subject_id": _req("whose request", links=True),
            "status": _np("the new status"),
            "actor_kind": _np("subject, staff or system"),
            "actor_id": _req("who acted (subject or staff member)", links=True),
            "note": _req("what happened; staff reasons"),
            "occurred_at": _np("when"),
        },
    ),
    StoreDeclaration(
        "privacy_jobs",
        "persisted progress of export builds and erasure sagas, so a killed worker resumes where it stopped",
        {
            "request_id": _np("the request the job serves"),
            "subject_id": _req("whose data the job exports or erases", links=True),
            "kind": _np("export or erasure"),
            "state": _np("pending or done"),
            "run_after": _np("when the job may run next (grace period, retry back-off)"),
            "updated_at": _np("last progress"),
            "completion_id": _np("random id of the erasure completion record"),
            "steps_done": _np("names of finished steps"),
            "attempts": _np("runs that failed"),
            "archive_key": FieldDeclaration(
                DataCategory.ACCOUNT,
                "object key of the export archive",
                purposes=_LEGAL,
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=_EXPORT_ARCHIVE,
                links_subject=True,
            ),
            "archive_bytes": _np("size of the export archive"),
            "expires_at": _np("when the download link and archive expire"),
            "processor_calls": _req("deletion calls to processors: processor, its reference, outcome", links=True),
        },
    ),
    StoreDeclaration(
        "erasure_completions",
        "proof that an erasure finished; names nobody (random id, counts, processor outcomes)",
        {
            "id": _np("random completion id, told to the subject"),
            "completed_at": _np("when the erasure finished"),
            "outcome": _np("per-holder counts, processor outcomes, key destroyed; no personal data"),
        },
    ),
    StoreDeclaration(
        "processing_restrictions",
        "subjects who restricted processing (G4): data kept, not processed or disclosed",
        {
            "subject_id": FieldDeclaration(
                DataCategory.ACCOUNT,
                "the restricted subject",
                purposes=_LEGAL,
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=ACCOUNT_LIFETIME,
                links_subject=True,
            ),
            "restricted_at": _np("since when"),
            "reason": FieldDeclaration(
                DataCategory.ACCOUNT,
                "why the subject restricted processing",
                purposes=_LEGAL,
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=ACCOUNT_LIFETIME,
            ),
        },
    ),
)
