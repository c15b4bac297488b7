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
from dreamina.domain.privacy.vocabulary import DataCategory, LegalBasis, Purpose

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
                "email address, encrypted with the subject's data key",
                purposes=(Purpose.SERVICE, Purpose.SUPPORT, Purpose.PAYMENTS, Purpose.LEGAL),
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
            status=non_personal("active, suspended or erased"),
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
