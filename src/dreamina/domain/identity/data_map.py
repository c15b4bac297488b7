"""What the identity module stores (G1): accounts, signed-in sessions and staff roles, with their retention lines."""

from __future__ import annotations

from dreamina.domain.privacy.datamap import (
    ACCOUNT_LIFETIME,
    ROW_ID,
    SESSION_LIFETIME,
    SUBJECT,
    DataDeclaration,
    FieldDeclaration,
    StoreDeclaration,
    non_personal,
    store,
)
from dreamina.domain.privacy.schedule import (
    ACCOUNT_LIFETIME_PERIOD,
    PeriodKind,
    RetentionPeriod,
    ScheduleAction,
    ScheduleEntry,
)
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose, RetentionAction, RetentionRule

TOKEN_DAYS = 7  # the longest a one-time token lives (an email change's undo link)
ONE_TIME_TOKEN = RetentionRule(
    f"deleted once it expires (at most {TOKEN_DAYS} days after it was issued), used or not",
    RetentionAction.DELETE,
    TOKEN_DAYS,
)

IDENTITY_DATA = DataDeclaration(
    stores=(
        store(
            "accounts",
            "one row per account",
            id=FieldDeclaration(DataCategory.ACCOUNT, "account id", retention=ACCOUNT_LIFETIME, links_subject=True),
            email_index=FieldDeclaration(
                DataCategory.ACCOUNT,
                "keyed hash of the normalised email, to find the account at sign-in without storing the email in clear",
                purposes=(Purpose.SERVICE, Purpose.SECURITY),
                retention=ACCOUNT_LIFETIME,
                links_subject=True,
            ),
            email_ciphertext=FieldDeclaration(
                DataCategory.ACCOUNT,
                "email address, encrypted with the subject's data key (marketing mail only with consent)",
                purposes=(Purpose.SERVICE, Purpose.SUPPORT, Purpose.PAYMENTS, Purpose.LEGAL, Purpose.MARKETING),
                retention=ACCOUNT_LIFETIME,
                processors=("email_delivery", "stripe"),
                encrypted=True,
            ),
            display_name_ciphertext=FieldDeclaration(
                DataCategory.ACCOUNT,
                "display name chosen by the subject, encrypted with their data key",
                retention=ACCOUNT_LIFETIME,
                encrypted=True,
            ),
            birth_date_ciphertext=FieldDeclaration(
                DataCategory.ACCOUNT,
                "date of birth, encrypted; kept to prove the age requirement of the jurisdiction was met",
                purposes=(Purpose.SERVICE, Purpose.LEGAL),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=ACCOUNT_LIFETIME,
                encrypted=True,
            ),
            country=FieldDeclaration(
                DataCategory.ACCOUNT,
                "country of residence (ISO 3166-1): decides the minimum age and the legal clock for requests",
                purposes=(Purpose.SERVICE, Purpose.LEGAL),
                retention=ACCOUNT_LIFETIME,
            ),
            region=FieldDeclaration(
                DataCategory.ACCOUNT,
                "region of residence (ISO 3166-2), where the law differs by region (US-CA, CA-QC)",
                purposes=(Purpose.SERVICE, Purpose.LEGAL),
                retention=ACCOUNT_LIFETIME,
            ),
            password_hash=FieldDeclaration(
                DataCategory.ACCOUNT,
                "Argon2id hash of the password; the password itself is never stored",
                purposes=(Purpose.SERVICE, Purpose.SECURITY),
                retention=ACCOUNT_LIFETIME,
            ),
            status=non_personal("active, age_review (a child report is open), suspended or erased"),
            content_retention_days=FieldDeclaration(
                DataCategory.ACCOUNT,
                "the subject's choice: generations are deleted automatically after this many days (empty: kept)",
                purposes=(Purpose.SERVICE, Purpose.GENERATION),
                retention=ACCOUNT_LIFETIME,
            ),
            created_at=FieldDeclaration(
                DataCategory.ACCOUNT, "when the account was created", retention=ACCOUNT_LIFETIME
            ),
            updated_at=FieldDeclaration(
                DataCategory.ACCOUNT, "when the account last changed", retention=ACCOUNT_LIFETIME
            ),
            email_verified_at=FieldDeclaration(
                DataCategory.ACCOUNT,
                "when the current email address answered a verification mail (empty: not verified)",
                purposes=(Purpose.SERVICE, Purpose.SECURITY),
                retention=ACCOUNT_LIFETIME,
            ),
        ),
        store(
            "auth_sessions",
            "signed-in sessions; only a hash of each bearer token is stored",
            id=ROW_ID,
            account_id=SUBJECT,
            token_hash=FieldDeclaration(
                DataCategory.TECHNICAL,
                "SHA-256 of the bearer token (the token itself is never stored)",
                purposes=(Purpose.SERVICE, Purpose.SECURITY),
                retention=SESSION_LIFETIME,
            ),
            created_at=FieldDeclaration(DataCategory.TECHNICAL, "sign-in time", retention=SESSION_LIFETIME),
            expires_at=FieldDeclaration(DataCategory.TECHNICAL, "expiry time", retention=SESSION_LIFETIME),
            last_used_at=FieldDeclaration(
                DataCategory.TECHNICAL,
                "when the session was last used, to the minute (so the subject can spot a session that is not theirs)",
                purposes=(Purpose.SERVICE, Purpose.SECURITY),
                retention=SESSION_LIFETIME,
            ),
            device_class=FieldDeclaration(
                DataCategory.TECHNICAL,
                "desktop, mobile, tablet, bot or other, derived from the user agent at sign-in (which is not kept)",
                purposes=(Purpose.SERVICE, Purpose.SECURITY),
                retention=SESSION_LIFETIME,
            ),
        ),
        store(
            "account_tokens",
            "one-time tokens: email verification, email change and its undo, password reset, sign-in codes",
            id=ROW_ID,
            account_id=SUBJECT,
            purpose=non_personal("what the token proves"),
            token_hash=FieldDeclaration(
                DataCategory.TECHNICAL,
                "keyed hash of the token (the token itself is only ever in the mail)",
                purposes=(Purpose.SECURITY,),
                retention=ONE_TIME_TOKEN,
            ),
            payload_ciphertext=FieldDeclaration(
                DataCategory.ACCOUNT,
                "an email change's new (or, for its undo, old) address, encrypted with the subject's data key",
                purposes=(Purpose.SERVICE, Purpose.SECURITY),
                retention=ONE_TIME_TOKEN,
                encrypted=True,
            ),
            created_at=FieldDeclaration(DataCategory.TECHNICAL, "when it was issued", retention=ONE_TIME_TOKEN),
            expires_at=FieldDeclaration(DataCategory.TECHNICAL, "when it expires", retention=ONE_TIME_TOKEN),
            used_at=FieldDeclaration(DataCategory.TECHNICAL, "when it was used (once)", retention=ONE_TIME_TOKEN),
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
    ),
    schedule=(
        ScheduleEntry(
            "sessions",
            DataCategory.TECHNICAL,
            RetentionPeriod(PeriodKind.AT_EXPIRY, 30, "sign-in (DREAMINA_TOKEN_TTL_SECONDS, at most 30 days)"),
            ScheduleAction.DELETE,
            "signed-in sessions (a hash of the bearer token) are deleted once they expire",
            stores=("auth_sessions",),
            tasks=("auth_sessions.expired",),
        ),
        ScheduleEntry(
            "account_tokens",
            DataCategory.TECHNICAL,
            RetentionPeriod(PeriodKind.AT_EXPIRY, TOKEN_DAYS, "the token being issued (30 minutes to 7 days)"),
            ScheduleAction.DELETE,
            "one-time tokens (verification, email change and its undo, password reset, sign-in codes) are deleted "
            "once they expire, used or not",
            stores=("account_tokens",),
            tasks=("account_tokens.expired",),
        ),
        ScheduleEntry(
            "account",
            DataCategory.ACCOUNT,
            ACCOUNT_LIFETIME_PERIOD,
            ScheduleAction.NONE,
            "account details, consent history of the account, objections, uploads and the disclosure ledger are kept "
            "while the account exists and erased with it (30-day grace after an erasure request)",
            stores=("accounts",),
        ),
    ),
)
