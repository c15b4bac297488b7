"""What the consent module stores (G1): policy versions and acceptances, consent records, objections, notices,
marketing campaigns and analytics events, with their retention lines.

In-house analytics is no processor: the events stay in our own database (hosting holds them like every store).
"""

from __future__ import annotations

from dreamina.domain.privacy.datamap import (
    ACCOUNT_LIFETIME,
    ROW_ID,
    SUBJECT,
    DataDeclaration,
    FieldDeclaration,
    StoreDeclaration,
    non_personal,
    store,
)
from dreamina.domain.privacy.schedule import ScheduleAction, ScheduleEntry, days_from
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionAction, RetentionRule

DEVICE_CONSENT_DAYS = 396  # 13 months: the device cookie's lifetime (CNIL: consent asked again after 13 months)
ANALYTICS_EVENT_DAYS = 180

CONSENT_RECORD = RetentionRule(
    "kept while the account (or, for a device, its cookie) is in use, as proof of consent; erased with the account",
)
DEVICE_CONSENT = RetentionRule(
    "device records are deleted 13 months after their last change (the cookie's lifetime)",
    RetentionAction.DELETE,
    DEVICE_CONSENT_DAYS,
)
MARKETING_CURSOR = RetentionRule("held only while the campaign is sending; cleared when it is done")
ANALYTICS_EVENT = RetentionRule(
    "deleted 180 days after the day of the event (`dreamina sweep`)", RetentionAction.DELETE, ANALYTICS_EVENT_DAYS
)


def _proof(description: str, retention: RetentionRule = CONSENT_RECORD) -> FieldDeclaration:
    return FieldDeclaration(
        DataCategory.USAGE,
        description,
        purposes=(Purpose.LEGAL,),
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        retention=retention,
    )


def _analytics(description: str, category: DataCategory = DataCategory.USAGE) -> FieldDeclaration:
    return FieldDeclaration(
        category,
        description,
        purposes=(Purpose.ANALYTICS,),
        legal_basis=LegalBasis.CONSENT,
        retention=ANALYTICS_EVENT,
    )


CONSENT_DATA = DataDeclaration(
    stores=(
        store(
            "policy_versions",
            "every published version of the privacy policy",
            id=non_personal("row id"),
            version=non_personal("policy version number"),
            content_sha256=non_personal("SHA-256 of the policy text"),
            text=non_personal("the policy text"),
            last_updated=non_personal("the 'Last updated' date shown in the policy"),
            effective_at=non_personal("when the version takes effect"),
            published_at=non_personal("when staff published it"),
        ),
        store(
            "policy_notice_runs",
            "the notices of each published version: due, sending or done, and how many went out (no one named)",
            policy_version=non_personal("which version's notices"),
            status=non_personal("pending, sending or done"),
            notices_sent=non_personal("how many notices have been queued so far"),
            requested_at=non_personal("when the version was published and its notices became due"),
            started_at=non_personal("when the first batch went out"),
            finished_at=non_personal("when every account had been notified"),
        ),
        store(
            "marketing_campaigns",
            "marketing messages staff wrote, and how far each has been sent (counts only: no recipient is named)",
            id=non_personal("random campaign id"),
            subject_line=non_personal("the message's subject line, as staff wrote it"),
            body=non_personal("the message's text, as staff wrote it"),
            status=non_personal("pending, sending or done"),
            created_at=non_personal("when staff created it: its audience is the accounts that existed then"),
            sent=non_personal("how many messages have been queued so far"),
            skipped=non_personal("how many accounts were passed over (no consent, objection, restriction, ...)"),
            cursor=FieldDeclaration(
                DataCategory.ACCOUNT,
                "while sending: the id of the last account a batch considered (the place a resumed run goes on from); "
                "cleared when the campaign is done, and moved off an account that is erased",
                purposes=(Purpose.MARKETING,),
                legal_basis=LegalBasis.CONSENT,
                retention=MARKETING_CURSOR,
                links_subject=True,
            ),
            started_at=non_personal("when the first batch went out"),
            finished_at=non_personal("when every account of the audience had been considered"),
        ),
        store(
            "policy_acceptances",
            "who accepted which policy version (by content hash), when and how (G11)",
            id=ROW_ID,
            subject_id=SUBJECT,
            policy_version=FieldDeclaration(
                DataCategory.ACCOUNT,
                "the version accepted",
                purposes=(Purpose.LEGAL,),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=ACCOUNT_LIFETIME,
            ),
            content_sha256=FieldDeclaration(
                DataCategory.ACCOUNT,
                "hash of the exact text accepted",
                purposes=(Purpose.LEGAL,),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=ACCOUNT_LIFETIME,
            ),
            method=FieldDeclaration(
                DataCategory.ACCOUNT,
                "sign_up, explicit or continued_use",
                purposes=(Purpose.LEGAL,),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=ACCOUNT_LIFETIME,
            ),
            accepted_at=FieldDeclaration(
                DataCategory.ACCOUNT,
                "when",
                purposes=(Purpose.LEGAL,),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=ACCOUNT_LIFETIME,
            ),
        ),
        StoreDeclaration(
            "consent_records",
            "append-only history of cookie/analytics/marketing choices per subject or anonymous device (G3, G11)",
            {
                "seq": non_personal("append order of the history"),
                "id": non_personal("random record identifier"),
                "subject_id": FieldDeclaration(
                    DataCategory.ACCOUNT,
                    "the account the choice belongs to (empty for an anonymous device)",
                    purposes=(Purpose.LEGAL,),
                    legal_basis=LegalBasis.LEGAL_OBLIGATION,
                    retention=ACCOUNT_LIFETIME,
                    links_subject=True,
                ),
                "device_key": FieldDeclaration(
                    DataCategory.TECHNICAL,
                    "keyed hash of the random first-party device cookie (the cookie value itself is not stored)",
                    purposes=(Purpose.LEGAL,),
                    legal_basis=LegalBasis.LEGAL_OBLIGATION,
                    retention=DEVICE_CONSENT,
                    links_subject=True,
                ),
                "functional": _proof("choice: functional cookies"),
                "analytics": _proof("choice: privacy-friendly analytics"),
                "marketing": _proof("choice: marketing"),
                "sale_share_opt_out": _proof("opted out of sale/sharing (always, by GPC or by choice)"),
                "gpc": _proof("a Global Privacy Control signal was received"),
                "method": _proof("banner, settings, api, gpc or continued_use"),
                "policy_version": _proof("the policy version the choice was made under"),
                "content_sha256": _proof("hash of that policy text"),
                "recorded_at": _proof("when"),
            },
        ),
        StoreDeclaration(
            "objections",
            "the subject's objections to analytics, product improvement and marketing (Art. 21 GDPR)",
            {
                "subject_id": FieldDeclaration(
                    DataCategory.ACCOUNT,
                    "whose objection",
                    purposes=(Purpose.LEGAL,),
                    legal_basis=LegalBasis.LEGAL_OBLIGATION,
                    retention=ACCOUNT_LIFETIME,
                    links_subject=True,
                ),
                "purpose": non_personal("the purpose objected to"),
                "objected": _proof("whether the subject objects", ACCOUNT_LIFETIME),
                "updated_at": _proof("when the subject last changed it", ACCOUNT_LIFETIME),
            },
        ),
        StoreDeclaration(
            "improvement_choices",
            "append-only history of each subject's 'use my content to improve the service' choice (off by default; "
            "an objection to product_improvement forces it off), each under the policy version it was made (G11)",
            {
                "seq": non_personal("append order of the history"),
                "id": non_personal("random record identifier"),
                "subject_id": FieldDeclaration(
                    DataCategory.ACCOUNT,
                    "whose choice",
                    purposes=(Purpose.LEGAL,),
                    legal_basis=LegalBasis.LEGAL_OBLIGATION,
                    retention=ACCOUNT_LIFETIME,
                    links_subject=True,
                ),
                "allowed": _proof("choice: may the subject's content be used to improve the service", ACCOUNT_LIFETIME),
                "method": _proof("settings, api, or objection (forced off by an objection)", ACCOUNT_LIFETIME),
                "policy_version": _proof("the policy version the choice was made under", ACCOUNT_LIFETIME),
                "content_sha256": _proof("hash of that policy text", ACCOUNT_LIFETIME),
                "recorded_at": _proof("when", ACCOUNT_LIFETIME),
            },
        ),
        StoreDeclaration(
            "policy_notices",
            "notices of new policy versions sent to each account (section 10)",
            {
                "id": non_personal("random row identifier"),
                "subject_id": FieldDeclaration(
                    DataCategory.ACCOUNT,
                    "who was notified",
                    purposes=(Purpose.LEGAL,),
                    legal_basis=LegalBasis.LEGAL_OBLIGATION,
                    retention=ACCOUNT_LIFETIME,
                    links_subject=True,
                ),
                "policy_version": non_personal("which version"),
                "effective_at": non_personal("when that version takes effect"),
                "notified_at": _proof("when the notice was sent", ACCOUNT_LIFETIME),
                "resolved_at": _proof(
                    "when the subject accepted the version (explicitly or by continued use)", ACCOUNT_LIFETIME
                ),
            },
        ),
        StoreDeclaration(
            "analytics_events",
            "privacy-friendly analytics: no IP, no user agent, no account id; a pseudonym that changes daily",
            {
                "id": non_personal("random row identifier"),
                "day": _analytics("day of the event (no time of day)"),
                "name": _analytics("page_view or feature_used"),
                "feature": _analytics("allow-listed feature name"),
                "page": _analytics("allow-listed page path (no query string)"),
                "country": _analytics("country derived from the address truncated to /24 (IPv4) or /48 (IPv6)"),
                "browser_family": _analytics("browser family derived from the user agent", DataCategory.TECHNICAL),
                "device_class": _analytics("desktop, mobile, tablet, bot or other", DataCategory.TECHNICAL),
                "pseudonym": _analytics(
                    "keyed hash of the account or device and the day: links events of one day, never across days"
                ),
            },
        ),
    ),
    schedule=(
        ScheduleEntry(
            "analytics_events",
            DataCategory.USAGE,
            days_from(ANALYTICS_EVENT_DAYS, "the day of the event"),
            ScheduleAction.DELETE,
            "privacy-friendly analytics events are deleted 180 days after the day they describe",
            stores=("analytics_events",),
            tasks=("analytics_events.expired",),
        ),
        ScheduleEntry(
            "device_consent_records",
            DataCategory.TECHNICAL,
            days_from(DEVICE_CONSENT_DAYS, "when the choice was recorded"),
            ScheduleAction.DELETE,
            "consent choices of anonymous devices are deleted 13 months after they were made (the cookie's lifetime)",
            stores=("consent_records",),
            fields=("device_key",),
            tasks=("consent_records.device_expired",),
        ),
    ),
)
