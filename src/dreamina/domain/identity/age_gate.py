"""The age gate (policy section 9, guarantee G8): minimum ages come from the jurisdiction table, not from code."""

from __future__ import annotations

from datetime import date

from dreamina.domain.privacy.errors import AgeRequirementNotMet, InvalidInput
from dreamina.domain.privacy.jurisdictions import JurisdictionTable

EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def age_on(birth_date: date, today: date) -> int:
    """Completed years on ``today`` (someone born on 29 February turns a year older on 1 March)."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def check_age(birth_date: date, today: date, country: str, region: str | None, table: JurisdictionTable) -> int:
    """Raise unless the person is old enough to hold an account where they live; returns the minimum age applied."""
    if birth_date > today:
        raise InvalidInput("birth_date is in the future", field="birth_date")
    if birth_date < EARLIEST_BIRTH_DATE:
        raise InvalidInput("birth_date is before 1900-01-01", field="birth_date")
    minimum = table.minimum_age(country, region)
    if age_on(birth_date, today) < minimum:
        raise AgeRequirementNotMet(
            f"You must be at least {minimum} to use the Service where you live.", minimum_age=minimum
        )
    return minimum


def below_minimum_age(
    birth_date: date, today: date, country: str, region: str | None, table: JurisdictionTable
) -> bool:
    """Whether the age gate would refuse ``birth_date`` today (an impossible date is not "below": it was refused
    when it was given)."""
    try:
        check_age(birth_date, today, country, region, table)
    except AgeRequirementNotMet:
        return True
    except InvalidInput:
        return False
    return False
