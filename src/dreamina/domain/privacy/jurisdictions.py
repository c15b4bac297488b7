"""Jurisdiction rules (request clocks, rights, age of digital consent, opt-out signals) loaded from data.

The facts live in ``dreamina/data/jurisdictions.json``, a versioned table transcribed from
``shared/policy/jurisdictions.md``; this module only validates, indexes and resolves it. Nothing here
branches on a particular country: changing a rule is a data change.
"""

from __future__ import annotations

import calendar
import enum
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, TypeVar, cast

import pycountry

from dreamina.domain.privacy.errors import InvalidInput

DeadlineUnit = Literal["months", "days", "business_days"]
DEADLINE_UNITS: frozenset[str] = frozenset({"months", "days", "business_days"})

_DATA_PACKAGE = "dreamina.data"
_DATA_FILE = "jurisdictions.json"
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_REGION_RE = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
_KINDS = frozenset({"default", "country", "region", "fallback"})
_FALLBACK_KIND = "fallback"


@dataclass(frozen=True, slots=True)
class Deadline:
    """A legal clock: ``amount`` units after receipt. ``amount`` is None where the law sets no figure."""

    unit: DeadlineUnit
    amount: int | None


@dataclass(frozen=True, slots=True)
class JurisdictionRule:
    code: str
    regime: str
    min_age: int
    response: Deadline
    extension: Deadline | None
    extension_needs_notice: bool
    rights: tuple[str, ...]
    gpc_required: bool
    note: str | None
    confirm_within: Deadline | None = None  # acknowledge receipt (e.g. CCPA: 10 business days)
    opt_out_within: Deadline | None = None  # act on an opt-out of sale/share (e.g. CCPA: 15 business days)


class JurisdictionTable:
    """The loaded table; ``rules`` maps every code (``EU``, ``US-CA``, ``DE``, ``fallback``) to its rule."""

    def __init__(
        self,
        *,
        version: str,
        source: str,
        rules: Mapping[str, JurisdictionRule],
        fallback_code: str,
        country_codes: frozenset[str],
        region_codes: frozenset[str],
    ) -> None:
        self.version = version
        self.source = source
        self.rules: Mapping[str, JurisdictionRule] = MappingProxyType(dict(rules))
        self._fallback_code = fallback_code
        self._countries = country_codes  # country rows plus EEA member-state rows
        self._regions = region_codes

    @property
    def fallback(self) -> JurisdictionRule:
        return self.rules[self._fallback_code]

    def resolve(self, country: str, region: str | None = None) -> JurisdictionRule:
        """The most specific rule: region row, else country (or EEA member-state) row, else the fallback.

        Raises ``InvalidInput`` if ``country``/``region`` are not valid ISO 3166 codes.
        """
        country, region = normalise_location(country, region)
        if region is not None and region in self._regions:
            return self.rules[region]
        if country in self._countries:
            return self.rules[country]
        return self.fallback

    def minimum_age(self, country: str, region: str | None = None) -> int:
        """Minimum age at which a user may consent without a parent in that location."""
        return self.resolve(country, region).min_age


# --- location validation --------------------------------------------------------------------------------


def normalise_location(country: str, region: str | None = None) -> tuple[str, str | None]:
    """Validate an ISO 3166-1 alpha-2 country and an optional ISO 3166-2 region of it; return them upper case.

    Raises ``InvalidInput`` (field ``country`` or ``region``) for anything else, including non-strings.
    """
    if not isinstance(country, str) or not country.isascii() or not _COUNTRY_RE.fullmatch(country.upper()):
        raise InvalidInput("country must be an ISO 3166-1 alpha-2 code such as 'DE'", field="country")
    country = country.upper()
    if pycountry.countries.get(alpha_2=country) is None:
        raise InvalidInput("country is not an assigned ISO 3166-1 alpha-2 code", field="country")
    if region is None:
        return country, None
    if not isinstance(region, str) or not region.isascii() or not _REGION_RE.fullmatch(region.upper()):
        raise InvalidInput("region must be an ISO 3166-2 code such as 'US-CA'", field="region")
    region = region.upper()
    subdivision = pycountry.subdivisions.get(code=region)  # type: ignore[no-untyped-call]
    if subdivision is None:
        raise InvalidInput("region is not an ISO 3166-2 subdivision code", field="region")
    if subdivision.country_code != country:
        raise InvalidInput("region does not belong to the given country", field="region")
    return country, region


# --- legal clocks ---------------------------------------------------------------------------------------

_D = TypeVar("_D", date, datetime)


def add_months(d: _D, months: int) -> _D:
    """``d`` plus calendar months, clamping to the month's last day (31 Jan + 1 month = 28/29 Feb).

    Time of day and tzinfo of a datetime are preserved.
    """
    if isinstance(months, bool) or not isinstance(months, int):
        raise TypeError("months must be an int")
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day)


def _add_business_days(d: datetime, days: int) -> datetime:
    """``d`` plus ``days`` weekdays (Saturday and Sunday are skipped; public holidays are not)."""
    current = d
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def due_date(received_at: datetime, deadline: Deadline) -> datetime:
    """When an answer falls due for a request received at ``received_at``."""
    if deadline.amount is None:
        raise ValueError("this deadline has no fixed length; resolve it through the jurisdiction table")
    if deadline.unit == "months":
        return add_months(received_at, deadline.amount)
    if deadline.unit == "days":
        return received_at + timedelta(days=deadline.amount)
    if deadline.unit == "business_days":
        return _add_business_days(received_at, deadline.amount)
    raise ValueError(f"unknown deadline unit {deadline.unit!r}")


NEAR_DUE = timedelta(days=3)


class DeadlineFlag(enum.StrEnum):
    """The deadline monitor's mark on an open request or privacy ticket (G9)."""

    NEAR_DUE = "near_due"  # within three days of its legal deadline
    OVERDUE = "overdue"  # past it


def deadline_flag(due_at: datetime, now: datetime) -> DeadlineFlag | None:
    """``overdue`` once the answer is late, ``near_due`` within three days of it, else None (G9)."""
    if due_at <= now:
        return DeadlineFlag.OVERDUE
    if due_at - now <= NEAR_DUE:
        return DeadlineFlag.NEAR_DUE
    return None


# --- loading --------------------------------------------------------------------------------------------


class JurisdictionDataError(ValueError):
    """The bundled jurisdiction table is malformed (a packaging bug, never a user error)."""


def _deadline(raw: Any, where: str, *, optional: bool = False) -> Deadline | None:
    if raw is None:
        if optional:
            return None
        raise JurisdictionDataError(f"{where}: deadline missing")
    if not isinstance(raw, dict) or set(raw) != {"unit", "amount"}:
        raise JurisdictionDataError(f"{where}: deadline must be an object with unit and amount")
    unit, amount = raw["unit"], raw["amount"]
    if unit not in DEADLINE_UNITS:
        raise JurisdictionDataError(f"{where}: unknown unit {unit!r}")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount < 1):
        raise JurisdictionDataError(f"{where}: amount must be a positive int or null")
    return Deadline(unit=cast(DeadlineUnit, unit), amount=amount)


def _age(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 30:
        raise JurisdictionDataError(f"{where}: age must be a plausible int")
    return raw


def _rule(row: dict[str, Any], vocabulary: frozenset[str]) -> JurisdictionRule:
    code = row["code"]
    rights = tuple(row["rights"])
    unknown = set(rights) - vocabulary
    if unknown:
        raise JurisdictionDataError(f"{code}: rights not in rights_vocabulary: {sorted(unknown)}")
    response = cast(Deadline, _deadline(row["response"], f"{code}.response"))
    return JurisdictionRule(
        code=code,
        regime=row["regime"],
        min_age=_age(row["min_age_without_parent"], f"{code}.min_age_without_parent"),
        response=response,
        extension=_deadline(row["extension"], f"{code}.extension", optional=True),
        extension_needs_notice=bool(row["extension_needs_notice"]),
        rights=rights,
        gpc_required=bool(row["gpc_required"]),
        note=row.get("note"),
        confirm_within=_deadline(row.get("confirm_within"), f"{code}.confirm_within", optional=True),
        opt_out_within=_deadline(row.get("opt_out_within"), f"{code}.opt_out_within", optional=True),
    )


def parse_jurisdictions(document: Mapping[str, Any]) -> JurisdictionTable:
    """Build a table from the decoded JSON document, validating it."""
    vocabulary = frozenset(document["rights_vocabulary"])
    rows: list[dict[str, Any]] = list(document["rules"])
    by_code: dict[str, JurisdictionRule] = {}
    kinds: dict[str, str] = {}
    for row in rows:
        code, kind = row["code"], row["kind"]
        if kind not in _KINDS:
            raise JurisdictionDataError(f"{code}: unknown kind {kind!r}")
        if code in by_code:
            raise JurisdictionDataError(f"{code}: duplicate row")
        by_code[code] = _rule(row, vocabulary)
        kinds[code] = kind

    fallbacks = [code for code, kind in kinds.items() if kind == _FALLBACK_KIND]
    if len(fallbacks) != 1:
        raise JurisdictionDataError("exactly one fallback row is required")
    fallback = by_code[fallbacks[0]]
    if fallback.response.amount is None:
        raise JurisdictionDataError("the fallback row needs a fixed response deadline")

    # A row whose law sets no day count takes the fallback clock; its note says so.
    for code, rule in by_code.items():
        if rule.response.amount is None:
            by_code[code] = replace(rule, response=fallback.response)

    countries = {code for code, kind in kinds.items() if kind == "country"}
    regions = {code for code, kind in kinds.items() if kind == "region"}

    eea = document["eea_member_states"]
    default = by_code[eea["default_rule"]]
    notes: Mapping[str, str] = eea.get("notes", {})
    for code, age in eea["ages"].items():
        if code in by_code:
            raise JurisdictionDataError(f"{code}: member state also has its own row")
        member_note = notes.get(code)
        note = f"EEA member state: clocks and rights from the {default.code} row; GDPR Art 8 age {age}."
        by_code[code] = replace(
            default,
            code=code,
            min_age=_age(age, f"eea_member_states.{code}"),
            note=f"{note} {member_note}" if member_note else note,
        )
        countries.add(code)
    if set(notes) - set(eea["ages"]):
        raise JurisdictionDataError("eea_member_states.notes names a state without an age")

    return JurisdictionTable(
        version=str(document["version"]),
        source=str(document["source"]),
        rules=by_code,
        fallback_code=fallback.code,
        country_codes=frozenset(countries),
        region_codes=frozenset(regions),
    )


@functools.cache
def load_jurisdictions() -> JurisdictionTable:
    """The bundled, versioned jurisdiction table (parsed once per process)."""
    text = resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return parse_jurisdictions(json.loads(text))
