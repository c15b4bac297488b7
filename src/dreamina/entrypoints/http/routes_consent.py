"""Routes of the consent module: consent and GPC, analytics, objections, the improvement control, policy status,
disclosures, admin."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from dreamina.domain.consent.analytics import Analytics, IncomingEvent
from dreamina.domain.consent.improvement import ImprovementControl, ImprovementState
from dreamina.domain.consent.policy_changes import PolicyChanges
from dreamina.domain.consent.preferences import (
    HISTORY_PAGE,
    MAX_HISTORY_PAGE,
    MIN_STAFF_REASON,
    Choices,
    ConsentRegistry,
    ConsentState,
    HistoryPage,
    Objections,
    Requester,
)
from dreamina.domain.identity.accounts import Principal
from dreamina.domain.privacy.disclosures import DisclosureHistory
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.entrypoints.http.auth import ANALYSTS, AUTH, EVERY_STAFF_ROLE, SECURED, STAFF
from dreamina.entrypoints.http.device import device_id
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.schemas_consent import (
    AcceptanceBody,
    AcceptPolicyBody,
    AnalyticsBatchBody,
    AnalyticsSummaryBody,
    ConsentBody,
    ConsentChoiceBody,
    ConsentHistoryPage,
    ConsentRecordBody,
    DailyCountBody,
    DisclosureBody,
    DisclosureList,
    GpcBody,
    ImprovementBody,
    ImprovementChoiceBody,
    ImprovementHistoryPage,
    ImprovementRecordBody,
    IngestBody,
    NoticeBody,
    NoticeRunBody,
    ObjectionBody,
    ObjectionList,
    ObjectionStateBody,
    PolicyStatusBody,
    PublishedPolicyBody,
    PublishPolicyBody,
    StaffConsentView,
    objectable,
)
from dreamina.entrypoints.http.texts import query_text
from dreamina.ports.consent import ConsentMethod, ConsentRecord, ImprovementChoice, Objection
from dreamina.ports.policy import PolicyAcceptance, PolicyNoticeRun

GPC_LAST_UPDATE = "2026-11-25"  # when our handling of the signal last changed


def _notice_run(run: PolicyNoticeRun) -> NoticeRunBody:
    return NoticeRunBody(
        version=run.policy_version,
        status=run.status,
        sent=run.notices_sent,
        requested_at=run.requested_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


def _record(r: ConsentRecord) -> ConsentRecordBody:
    return ConsentRecordBody(
        id=r.id,
        functional=r.functional,
        analytics=r.analytics,
        marketing=r.marketing,
        sale_share_opt_out=r.sale_share_opt_out,
        gpc=r.gpc,
        method=r.method,
        policy_version=r.policy_version,
        content_sha256=r.content_sha256,
        recorded_at=r.recorded_at,
    )


PageLimit = Annotated[int, QueryParameter(ge=1, le=MAX_HISTORY_PAGE, description="records per page")]
PageCursor = Annotated[UUID | None, QueryParameter(description="`next_before` of the previous page")]


def _consent(state: ConsentState, history: HistoryPage) -> ConsentBody:
    return ConsentBody(
        necessary=True,
        functional=state.choices.functional,
        analytics=state.choices.analytics,
        marketing=state.choices.marketing,
        sale_share_opt_out=state.sale_share_opt_out,
        gpc=state.gpc,
        method=state.method,
        policy_version=state.policy_version,
        content_sha256=state.content_sha256,
        recorded_at=state.recorded_at,
        current_policy_version=state.current_policy_version,
        under_current_policy=state.under_current_policy,
        history=[_record(r) for r in history.records],
        history_next=history.next_before,
    )


class ConsentController(Controller):
    path = "/v1/consent"
    tags = ["consent"]

    @get("/", summary="The consent choice in force for this device or signed-in subject, with its history")
    async def show(
        self,
        request: Request[Any, Any, Any],
        subject: NamedDependency[UUID | None],
        consent_choices: NamedDependency[ConsentRegistry],
    ) -> ConsentBody:
        requester = Requester(subject, device_id(request, mint=False))
        return _consent(await consent_choices.state(requester), await consent_choices.history(requester))

    @put("/", summary="Give or withdraw consent (functional, analytics, marketing); necessary is always on")
    async def choose(
        self,
        data: JSONBody[ConsentChoiceBody],
        request: Request[Any, Any, Any],
        subject: NamedDependency[UUID | None],
        consent_choices: NamedDependency[ConsentRegistry],
    ) -> ConsentBody:
        requester = Requester(subject, device_id(request, mint=True))
        state, page = await consent_choices.choose(
            requester, Choices(data.functional, data.analytics, data.marketing), ConsentMethod(data.method)
        )
        return _consent(state, page)

    @get("/history", summary="The consent history, newest first, a page at a time")
    async def history(
        self,
        request: Request[Any, Any, Any],
        subject: NamedDependency[UUID | None],
        consent_choices: NamedDependency[ConsentRegistry],
        limit: PageLimit = HISTORY_PAGE,
        before: PageCursor = None,
    ) -> ConsentHistoryPage:
        page = await consent_choices.history(Requester(subject, device_id(request, mint=False)), limit, before)
        return ConsentHistoryPage(items=[_record(r) for r in page.records], next_before=page.next_before)


@get("/.well-known/gpc.json", tags=["consent"], summary="Global Privacy Control support resource")
async def gpc_support() -> Response[GpcBody]:
    return Response(GpcBody(gpc=True, last_update=GPC_LAST_UPDATE), media_type="application/json")


@post("/v1/analytics/events", status_code=200, tags=["analytics"], summary="Record a batch of analytics events")
async def analytics_events(
    data: JSONBody[AnalyticsBatchBody],
    request: Request[Any, Any, Any],
    subject: NamedDependency[UUID | None],
    analytics: NamedDependency[Analytics],
) -> IngestBody:
    """Without analytics consent under the current policy (or after an objection) nothing is stored:
    ``{"recorded": 0, "dropped": N, "reason": "no_consent"}``."""
    requester = Requester(subject, device_id(request, mint=False))
    result = await analytics.ingest(
        requester,
        [IncomingEvent(name=e.name, page=e.page, feature=e.feature) for e in data.events],
        address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent", ""),
    )
    return IngestBody(recorded=result.recorded, dropped=result.dropped, reason=result.reason)


def _objections(found: list[Objection]) -> ObjectionList:
    return ObjectionList(
        objections=[
            ObjectionStateBody(purpose=objectable(o.purpose), objected=o.objected, updated_at=o.updated_at)
            for o in found
        ]
    )


def _acceptance(a: PolicyAcceptance) -> AcceptanceBody:
    return AcceptanceBody(
        policy_version=a.policy_version,
        content_sha256=a.content_sha256,
        method=a.method,
        accepted_at=a.accepted_at,
    )


def _improvement_record(c: ImprovementChoice) -> ImprovementRecordBody:
    return ImprovementRecordBody(
        id=c.id,
        allowed=c.allowed,
        method=c.method.value,
        policy_version=c.policy_version,
        content_sha256=c.content_sha256,
        recorded_at=c.recorded_at,
    )


def _improvement(state: ImprovementState) -> ImprovementBody:
    return ImprovementBody(
        chosen=state.chosen,
        allowed=state.allowed,
        objected=state.objected,
        restricted=state.restricted,
        method=None if state.method is None else state.method.value,
        policy_version=state.policy_version,
        recorded_at=state.recorded_at,
        history=[_improvement_record(c) for c in state.history],
        history_next=state.history_next,
    )


class SubjectPrivacyController(Controller):
    path = "/v1/me"
    tags = ["privacy"]
    dependencies = AUTH
    security = SECURED

    @put("/objections", summary="Object to (or stop objecting to) analytics, product_improvement or marketing")
    async def put_objection(
        self,
        data: JSONBody[ObjectionBody],
        principal: NamedDependency[Principal],
        objections: NamedDependency[Objections],
    ) -> ObjectionList:
        return _objections(await objections.set(principal.account_id, data.purpose, data.objected))

    @get("/objections", summary="Your objections")
    async def get_objections(
        self, principal: NamedDependency[Principal], objections: NamedDependency[Objections]
    ) -> ObjectionList:
        return _objections(await objections.list(principal.account_id))

    @get(
        "/improvement",
        summary="Whether your content may be used to improve the service, with the history of your choice",
    )
    async def show_improvement(
        self, principal: NamedDependency[Principal], improvement: NamedDependency[ImprovementControl]
    ) -> ImprovementBody:
        return _improvement(await improvement.state(principal.account_id))

    @put(
        "/improvement", summary="Allow or refuse the use of your content to improve the service (409 while you object)"
    )
    async def choose_improvement(
        self,
        data: JSONBody[ImprovementChoiceBody],
        principal: NamedDependency[Principal],
        improvement: NamedDependency[ImprovementControl],
    ) -> ImprovementBody:
        return _improvement(await improvement.choose(principal.account_id, data.allowed, data.method))

    @get("/improvement/history", summary="The history of your improvement choice, newest first, a page at a time")
    async def improvement_history(
        self,
        principal: NamedDependency[Principal],
        improvement: NamedDependency[ImprovementControl],
        limit: PageLimit = HISTORY_PAGE,
        before: PageCursor = None,
    ) -> ImprovementHistoryPage:
        items, next_before = await improvement.history(principal.account_id, limit, before)
        return ImprovementHistoryPage(items=[_improvement_record(c) for c in items], next_before=next_before)

    @get("/policy-status", summary="Which policy version you accepted, when and how")
    async def policy_status(
        self, principal: NamedDependency[Principal], policy_changes: NamedDependency[PolicyChanges]
    ) -> PolicyStatusBody:
        status = await policy_changes.status(principal.account_id)
        acceptances = [_acceptance(a) for a in status.acceptances]
        accepted_versions = {a.policy_version for a in status.acceptances}
        return PolicyStatusBody(
            current_version=status.current.version,
            current_sha256=status.current.content_sha256,
            accepted_current=status.accepted_current,
            latest_acceptance=acceptances[-1] if acceptances else None,
            acceptances=acceptances,
            notices=[
                NoticeBody(
                    policy_version=n.policy_version,
                    effective_at=n.effective_at,
                    notified_at=n.notified_at,
                    accepted_at=n.resolved_at if n.policy_version in accepted_versions else None,
                )
                for n in status.notices
            ],
        )

    @post("/policy-acceptances", status_code=HTTP_201_CREATED, summary="Accept the policy version in effect")
    async def accept_policy(
        self,
        data: JSONBody[AcceptPolicyBody],
        principal: NamedDependency[Principal],
        policy_changes: NamedDependency[PolicyChanges],
    ) -> AcceptanceBody:
        return _acceptance(await policy_changes.accept(principal.account_id, data.version))

    @get("/disclosures", summary="Which processors received your data, which categories, why and when")
    async def disclosures(
        self, principal: NamedDependency[Principal], disclosures: NamedDependency[DisclosureHistory]
    ) -> DisclosureList:
        found = await disclosures.for_subject(principal.account_id)
        return DisclosureList(
            disclosures=[
                DisclosureBody(
                    processor=d.processor,
                    categories=list(d.categories),
                    purpose=Purpose(d.purpose),
                    reference=d.reference,
                    occurred_at=d.occurred_at,
                    improvement_allowed=d.improvement_allowed,
                )
                for d in found
            ]
        )


class AdminController(Controller):
    path = "/v1/admin"
    tags = ["admin"]
    security = SECURED
    dependencies = STAFF

    @get("/analytics/summary", guards=[ANALYSTS], summary="Daily event counts per event and feature")
    async def analytics_summary(
        self,
        analytics: NamedDependency[Analytics],
        first_day: Annotated[date | None, QueryParameter(name="from")] = None,
        last_day: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> AnalyticsSummaryBody:
        summary = await analytics.summary(first_day, last_day)
        return AnalyticsSummaryBody(
            first_day=summary.first_day,
            last_day=summary.last_day,
            counts=[DailyCountBody(day=c.day, name=c.name, feature=c.feature, count=c.count) for c in summary.counts],
        )

    @post(
        "/policy/versions",
        guards=[ANALYSTS],
        status_code=HTTP_201_CREATED,
        summary="Publish a new policy version; every account is notified by a job (see its notices' status)",
    )
    async def publish_policy(
        self, data: JSONBody[PublishPolicyBody], policy_changes: NamedDependency[PolicyChanges]
    ) -> PublishedPolicyBody:
        """Answers at once: the notices are recorded as due with the version and sent in batches by the job."""
        policy = await policy_changes.publish(data.text, data.effective_at)
        return PublishedPolicyBody(
            version=policy.version,
            content_sha256=policy.content_sha256,
            last_updated=policy.last_updated,
            effective_at=policy.effective_at,
            notices=_notice_run(await policy_changes.notice_run(policy.version)),
        )

    @get(
        "/policy/versions/{version:int}/notices",
        guards=[ANALYSTS],
        summary="How far the notices of a published policy version have got",
    )
    async def policy_notices(
        self, version: Annotated[int, Parameter(ge=1, le=1_000_000)], policy_changes: NamedDependency[PolicyChanges]
    ) -> NoticeRunBody:
        return _notice_run(await policy_changes.notice_run(version))

    @get("/subjects/{subject_id:uuid}/consent", guards=[EVERY_STAFF_ROLE], summary="A subject's consent history")
    async def subject_consent(
        self,
        subject_id: FromPath[UUID],
        staff: NamedDependency[Principal],
        consent_choices: NamedDependency[ConsentRegistry],
        reason: Annotated[
            str,
            QueryParameter(
                min_length=1, max_length=500, schema_extra=query_text(500, min_length=MIN_STAFF_REASON, refused="\\x00")
            ),
        ],
        limit: PageLimit = MAX_HISTORY_PAGE,
        before: PageCursor = None,
    ) -> StaffConsentView:
        """Newest first, a page at a time; every read is audit-logged with the staff member and the reason given."""
        page = await consent_choices.staff_history(staff.account_id, subject_id, reason, limit, before)
        return StaffConsentView(
            subject_id=subject_id, history=[_record(r) for r in page.records], history_next=page.next_before
        )


FACE = HttpFace(
    routes=[
        ConsentController,
        gpc_support,
        analytics_events,
        SubjectPrivacyController,
        AdminController,
    ],
    dependencies={
        "policies": lambda c: c.consent.policies,
        "consent_choices": lambda c: c.consent.choices,
        "objections": lambda c: c.consent.objections,
        "improvement": lambda c: c.consent.improvement,
        "analytics": lambda c: c.consent.analytics,
        "policy_changes": lambda c: c.consent.policy_changes,
        "disclosures": lambda c: c.privacy.disclosures,
    },
)
