"""The data map (guarantee G1): every stored field and object prefix, declared with why and how long we keep it.

The map is the single source for the public record of processing (``GET /v1/privacy/processors``), the policy
endpoint's ``data_map`` and the tests that fail on any column or object prefix nobody declared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dreamina.domain.privacy.vocabulary import (
    DataCategory,
    LegalBasis,
    Purpose,
    RetentionAction,
    RetentionRule,
)

ACCOUNT_LIFETIME = RetentionRule("kept while the account exists; erased with it (30-day grace after a request)")
RECORD_LIFETIME = RetentionRule("lives exactly as long as the record it belongs to")
SESSION_LIFETIME = RetentionRule("deleted when the session expires or is revoked", RetentionAction.DELETE, 30)
LEGAL_RECORD = RetentionRule(
    "kept for the legal period, then deleted; pseudonymised on erasure", RetentionAction.ANONYMISE, 365 * 3
)
DISCLOSURE_RECORD = RetentionRule(
    "kept while the account exists so the subject can see who received data; pseudonymised on erasure",
    RetentionAction.ANONYMISE,
)


@dataclass(frozen=True, slots=True)
class FieldDeclaration:
    """One stored field: what it is, why we hold it and how long, and which processors may receive it."""

    category: DataCategory
    description: str
    purposes: tuple[Purpose, ...] = (Purpose.SERVICE,)
    legal_basis: LegalBasis = LegalBasis.CONTRACT
    retention: RetentionRule = RECORD_LIFETIME
    processors: tuple[str, ...] = ()
    encrypted: bool = False  # sealed with the subject's data key (crypto-shredded on erasure)
    links_subject: bool = False  # holds the subject's id or an identifier that points at them

    @property
    def personal(self) -> bool:
        return self.category is not DataCategory.NON_PERSONAL

    def as_dict(self) -> dict[str, object]:
        return {
            "category": self.category.value,
            "description": self.description,
            "purposes": [p.value for p in self.purposes],
            "legal_basis": self.legal_basis.value,
            "retention": self.retention.as_dict(),
            "processors": list(self.processors),
            "encrypted_at_rest": self.encrypted,
        }


@dataclass(frozen=True, slots=True)
class StoreDeclaration:
    """A table (or another record store) and its declared fields."""

    name: str
    description: str
    fields: Mapping[str, FieldDeclaration]


@dataclass(frozen=True, slots=True)
class ObjectPrefixDeclaration:
    """A prefix in the object store: every key written must start with a declared prefix."""

    prefix: str
    category: DataCategory
    description: str
    purposes: tuple[Purpose, ...]
    retention: RetentionRule
    processors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProcessorDeclaration:
    """A third party that processes personal data on our behalf (policy section 5)."""

    id: str
    name: str
    role: str
    location: str
    retention: str
    purposes: tuple[Purpose, ...]
    receives_all_stored_data: bool = False  # hosting: it holds every store we declare


@dataclass(frozen=True, slots=True)
class DataMap:
    stores: Mapping[str, StoreDeclaration]
    object_prefixes: tuple[ObjectPrefixDeclaration, ...]
    processors: tuple[ProcessorDeclaration, ...]

    def field(self, store: str, name: str) -> FieldDeclaration | None:
        declared = self.stores.get(store)
        return None if declared is None else declared.fields.get(name)

    def undeclared_columns(self, columns: Iterable[tuple[str, str]]) -> list[str]:
        """The ``store.field`` names among ``columns`` that nobody declared."""
        return sorted(f"{store}.{name}" for store, name in columns if self.field(store, name) is None)

    def prefix_for(self, key: str) -> ObjectPrefixDeclaration | None:
        return next((p for p in self.object_prefixes if key.startswith(p.prefix)), None)

    def categories_for(self, processor: ProcessorDeclaration) -> list[str]:
        found: set[DataCategory] = set()
        for store in self.stores.values():
            for decl in store.fields.values():
                if decl.personal and (processor.receives_all_stored_data or processor.id in decl.processors):
                    found.add(decl.category)
        for prefix in self.object_prefixes:
            if processor.receives_all_stored_data or processor.id in prefix.processors:
                found.add(prefix.category)
        return sorted(c.value for c in found)

    def processor_record(self) -> list[dict[str, object]]:
        """The public record of processors, generated from the declarations (G10)."""
        return [
            {
                "id": p.id,
                "name": p.name,
                "role": p.role,
                "location": p.location,
                "retention": p.retention,
                "purposes": [x.value for x in p.purposes],
                "categories": self.categories_for(p),
            }
            for p in self.processors
        ]

    def as_dict(self) -> dict[str, object]:
        return {
            "stores": {
                s.name: {
                    "description": s.description,
                    "fields": {n: f.as_dict() for n, f in s.fields.items()},
                }
                for s in self.stores.values()
            },
            "object_prefixes": [
                {
                    "prefix": p.prefix,
                    "category": p.category.value,
                    "description": p.description,
                    "purposes": [x.value for x in p.purposes],
                    "retention": p.retention.as_dict(),
                    "processors": list(p.processors),
                }
                for p in self.object_prefixes
            ],
        }


def _np(description: str) -> FieldDeclaration:
    return FieldDeclaration(DataCategory.NON_PERSONAL, description, purposes=(), legal_basis=LegalBasis.NOT_APPLICABLE)


def _store(name: str, description: str, **fields: FieldDeclaration) -> StoreDeclaration:
    return StoreDeclaration(name, description, fields)


_ROW_ID = _np("random row identifier")
_SUBJECT = FieldDeclaration(
    DataCategory.ACCOUNT,
    "id of the account the record belongs to",
    retention=ACCOUNT_LIFETIME,
    links_subject=True,
)

PROCESSORS: tuple[ProcessorDeclaration, ...] = (
    ProcessorDeclaration(
        id="hosting",
        name="Cloud hosting provider",
        role="infrastructure: stores and serves every record and object on our behalf",
        location="EU (Frankfurt)",
        retention="as declared for each stored field; backups kept 35 days",
        purposes=(Purpose.SERVICE,),
        receives_all_stored_data=True,
    ),
    ProcessorDeclaration(
        id="email_delivery",
        name="Transactional email delivery",
        role="delivers account, security and privacy-request messages",
        location="EU",
        retention="delivery logs 30 days",
        purposes=(Purpose.SERVICE, Purpose.SUPPORT, Purpose.LEGAL),
    ),
    ProcessorDeclaration(
        id="stripe",
        name="Stripe Payments Europe, Ltd.",
        role="payment processor: hosted checkout, card handling, refunds",
        location="IE / US (Standard Contractual Clauses)",
        retention="per Stripe's own legal obligations; customer deleted on erasure",
        purposes=(Purpose.PAYMENTS, Purpose.SECURITY, Purpose.LEGAL),
    ),
    ProcessorDeclaration(
        id="openai",
        name="OpenAI, L.L.C. (Images API)",
        role="AI model provider: generates images from prompts and reference images",
        location="US (Standard Contractual Clauses)",
        retention="API inputs and outputs up to 30 days for abuse monitoring",
        purposes=(Purpose.GENERATION,),
    ),
    ProcessorDeclaration(
        id="replicate",
        name="Replicate, Inc.",
        role="AI model provider: runs image models as asynchronous predictions",
        location="US (Standard Contractual Clauses)",
        retention="prediction inputs and outputs deleted after one hour for API predictions",
        purposes=(Purpose.GENERATION,),
    ),
    ProcessorDeclaration(
        id="runway",
        name="Runway AI, Inc.",
        role="AI model provider: generates videos from images and prompts",
        location="US (Standard Contractual Clauses)",
        retention="task outputs expire; tasks deleted on our request",
        purposes=(Purpose.GENERATION,),
    ),
)

MODEL_PROVIDERS = ("openai", "replicate", "runway")

from dreamina.domain.privacy.datamap_generation import (  # noqa: E402
    GENERATION_LIFETIME,
    UPLOAD_LIFETIME,
    generation_stores,
)

STORES: dict[str, StoreDeclaration] = {
    s.name: s
    for s in (
        _store(
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
            status=_np("active, suspended or erased"),
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
        _store(
            "subject_keys",
            "each subject's data key, wrapped by the master key; destroying it crypto-shreds their data",
            subject_id=_SUBJECT,
            wrapped_key=FieldDeclaration(
                DataCategory.NON_PERSONAL,
                "the subject's AES-256 data key, encrypted by the master key; destroyed on erasure",
                purposes=(Purpose.SECURITY,),
                legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
                retention=ACCOUNT_LIFETIME,
            ),
            created_at=_np("when the key was made"),
            destroyed_at=_np("when the key was destroyed (crypto-shredding), kept as proof"),
        ),
        _store(
            "auth_sessions",
            "signed-in sessions; only a hash of each bearer token is stored",
            id=_ROW_ID,
            account_id=_SUBJECT,
            token_hash=FieldDeclaration(
                DataCategory.TECHNICAL,
                "SHA-256 of the bearer token (the token itself is never stored)",
                purposes=(Purpose.SERVICE, Purpose.SECURITY),
                retention=SESSION_LIFETIME,
            ),
            created_at=FieldDeclaration(DataCategory.TECHNICAL, "sign-in time", retention=SESSION_LIFETIME),
            expires_at=FieldDeclaration(DataCategory.TECHNICAL, "expiry time", retention=SESSION_LIFETIME),
        ),
        _store(
            "policy_versions",
            "every published version of the privacy policy",
            id=_np("row id"),
            version=_np("policy version number"),
            content_sha256=_np("SHA-256 of the policy text"),
            text=_np("the policy text"),
            last_updated=_np("the 'Last updated' date shown in the policy"),
            effective_at=_np("when the version takes effect"),
            published_at=_np("when staff published it"),
        ),
        _store(
            "policy_acceptances",
            "who accepted which policy version (by content hash), when and how (G11)",
            id=_ROW_ID,
            subject_id=_SUBJECT,
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
        _store(
            "audit_events",
            "append-only audit trail: rectifications, staff access, privacy-request state changes",
            id=_ROW_ID,
            subject_id=FieldDeclaration(
                DataCategory.ACCOUNT,
                "whose data the event concerns",
                purposes=(Purpose.LEGAL, Purpose.SECURITY),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=LEGAL_RECORD,
                links_subject=True,
            ),
            actor_kind=_np("subject, staff or system"),
            actor_id=FieldDeclaration(
                DataCategory.ACCOUNT,
                "who acted (the subject, a staff member or the system)",
                purposes=(Purpose.LEGAL, Purpose.SECURITY),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=LEGAL_RECORD,
                links_subject=True,
            ),
            action=_np("what happened, e.g. rectification"),
            fields=_np("names of the fields concerned; never their values"),
            reason=FieldDeclaration(
                DataCategory.ACCOUNT,
                "why (required for staff access)",
                purposes=(Purpose.LEGAL,),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=LEGAL_RECORD,
            ),
            occurred_at=_np("when"),
        ),
        _store(
            "disclosures",
            "disclosure ledger: every hand-off of personal data to a processor (G10)",
            id=_ROW_ID,
            subject_id=FieldDeclaration(
                DataCategory.ACCOUNT,
                "whose data was disclosed",
                purposes=(Purpose.LEGAL,),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=DISCLOSURE_RECORD,
                links_subject=True,
            ),
            processor=_np("which processor received it"),
            categories=_np("which data categories"),
            purpose=_np("for which purpose"),
            reference=FieldDeclaration(
                DataCategory.TECHNICAL,
                "the processor's id for what it received (e.g. a Stripe customer id)",
                purposes=(Purpose.LEGAL,),
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention=DISCLOSURE_RECORD,
                links_subject=True,
            ),
            occurred_at=_np("when"),
        ),
        *generation_stores(),
    )
}

OBJECT_PREFIXES: tuple[ObjectPrefixDeclaration, ...] = (
    ObjectPrefixDeclaration(
        "uploads/",
        DataCategory.CONTENT,
        "reference images the subject uploaded (metadata stripped)",
        (Purpose.GENERATION,),
        UPLOAD_LIFETIME,
        processors=MODEL_PROVIDERS,
    ),
    ObjectPrefixDeclaration(
        "outputs/",
        DataCategory.CONTENT,
        "images and videos generated for the subject",
        (Purpose.GENERATION,),
        GENERATION_LIFETIME,
    ),
    ObjectPrefixDeclaration(
        "exports/",
        DataCategory.ACCOUNT,
        "the subject's data-export archives",
        (Purpose.LEGAL,),
        RetentionRule("deleted 7 days after the archive is built", RetentionAction.DELETE, 7),
    ),
)

from dreamina.domain.privacy.datamap_consent import CONSENT_STORES  # noqa: E402  (needs the names above)

STORES.update({s.name: s for s in CONSENT_STORES})
from dreamina.domain.privacy.datamap_data_rights import DATA_RIGHTS_STORES  # noqa: E402 - needs the classes above

STORES.update({s.name: s for s in DATA_RIGHTS_STORES})
from dreamina.domain.privacy.datamap_billing import BILLING_STORES  # noqa: E402  (needs the names above)

STORES.update({s.name: s for s in BILLING_STORES})
from dreamina.domain.privacy.datamap_children import CHILD_REPORT_STORES  # noqa: E402  (needs the names above)

STORES.update({s.name: s for s in CHILD_REPORT_STORES})

from dreamina.domain.privacy.datamap_support import SUPPORT_STORES  # noqa: E402  (needs the names above)

STORES.update({s.name: s for s in SUPPORT_STORES})

DATA_MAP = DataMap(stores=STORES, object_prefixes=OBJECT_PREFIXES, processors=PROCESSORS)
