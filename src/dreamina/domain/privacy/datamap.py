"""The data map (guarantee G1): every stored field and object prefix, declared with why and how long we keep it.

The map is the single source for the public record of processing (``GET /v1/privacy/processors``), the policy
endpoint's ``data_map`` and the tests that fail on any column or object prefix nobody declared.

This module holds the declaration types. Each module declares what it stores in its own ``data_map.py`` (one
:class:`DataDeclaration`: stores, object prefixes, retention-schedule entries); the composition root joins them
with :meth:`DataMap.compose`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace

from dreamina.domain.privacy.schedule import (
    LEGAL_RECORD_DAYS,
    PeriodKind,
    ScheduleAction,
    ScheduleEntry,
    enforcing_tasks,
)
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
    "kept for the legal period, then deleted; pseudonymised on erasure", RetentionAction.ANONYMISE, LEGAL_RECORD_DAYS
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
    """A table (or another record store, ``table=False``: e.g. a folder of files) and its declared fields."""

    name: str
    description: str
    fields: Mapping[str, FieldDeclaration]
    table: bool = True


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
    receives_stored_objects: bool = False  # an object store: it holds every object prefix we declare
    # model providers: whether the vendor may train on what it receives, and which of its options we use
    training_use: str | None = None


@dataclass(frozen=True, slots=True)
class DataDeclaration:
    """What one module stores: its tables, its object prefixes and its lines of the retention schedule."""

    stores: tuple[StoreDeclaration, ...] = ()
    object_prefixes: tuple[ObjectPrefixDeclaration, ...] = ()
    schedule: tuple[ScheduleEntry, ...] = ()

    def field(self, store: str, name: str) -> FieldDeclaration:
        """A field this module declares (a wiring mistake, not input, if it is missing)."""
        return next(s for s in self.stores if s.name == store).fields[name]


@dataclass(frozen=True, slots=True)
class DataMap:
    stores: Mapping[str, StoreDeclaration]
    object_prefixes: tuple[ObjectPrefixDeclaration, ...]
    processors: tuple[ProcessorDeclaration, ...]
    schedule: tuple[ScheduleEntry, ...] = field(default=())

    @classmethod
    def compose(cls, processors: Iterable[ProcessorDeclaration], declarations: Iterable[DataDeclaration]) -> DataMap:
        """One map from every module's declaration; a store, prefix or schedule key declared twice is refused."""
        parts = list(declarations)
        stores = [s for part in parts for s in part.stores]
        prefixes = tuple(p for part in parts for p in part.object_prefixes)
        schedule = tuple(e for part in parts for e in part.schedule)
        for kind, names in (
            ("store", [s.name for s in stores]),
            ("object prefix", [p.prefix for p in prefixes]),
            ("schedule entry", [e.key for e in schedule]),
        ):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{kind} declared twice: {', '.join(twice)}")
        return cls({s.name: s for s in stores}, prefixes, tuple(processors), schedule)

    def field(self, store: str, name: str) -> FieldDeclaration | None:
        declared = self.stores.get(store)
        return None if declared is None else declared.fields.get(name)

    def undeclared_columns(self, columns: Iterable[tuple[str, str]]) -> list[str]:
        """The ``store.field`` names among ``columns`` that nobody declared."""
        return sorted(f"{store}.{name}" for store, name in columns if self.field(store, name) is None)

    def categories_for(self, processor: ProcessorDeclaration) -> list[str]:
        found: set[DataCategory] = set()
        for store in self.stores.values():
            for decl in store.fields.values():
                if decl.personal and (processor.receives_all_stored_data or processor.id in decl.processors):
                    found.add(decl.category)
        for prefix in self.object_prefixes:
            if (
                processor.receives_all_stored_data
                or processor.receives_stored_objects
                or processor.id in prefix.processors
            ):
                found.add(prefix.category)
        return sorted(c.value for c in found)

    def configured(self, in_use: Collection[str]) -> DataMap:
        """The map of one configuration: only the processors it hands data to (``in_use``), named as recipients
        only where they are, so the public record and every field's ``processors`` say the same (section 5)."""
        unknown = sorted(set(in_use) - {p.id for p in self.processors})
        if unknown:
            raise ValueError(f"undeclared processor: {', '.join(unknown)}")

        dropped = {p.id for p in self.processors} - set(in_use)

        def kept(processors: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(p for p in processors if p not in dropped)

        def store_kept(s: StoreDeclaration) -> StoreDeclaration:
            # Only the fields that name a dropped processor are copied (every container builds this map once).
            changed = {
                n: replace(f, processors=kept(f.processors)) for n, f in s.fields.items() if dropped & set(f.processors)
            }
            return replace(s, fields={**s.fields, **changed}) if changed else s

        stores = {name: store_kept(s) for name, s in self.stores.items()}
        prefixes = tuple(
            replace(p, processors=kept(p.processors)) if dropped & set(p.processors) else p
            for p in self.object_prefixes
        )
        return DataMap(stores, prefixes, tuple(p for p in self.processors if p.id in in_use), self.schedule)

    def analytics_record(self) -> dict[str, object]:
        """Where analytics data is kept and for how long, from the declarations: the stores holding fields kept for
        analytics, their retention, and which listed processor other than our hosting receives them (none)."""
        fields = [
            (s.name, f)
            for s in self.stores.values()
            for f in s.fields.values()
            if f.personal and Purpose.ANALYTICS in f.purposes
        ]
        return {
            "stores": sorted({name for name, _ in fields}),
            "retention": sorted({f.retention.description for _, f in fields}),
            "processors": sorted({p for _, f in fields for p in f.processors}),
        }

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
                "training_use": p.training_use,
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


def non_personal(description: str) -> FieldDeclaration:
    """A field that says nothing about anybody (ids of rows, states, counts)."""
    return FieldDeclaration(DataCategory.NON_PERSONAL, description, purposes=(), legal_basis=LegalBasis.NOT_APPLICABLE)


def store(name: str, description: str, **fields: FieldDeclaration) -> StoreDeclaration:
    return StoreDeclaration(name, description, fields)


ROW_ID = non_personal("random row identifier")
SUBJECT = FieldDeclaration(
    DataCategory.ACCOUNT,
    "id of the account the record belongs to",
    retention=ACCOUNT_LIFETIME,
    links_subject=True,
)


def schedule_gaps(data_map: DataMap, schedule: Iterable[ScheduleEntry], registered: Iterable[str]) -> list[str]:
    """Everything that breaks the tie between the data map, the schedule and the registered retention tasks.

    Every field or object prefix whose retention rule names a period is covered by an entry with that period and
    a task; every registered task is in the schedule and every task the schedule names is registered; every entry
    names stores, fields and prefixes the data map declares.
    """
    entries = list(schedule)
    registered = set(registered)
    gaps: list[str] = []
    for store in data_map.stores.values():
        for name, declared in store.fields.items():
            days = declared.retention.days
            if days is None:
                continue
            if not any(
                store.name in e.stores and (not e.fields or name in e.fields) and e.period.days == days and e.tasks
                for e in entries
            ):
                gaps.append(f"{store.name}.{name}: its {days}-day rule is enforced by no schedule entry with a task")
    for prefix in data_map.object_prefixes:
        days = prefix.retention.days
        if days is not None and not any(
            e.prefix == prefix.prefix and e.period.days == days and e.tasks for e in entries
        ):
            gaps.append(f"prefix {prefix.prefix}: its {days}-day rule is enforced by no schedule entry with a task")
    for e in entries:
        for store_name in e.stores:
            declared_store = data_map.stores.get(store_name)
            if declared_store is None:
                gaps.append(f"entry {e.key}: store {store_name} is not in the data map")
                continue
            gaps.extend(
                f"entry {e.key}: field {store_name}.{f} is not in the data map"
                for f in e.fields
                if f not in declared_store.fields
            )
        if e.prefix is not None and all(p.prefix != e.prefix for p in data_map.object_prefixes):
            gaps.append(f"entry {e.key}: prefix {e.prefix} is not in the data map")
        if not e.stores and e.prefix is None and e.period.kind is not PeriodKind.NEVER_STORED:
            gaps.append(f"entry {e.key}: names no store or prefix")
        if e.tasks and e.action is ScheduleAction.NONE:
            gaps.append(f"entry {e.key}: has tasks but no action")
        gaps.extend(f"entry {e.key}: task {t} is not registered" for t in e.tasks if t not in registered)
    named = enforcing_tasks(entries)
    gaps.extend(f"task {t} is registered but enforces no schedule entry" for t in sorted(registered - named))
    keys = [e.key for e in entries]
    gaps.extend(f"entry {k} is declared twice" for k in sorted({k for k in keys if keys.count(k) > 1}))
    return gaps
