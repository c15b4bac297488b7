"""Data-map declarations of the consent module's stores and of staff roles (guarantee G1).

In-house analytics is no processor: the events stay in our own database (hosting holds them like every store).
"""

from __future__ import annotations

from dreamina.domain.privacy.datamap import FieldDeclaration, StoreDeclaration, _np
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionAction, RetentionRule

ACCOUNT_LIFETIME = RetentionRule("kept while the account exists; erased with it (30-day grace after a request)")
CONSENT_RECORD = RetentionRule(
    "kept while the account (or, for a device, its cookie) is in use, as proof of consent; erased with the account",
)
DEVICE_CONSENT = RetentionRule(
    "device records are deleted 13 months after their last change (the cookie's lifetime)",
    RetentionAction.DELETE,
    396,
)
ANALYTICS_EVENT = RetentionRule(
    "deleted 180 days after the day of the event (`dreamina sweep`)", RetentionAction.DELETE, 180
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


CONSENT_STORES: tuple[StoreDeclaration, ...] = (
    StoreDeclaration(
        "consent_records",
        "append-only history of cookie/analytics/marketing choices per subject or anonymous device (G3, G11)",
        {
            "seq": _np("append order of the history"),
            "id": _np("random record identifier"),
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
            "purpose": _np("the purpose objected to"),
            "objected": _proof("whether the subject objects", ACCOUNT_LIFETIME),
            "updated_at": _proof("when the subject last changed it", ACCOUNT_LIFETIME),
        },
    ),
    StoreDeclaration(
        "policy_notices",
        "notices of new policy versions sent to each account (section 10)",
        {
            "id": _np("random row identifier"),
            "subject_id": FieldDeclaration(
                DataCategory.ACCOUNT,
                "who was notified",
                purposes=(Purpose.LEGAL,),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=ACCOUNT_LIFETIME,
                links_subject=True,
            ),
            "policy_version": _np("which version"),
            "effective_at": _np("when that version takes effect"),
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
            "id": _np("random row identifier"),
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
    StoreDeclaration(
        "staff_members",
        "accounts with a staff role (support, privacy_officer, admin); granted only from the command line",
        {
            "account_id": FieldDeclaration(
                DataCategory.ACCOUNT,
                "the staff member's account",
                purposes=(Purpose.SECURITY,),
                legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
                retention=ACCOUNT_LIFETIME,
                links_subject=True,
            ),
            "role": FieldDeclaration(
                DataCategory.ACCOUNT,
                "the staff role",
                purposes=(Purpose.SECURITY,),
                legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
                retention=ACCOUNT_LIFETIME,
            ),
            "granted_at": FieldDeclaration(
                DataCategory.ACCOUNT,
                "when the role was granted",
                purposes=(Purpose.SECURITY,),
                legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
                retention=ACCOUNT_LIFETIME,
            ),
        },
    ),
)
