"""What the data-rights module stores (G1): requests, their history and jobs, erasure proofs, restrictions, the
``exports/`` prefix, and its retention lines."""

from __future__ import annotations

from dreamina.domain.privacy.datamap import (
    ACCOUNT_LIFETIME,
    DataDeclaration,
    FieldDeclaration,
    ObjectPrefixDeclaration,
    StoreDeclaration,
    non_personal,
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

REQUEST_RECORD_DAYS = LEGAL_RECORD_DAYS  # CCPA regulations ask for at least 24 months of request records
ONE_TIME_CODE_MINUTES = 15
EXPORT_ARCHIVE_DAYS = 7

_REQUEST_RECORD = RetentionRule(
    "kept 3 years after the request closed, as proof it was answered; deleted at the end of an erasure",
    days=REQUEST_RECORD_DAYS,
)
_ONE_TIME_CODE = RetentionRule(f"cleared once the code expires ({ONE_TIME_CODE_MINUTES} minutes after it was sent)")
_EXPORT_ARCHIVE = RetentionRule("cleared with the archive, 7 days after it is built", days=EXPORT_ARCHIVE_DAYS)
_LEGAL = (Purpose.LEGAL,)


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


DATA_RIGHTS_DATA = DataDeclaration(
    stores=(
        StoreDeclaration(
            "privacy_requests",
            "the subject's data-rights requests (section 7) with their legal clock",
            {
                "id": non_personal("random request id"),
                "subject_id": _req("who made the request", links=True),
                "type": _req("access, export, rectification, erasure, objection or restriction"),
                "status": non_personal("where the request stands"),
                "jurisdiction": _req("the jurisdiction rule whose clock applies"),
                "received_at": _req("when the request was received (the legal clock starts)"),
                "due_at": _req("when the answer is due"),
                "updated_at": non_personal("last change"),
                "details_ciphertext": _req("what the subject asked for, encrypted with their data key", encrypted=True),
                "paused_since": _req("the clock stopped waiting for proof of identity (where the law allows)"),
                "paused_seconds": _req("how long the clock was stopped in total"),
                "extended_at": _req("when staff extended the deadline"),
                "extension_reason": _req("why the deadline was extended (told to the subject)"),
                "flag": non_personal("near_due or overdue, set by the hourly deadline monitor"),
                "code_hash": FieldDeclaration(
                    DataCategory.TECHNICAL,
                    "keyed hash of the one-time identity code (the code itself is never stored)",
                    purposes=(Purpose.SECURITY,),
                    legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
                    retention=_ONE_TIME_CODE,
                ),
                "code_expires_at": non_personal("when the one-time code expires"),
                "code_attempts": non_personal("wrong codes entered"),
                "codes_sent": non_personal("codes sent for this request"),
                "verified_at": _req("when the subject proved their identity"),
                "scheduled_for": _req("erasure: when the 30-day grace period ends"),
                "outcome": _req("what was done (counts, links, processor outcomes; never personal values)"),
            },
        ),
        StoreDeclaration(
            "privacy_request_events",
            "status history of every request: the append-only trail of its state changes",
            {
                "id": non_personal("random row id"),
                "request_id": non_personal("which request"),
                "subject_id": _req("whose request", links=True),
                "status": non_personal("the new status"),
                "actor_kind": non_personal("subject, staff or system"),
                "actor_id": _req("who acted (subject or staff member)", links=True),
                "note": _req("what happened; staff reasons"),
                "occurred_at": non_personal("when"),
            },
        ),
        StoreDeclaration(
            "privacy_jobs",
            "persisted progress of export builds and erasure sagas, so a killed worker resumes where it stopped",
            {
                "request_id": non_personal("the request the job serves"),
                "subject_id": _req("whose data the job exports or erases", links=True),
                "kind": non_personal("export or erasure"),
                "state": non_personal("pending or done"),
                "run_after": non_personal("when the job may run next (grace period, retry back-off)"),
                "updated_at": non_personal("last progress"),
                "completion_id": non_personal("random id of the erasure completion record"),
                "steps_done": non_personal("names of finished steps"),
                "attempts": non_personal("runs that failed"),
                "lease_owner": non_personal("random id of the worker running the job now"),
                "lease_until": non_personal("when that worker's lease on the job runs out"),
                "archive_key": FieldDeclaration(
                    DataCategory.ACCOUNT,
                    "object key of the export archive",
                    purposes=_LEGAL,
                    legal_basis=LegalBasis.LEGAL_OBLIGATION,
                    retention=_EXPORT_ARCHIVE,
                    links_subject=True,
                ),
                "archive_bytes": non_personal("size of the export archive"),
                "expires_at": non_personal("when the download link and archive expire"),
                "processor_calls": _req("deletion calls to processors: processor, its reference, outcome", links=True),
            },
        ),
        StoreDeclaration(
            "erasure_completions",
            "proof that an erasure finished; names nobody (random id, counts, processor outcomes)",
            {
                "id": non_personal("random completion id, told to the subject"),
                "completed_at": non_personal("when the erasure finished"),
                "outcome": non_personal("per-holder counts, processor outcomes, key destroyed; no personal data"),
            },
        ),
        StoreDeclaration(
            "processor_notifications",
            "what each processor that received an erased subject's data was asked, how and with what outcome; "
            "names nobody (the processors' references stay in the erasure job and go with it)",
            {
                "id": non_personal("random notification id"),
                "request_id": non_personal("the erasure request (its records are deleted when the erasure ends)"),
                "completion_id": non_personal("the erasure's proof, told to the subject"),
                "processor": non_personal("the processor told"),
                "method": non_personal("api, webhook, email or none"),
                "status": non_personal("open, done or given_up"),
                "idempotency_key": non_personal("the key every attempt carries (derived from the completion id)"),
                "created_at": non_personal("when it was planned"),
                "next_attempt_at": non_personal("when it is next tried"),
                "attempts": non_personal("how many attempts were made"),
                "last_attempt_at": non_personal("when it was last tried"),
                "finished_at": non_personal("when it was done or given up"),
                "outcome": non_personal("deleted, not_found, acknowledged, queued, no_route or gave_up"),
                "last_error": non_personal("the last failure: an error class or HTTP status"),
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
                "restricted_at": non_personal("since when"),
                "reason": FieldDeclaration(
                    DataCategory.ACCOUNT,
                    "why the subject restricted processing",
                    purposes=_LEGAL,
                    legal_basis=LegalBasis.LEGAL_OBLIGATION,
                    retention=ACCOUNT_LIFETIME,
                ),
            },
        ),
    ),
    object_prefixes=(
        ObjectPrefixDeclaration(
            "exports/",
            DataCategory.ACCOUNT,
            "the subject's data-export archives",
            (Purpose.LEGAL,),
            RetentionRule("deleted 7 days after the archive is built", RetentionAction.DELETE, EXPORT_ARCHIVE_DAYS),
        ),
    ),
    schedule=(
        ScheduleEntry(
            "one_time_codes",
            DataCategory.TECHNICAL,
            RetentionPeriod(PeriodKind.AT_EXPIRY, None, f"the code being sent ({ONE_TIME_CODE_MINUTES} minutes)"),
            ScheduleAction.DELETE,
            "one-time identity codes (a keyed hash) are cleared from their privacy request once they expire",
            stores=("privacy_requests",),
            fields=("code_hash", "code_expires_at"),
            tasks=("privacy_requests.expired_codes",),
        ),
        ScheduleEntry(
            "export_archives",
            DataCategory.ACCOUNT,
            days_from(EXPORT_ARCHIVE_DAYS, "the archive being built"),
            ScheduleAction.DELETE,
            "data-export archives are deleted, object and link, 7 days after they are built",
            stores=("privacy_jobs",),
            fields=("archive_key",),
            prefix="exports/",
            tasks=("privacy_jobs.expired_archives",),
        ),
        ScheduleEntry(
            "privacy_request_records",
            DataCategory.ACCOUNT,
            days_from(REQUEST_RECORD_DAYS, "the request being closed (completed, rejected or cancelled)"),
            ScheduleAction.DELETE,
            "records of answered privacy requests and their history are deleted 3 years after the request closed "
            "(at the end of an erasure at once)",
            stores=("privacy_requests", "privacy_request_events", "privacy_jobs"),
            tasks=("privacy_requests.legal_period_over",),
        ),
    ),
)
