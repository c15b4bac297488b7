"""The one composition root: settings -> the shared infrastructure -> one wiring unit per module -> the container.

Each module wires itself in ``dreamina/wiring/<module>.py``; this file only composes them. Nothing is built at
import time. Tests call :func:`build_container` with overrides (a movable clock, in-memory fakes, a database of their
own); the API process, the CLI and the workers call it with settings alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from dreamina.adapters.memory.database import InMemoryDatabase
from dreamina.adapters.sql.database import Database
from dreamina.domain.consent.policy_versions import INITIAL_LAST_UPDATED, INITIAL_VERSION
from dreamina.domain.privacy.audit_trail import AuditTrail
from dreamina.domain.privacy.datamap import DataMap
from dreamina.domain.privacy.disclosures import DisclosureHistory
from dreamina.domain.privacy.idempotency import KeptAnswers
from dreamina.domain.privacy.retention import RetentionSweep
from dreamina.settings import Settings
from dreamina.wiring import abuse, billing, children, consent, data_rights, generation, identity, privacy, support
from dreamina.wiring.abuse import AbuseModule
from dreamina.wiring.billing import BillingModule
from dreamina.wiring.children import ChildrenModule
from dreamina.wiring.consent import ConsentModule
from dreamina.wiring.data_rights import DataRightsModule
from dreamina.wiring.generation import GenerationModule
from dreamina.wiring.identity import IdentityModule
from dreamina.wiring.infrastructure import Infrastructure, sql_repositories, wire_infrastructure
from dreamina.wiring.kit import Contributions, DeadlineMonitor, Hook, ModuleParts
from dreamina.wiring.privacy import PrivacyKernel, data_map_of, processors_in_use
from dreamina.wiring.support import SupportModule

MODULES: tuple[ModuleParts, ...] = (
    privacy.PARTS,
    identity.PARTS,
    consent.PARTS,
    data_rights.PARTS,
    children.PARTS,
    support.PARTS,
    billing.PARTS,
    generation.PARTS,
    abuse.PARTS,
    generation.MODERATION_PARTS,
)
"""Every module's stores; the order is the order of the published retention schedule."""

OVERRIDES = frozenset(
    {
        "clock", "vault", "uow", "database_ping", "mailer", "attempts", "passwords", "object_store",  # infrastructure
        "classifier", "payment_processor", "providers", "processor_erasers", "webhooks", "charges",  # modules
        "job_queue", "privacy_job_queue", "content_credentials", "moderator",
    }
)  # fmt: skip

INITIAL_EFFECTIVE_AT = datetime(2026, 5, 1, tzinfo=UTC)
MAIL_DELIVERY_SECONDS = 15.0  # how soon mail a flush could not send is tried again (embedded profile)
DEADLINE_MONITOR_SECONDS = 3600.0  # how often the embedded profile flags requests near or past their legal deadline
CHILD_REPORT_MATCHING_SECONDS = 2.0  # how soon a received child report is matched to its account (embedded profile)
ABUSE_REPORT_MATCHING_SECONDS = 2.0  # how soon a received abuse report is matched to its generation (embedded)
POLICY_NOTICES_SECONDS = 10.0  # how soon a published policy version's notices start going out (embedded profile)
MARKETING_MAIL_SECONDS = 10.0  # how soon a marketing campaign starts going out (embedded profile)


def shipped_policy_text() -> str:
    """The policy the company ships as version 1 (a copy of shared/policy/privacy-policy.txt)."""
    return resources.files("dreamina.data").joinpath("privacy-policy-v1.txt").read_text(encoding="utf-8")


def declared_data_map() -> DataMap:
    """Every module's declaration of what it stores, joined (G1)."""
    return data_map_of(MODULES)


def sql_database(url: str, **options: Any) -> Database:
    """A :class:`Database` serving every module's SQL repositories (``options`` as :class:`Database` takes them)."""
    return Database(url, sql_repositories(MODULES), **options)


def memory_database() -> InMemoryDatabase:
    """An empty in-memory store serving every module's fake repositories."""
    return InMemoryDatabase(stores for part in MODULES for stores in part.memory)


@dataclass(slots=True)
class Lifecycle:
    """Hooks run once when the process starts, and in reverse order when it stops."""

    starters: list[Hook] = field(default_factory=list)
    workers: list[Hook] = field(default_factory=list)  # background work: job workers, reapers, periodic passes
    closers: list[Hook] = field(default_factory=list)

    async def start(self, *, run_workers: bool = True) -> None:
        for begin in [*self.starters, *(self.workers if run_workers else ())]:
            await begin()
        self.starters.clear()
        self.workers.clear()

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()
        self.closers.clear()


@dataclass(frozen=True, slots=True)
class Container:
    """Every module's facade of use cases, wired once, for the entrypoints (HTTP, CLI, workers)."""

    settings: Settings
    infra: Infrastructure
    privacy: PrivacyKernel
    identity: IdentityModule
    consent: ConsentModule
    generation: GenerationModule
    billing: BillingModule
    data_rights: DataRightsModule
    support: SupportModule
    children: ChildrenModule
    abuse: AbuseModule
    monitors: tuple[DeadlineMonitor, ...]  # legal clocks to watch: privacy requests, privacy tickets
    lifecycle: Lifecycle

    async def start(self, *, run_workers: bool = True) -> None:
        """Idempotent start-up work: publish the shipped policy as version 1 if it is not there yet, then start
        what runs inside this process (in-process workers, the embedded profile's periodic sweep) unless
        ``run_workers`` is false: a one-shot command (``dreamina staff``, ``dreamina privacy expedite``, ...) would
        otherwise take jobs it cannot finish before it exits, and leave their leases to run out first."""
        await self.consent.policies.ensure_published(
            version=INITIAL_VERSION,
            text=shipped_policy_text(),
            last_updated=INITIAL_LAST_UPDATED,
            effective_at=INITIAL_EFFECTIVE_AT,
        )
        await self.lifecycle.start(run_workers=run_workers)

    async def aclose(self) -> None:
        await self.lifecycle.aclose()


def warn_of_development_defaults(settings: Settings) -> None:
    """Logged when the API starts (not by every CLI command): the policy names the development stand-in contact.
    Embedded only: production refuses to start without a contact."""
    if not settings.privacy_contact_email.strip():
        from dreamina.adapters.logs import get_logger

        get_logger("dreamina.policy").warning(
            "privacy_contact_not_configured",
            setting="DREAMINA_PRIVACY_CONTACT_EMAIL",
            served="the development stand-in at the reserved .invalid domain, which never delivers",
        )


def build_container(settings: Settings, **overrides: Any) -> Container:
    """Wire the adapters the settings name; any keyword in :data:`OVERRIDES` replaces the adapter of that name."""
    unknown = sorted(set(overrides) - OVERRIDES)
    if unknown:
        raise TypeError(f"unknown overrides: {', '.join(unknown)}")
    infra = wire_infrastructure(settings, overrides, MODULES)
    data_map = declared_data_map()
    billing_module = billing.wire_billing(infra, overrides)
    generation_module = generation.wire_generation(infra, overrides.get("charges") or billing_module.charges, overrides)
    identity_module = identity.wire_identity(infra, generations=generation_module.stopper)
    consent_module = consent.wire_consent(infra, overrides)
    support_module = support.wire_support(infra)
    abuse_module = abuse.wire_abuse(infra, generations=generation_module.generations)
    data_rights_module = data_rights.wire_data_rights(
        infra,
        holders=[
            h
            for m in (generation_module, billing_module, consent_module, support_module, abuse_module, identity_module)
            for h in m.contributes.holders
        ],
        erasers={
            **generation_module.erasers,
            **billing.payment_erasers(billing_module.processor),
            **(overrides.get("processor_erasers") or {}),
        },
        webhooks=overrides.get("webhooks"),
        job_queue=overrides.get("privacy_job_queue"),
        # a test that brings a generation queue and no privacy queue runs privacy jobs itself (``jobs.run_due``)
        run_jobs=overrides.get("job_queue") is None,
        corrections=identity_module.corrections,
        data_map=data_map,  # every declared processor: an access report names past recipients too
    )
    children_module = children.wire_children(
        infra, generations=generation_module.stopper, erasure=data_rights_module.child_erasure
    )
    modules: list[Contributions] = [
        privacy.kernel_contributions(infra),
        *(
            m.contributes
            for m in (
                identity_module,
                consent_module,
                data_rights_module,
                children_module,
                support_module,
                billing_module,
                generation_module,
                abuse_module,
            )
        ),
    ]
    sweep = RetentionSweep(
        [task for m in modules for task in m.retention], infra.clock, batch_size=settings.retention_batch_size
    )
    lifecycle = Lifecycle(
        starters=[*infra.starters, *(hook for m in modules for hook in m.starters)],
        workers=[hook for m in modules for hook in m.workers],
        closers=[*infra.closers, *(hook for m in modules for hook in m.closers)],
    )
    if settings.queue == "in_process" and overrides.get("job_queue") is None:
        _run_in_this_process(
            sweep,
            infra,
            lifecycle,
            children_module,
            abuse_module,
            consent_module,
            tuple(monitor for m in modules for monitor in m.monitors),
        )
    return Container(
        settings=settings,
        infra=infra,
        privacy=PrivacyKernel(
            data_map=data_map.configured(
                processors_in_use(
                    settings,
                    [
                        *generation_module.processors.values(),
                        generation_module.screening.moderator.processor,
                        billing_module.processor.processor,
                    ],
                )
            ),
            retention=sweep,
            disclosures=DisclosureHistory(infra.uow),
            kept_answers=KeptAnswers(infra.uow, infra.clock),
            audit_trail=AuditTrail(infra.uow, infra.clock),
        ),
        identity=identity_module,
        consent=consent_module,
        generation=generation_module,
        billing=billing_module,
        data_rights=data_rights_module,
        support=support_module,
        children=children_module,
        abuse=abuse_module,
        monitors=tuple(monitor for m in modules for monitor in m.monitors),
        lifecycle=lifecycle,
    )


def _run_in_this_process(
    sweep: RetentionSweep,
    infra: Infrastructure,
    lifecycle: Lifecycle,
    children_module: ChildrenModule,
    abuse_module: AbuseModule,
    consent_module: ConsentModule,
    monitors: tuple[DeadlineMonitor, ...],
) -> None:
    """Embedded profile: no worker process runs, so this process does what the workers do (exports and erasures run
    from this process's job queue, wired with the data-rights module): it flags requests near their legal deadline,
    matches received child and abuse reports, sends the notices of a published policy version and marketing
    campaigns, sweeps on the retention interval and delivers the mail a flush after commit left in the outbox."""
    from dreamina.adapters.periodic import Periodic
    from dreamina.adapters.retention_runs import PeriodicSweep

    async def check_deadlines() -> None:
        for monitor in monitors:
            await monitor()

    periodic = PeriodicSweep(sweep, infra.settings.retention_sweep_minutes * 60.0)
    mail = Periodic("mail_delivery", MAIL_DELIVERY_SECONDS, infra.mail.deliver_due)
    deadlines = Periodic("deadline_monitor", DEADLINE_MONITOR_SECONDS, check_deadlines)
    matching = Periodic("child_report_matching", CHILD_REPORT_MATCHING_SECONDS, children_module.matching.run_due)
    abuse = Periodic("abuse_report_matching", ABUSE_REPORT_MATCHING_SECONDS, abuse_module.matching.run_due)
    notices = Periodic("policy_notices", POLICY_NOTICES_SECONDS, consent_module.policy_changes.send_due_notices)
    marketing = Periodic("marketing_mail", MARKETING_MAIL_SECONDS, consent_module.marketing.send_due)
    for runner in (periodic, mail, deadlines, matching, abuse, notices, marketing):
        lifecycle.workers.append(runner.start)
        lifecycle.closers.append(runner.stop)
