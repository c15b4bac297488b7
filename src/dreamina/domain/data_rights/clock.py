"""The legal clock of a privacy request (G9): due date from the jurisdiction rule, pauses, one extension."""

from __future__ import annotations

from datetime import datetime, timedelta

from dreamina.domain.privacy.jurisdictions import NEAR_DUE, JurisdictionRule, JurisdictionTable, deadline_flag, due_date

__all__ = [
    "NEAR_DUE",
    "PAUSE_DURING_VERIFICATION",
    "deadline_flag",
    "due_after_pause",
    "extended_due",
    "initial_due",
    "pauses_for_verification",
    "rule_for",
]

# Regimes whose clock stops while the controller waits for information it needs to identify the subject
# (EDPB Guidelines 01/2022 on the right of access, para. 159; the UK ICO says the same for UK GDPR). The CCPA
# regulations (11 CCR 7021(b)) run the 45 days "regardless of time required to verify": no pause there, and
# where a law is silent we do not pause either (the stricter reading).
PAUSE_DURING_VERIFICATION: tuple[str, ...] = ("GDPR", "UK GDPR")


def rule_for(jurisdictions: JurisdictionTable, code: str) -> JurisdictionRule:
    """The rule a request was received under (by the code it keeps), or the fallback if that row is gone."""
    return jurisdictions.rules.get(code) or jurisdictions.fallback


def pauses_for_verification(rule: JurisdictionRule) -> bool:
    return rule.regime.startswith(PAUSE_DURING_VERIFICATION)


def initial_due(rule: JurisdictionRule, received_at: datetime) -> datetime:
    """Due date counted from receipt."""
    return due_date(received_at, rule.response)


def due_after_pause(rule: JurisdictionRule, received_at: datetime, paused_seconds: int) -> datetime:
    """Due date once the clock was stopped for ``paused_seconds`` in total."""
    return initial_due(rule, received_at) + timedelta(seconds=paused_seconds)


def extended_due(rule: JurisdictionRule, current_due: datetime) -> datetime | None:
    """The latest due date the rule allows after its one extension, or None if it allows none."""
    if rule.extension is None or rule.extension.amount is None:
        return None
    return due_date(current_due, rule.extension)
