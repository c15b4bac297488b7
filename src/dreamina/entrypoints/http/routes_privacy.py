"""Public privacy routes generated from the declarations (the policy in effect, its versions, the processors) and
the health check."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from dreamina.domain.consent.policy_versions import PolicyCatalogue
from dreamina.domain.privacy.datamap import DataMap
from dreamina.domain.privacy.policy import PolicyVersion, last_updated_label, split_sections
from dreamina.domain.privacy.processors import ANALYTICS_STATEMENT
from dreamina.domain.privacy.schedule import schedule_as_dicts
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.problems import problem_responses
from dreamina.entrypoints.http.schemas import (
    AnalyticsStatementBody,
    Health,
    PolicyBody,
    PolicyVersionBody,
    PolicyVersionList,
    PolicyVersionSummary,
    ProcessorBody,
    ProcessorList,
    Readiness,
    RetentionScheduleEntryBody,
    SectionBody,
)
from dreamina.wiring.infrastructure import DatabaseHealth


def _summary(p: PolicyVersion, current: int | None) -> PolicyVersionSummary:
    return PolicyVersionSummary(
        version=p.version,
        content_sha256=p.content_sha256,
        last_updated=p.last_updated,
        effective_at=p.effective_at,
        published_at=p.published_at,
        in_effect=current is not None and p.version <= current,
    )


def _text_fields(p: PolicyVersion, contact: str) -> dict[str, Any]:
    """What every body showing one version's text carries: the text as served (the template with the contact and
    the version's date filled in), the template its hash covers, and the contact beside it."""
    text = p.served(contact)
    return {
        "version": p.version,
        "content_sha256": p.content_sha256,
        "last_updated": p.last_updated,
        "last_updated_label": last_updated_label(p.last_updated),
        "effective_at": p.effective_at,
        "published_at": p.published_at,
        "privacy_contact": contact,
        "sections": [SectionBody(number=s.number, title=s.title, body=s.body) for s in split_sections(text)],
        "text": text,
        "template": p.text,
    }


class PrivacyController(Controller):
    path = "/v1/privacy"
    tags = ["privacy"]

    @get(
        "/policy",
        summary="The privacy policy in effect, with its data map and retention schedule",
        responses=problem_responses(404),
    )
    async def policy(
        self, policies: NamedDependency[PolicyCatalogue], data_map: NamedDependency[DataMap]
    ) -> PolicyBody:
        return PolicyBody(
            **_text_fields(await policies.current(), policies.contact),
            data_map=data_map.as_dict(),
            retention_schedule=msgspec.convert(schedule_as_dicts(data_map.schedule), list[RetentionScheduleEntryBody]),
        )

    @get("/policy/versions", summary="Every published version of the privacy policy")
    async def versions(self, policies: NamedDependency[PolicyCatalogue]) -> PolicyVersionList:
        listing = await policies.listing()
        current = listing.current_version
        return PolicyVersionList(current_version=current, versions=[_summary(v, current) for v in listing.versions])

    @get(
        "/policy/versions/{version:int}",
        summary="One published version of the privacy policy, in effect or upcoming",
        responses=problem_responses(404),
    )
    async def version(self, version: FromPath[int], policies: NamedDependency[PolicyCatalogue]) -> PolicyVersionBody:
        """Readable from the moment it is published, so a notice can link to a change before it takes effect."""
        policy, in_effect = await policies.version(version)
        return PolicyVersionBody(**_text_fields(policy, policies.contact), in_effect=in_effect)

    @get(
        "/processors",
        summary="The public record of processors this deployment hands data to, and its first-party analytics",
    )
    async def processors(self, data_map: NamedDependency[DataMap]) -> ProcessorList:
        analytics = data_map.analytics_record()
        return ProcessorList(
            processors=[msgspec.convert(r, ProcessorBody) for r in data_map.processor_record()],
            analytics=AnalyticsStatementBody(
                first_party=not analytics["processors"],
                statement=ANALYTICS_STATEMENT,
                **analytics,  # type: ignore[arg-type]
            ),
        )


@get("/health", tags=["operations"], summary="Liveness: the process answers (it checks no dependency)")
async def health() -> Health:
    return Health(status="ok")


@get(
    "/ready",
    tags=["operations"],
    summary="Readiness: the database, Redis (when configured) and the object store answer",
    responses={503: ResponseSpec(data_container=Readiness, description="a dependency does not answer")},
)
async def ready(health_check: NamedDependency[DatabaseHealth]) -> Response[Readiness]:
    state = await health_check.report()
    ok = all(value != "unavailable" for value in state.values())
    body = Readiness(status="ok" if ok else "degraded", **state)  # type: ignore[arg-type]
    return Response(body, status_code=200 if ok else 503)


FACE = HttpFace(
    routes=[PrivacyController, health, ready],
    dependencies={
        "data_map": lambda c: c.privacy.data_map,
        "health_check": lambda c: c.infra.database,
        "kept_answers": lambda c: c.privacy.kept_answers,  # Idempotency-Key answers, for every module's routes
    },
)
