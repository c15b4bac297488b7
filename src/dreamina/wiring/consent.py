"""Wiring unit of the consent module: the policy versions and their changes (section 10), consent records and GPC,
objections, privacy-friendly analytics, marketing mail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dreamina.adapters.memory import consent as memory_consent
from dreamina.adapters.memory import marketing as memory_marketing
from dreamina.adapters.memory import policy as memory_policy
from dreamina.adapters.sql import (
    repositories_analytics,
    repositories_consent,
    repositories_improvement,
    repositories_marketing,
    repositories_policy,
)
from dreamina.domain.consent.analytics import Analytics
from dreamina.domain.consent.data_map import CONSENT_DATA
from dreamina.domain.consent.improvement import ImprovementControl
from dreamina.domain.consent.marketing import MarketingMail
from dreamina.domain.consent.marketing_links import UnsubscribeLinks
from dreamina.domain.consent.personal_data import ConsentPersonalData
from dreamina.domain.consent.policy_changes import PolicyChanges
from dreamina.domain.consent.policy_versions import PolicyCatalogue
from dreamina.domain.consent.preferences import ConsentRegistry, Objections
from dreamina.domain.consent.retention import ExpiredAnalyticsEvents, ExpiredDeviceConsent
from dreamina.ports.consent import ClientClassifier
from dreamina.wiring.infrastructure import Infrastructure
from dreamina.wiring.kit import Contributions, ModuleParts

PARTS = ModuleParts(
    name="consent",
    data=CONSENT_DATA,
    sql={
        **repositories_policy.REPOSITORIES,
        **repositories_consent.REPOSITORIES,
        **repositories_analytics.REPOSITORIES,
        **repositories_marketing.REPOSITORIES,
        **repositories_improvement.REPOSITORIES,
    },
    memory=(memory_policy.STORES, memory_consent.STORES, memory_marketing.STORES),
)


@dataclass(frozen=True, slots=True)
class ConsentModule:
    """The consent module's use cases."""

    policies: PolicyCatalogue
    choices: ConsentRegistry
    objections: Objections
    improvement: ImprovementControl
    analytics: Analytics
    policy_changes: PolicyChanges
    marketing: MarketingMail
    contributes: Contributions


def wire_consent(infra: Infrastructure, overrides: Mapping[str, Any]) -> ConsentModule:
    policies = PolicyCatalogue(infra.uow, infra.clock, contact=infra.settings.resolved_privacy_contact_email)
    choices = ConsentRegistry(infra.uow, infra.vault, infra.clock, policies)
    objections = Objections(infra.uow, infra.clock)
    classifier: ClientClassifier | None = overrides.get("classifier")
    if classifier is None:
        from dreamina.adapters.client_traits import OfflineClientClassifier

        classifier = OfflineClientClassifier()
    return ConsentModule(
        policies=policies,
        choices=choices,
        objections=objections,
        improvement=ImprovementControl(infra.uow, infra.clock),
        analytics=Analytics(
            uow=infra.uow,
            consent=choices,
            classifier=classifier,
            vault=infra.vault,
            clock=infra.clock,
        ),
        policy_changes=PolicyChanges(
            uow=infra.uow,
            catalogue=policies,
            mail=infra.mail,
            keyrings=infra.keyrings,
            clock=infra.clock,
            policy_url=infra.settings.resolved_public_base_url + "/v1/privacy/policy",
            min_notice=timedelta(days=infra.settings.policy_notice_min_days),
        ),
        marketing=MarketingMail(
            uow=infra.uow,
            mail=infra.mail,
            keyrings=infra.keyrings,
            links=UnsubscribeLinks(
                infra.vault,
                base_url=infra.settings.resolved_public_base_url,
                lifetime=timedelta(days=infra.settings.marketing_unsubscribe_link_days),
            ),
            clock=infra.clock,
        ),
        contributes=Contributions(
            holders=(ConsentPersonalData(uow=infra.uow, vault=infra.vault, clock=infra.clock),),
            retention=(ExpiredAnalyticsEvents(infra.uow), ExpiredDeviceConsent(infra.uow)),
        ),
    )
