"""The privacy center's rights pages: your privacy requests (every type the API takes, proven by password or by a
mailed code), one request's course, the access report, and your objections and restriction of processing.

Each handler calls the use case its JSON API twin calls (named in its docstring); nothing here decides a rule. A
form is turned into the API's own request body (``schemas_data_rights.PrivacyRequestBody``) so that the page and the
API refuse the same input; the domain then validates it as it does for the API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from dreamina.domain.consent.improvement import ImprovementControl
from dreamina.domain.consent.preferences import Objections
from dreamina.domain.data_rights.access import AccessReports
from dreamina.domain.data_rights.downloads import ExportDownloads
from dreamina.domain.data_rights.requests import SENSITIVE_TYPES, PrivacyRequests
from dreamina.domain.identity.accounts import Principal
from dreamina.entrypoints.http.auth import PAGE_AUTH
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.entrypoints.http.routes_data_rights import export_archive
from dreamina.entrypoints.http.schemas_access_report import access_report_out
from dreamina.entrypoints.http.schemas_data_rights import PrivacyRequestBody, request_details, request_type
from dreamina.entrypoints.http.web.pages import page
from dreamina.entrypoints.http.web.privacy_center import FORM
from dreamina.ports.consent import OBJECTABLE_PURPOSES
from dreamina.ports.data_rights import CANCELLABLE, PrivacyRequest, RequestStatus, RequestType

Text = Annotated[str, msgspec.Meta(max_length=8000)]
Short = Annotated[str, msgspec.Meta(max_length=1024)]

# What each switch stops, in the words the README and the domain use for it (policy sections 5 and 7).
OBJECTION_EFFECTS: dict[str, str] = {
    "analytics": "No usage event of yours is stored for analytics while you object.",
    "product_improvement": (
        "Your prompts and images are not used to improve the service while you object, whatever the improvement "
        "control says."
    ),
    "marketing": "No marketing mail is sent to you while you object.",
}
assert set(OBJECTION_EFFECTS) == {p.value for p in OBJECTABLE_PURPOSES}
RESTRICTION_EFFECT = (
    "Your data may not be processed while the restriction is in place: no generation, upload or payment, and "
    "nothing of yours reaches a model provider."
)
STATUS_WORDS: dict[str, str] = {
    RequestStatus.AWAITING_VERIFICATION: "waiting for proof of identity",
    RequestStatus.RECEIVED: "received",
    RequestStatus.IN_REVIEW: "being reviewed by our staff",
    RequestStatus.PROCESSING: "in progress",
    RequestStatus.SCHEDULED: "scheduled",
    RequestStatus.COMPLETED: "completed",
    RequestStatus.REJECTED: "rejected",
    RequestStatus.CANCELLED: "cancelled",
}


class RequestForm(msgspec.Struct):
    """One form for every type: the members the type's ``details`` take are passed on, the others ignored."""

    type: Literal["access", "export", "erasure", "rectification", "objection", "restriction"]
    proof: Literal["password", "mail"] = "password"
    password: Short = ""
    note: Text = ""
    reason: Text = ""
    email: Short = ""
    display_name: Short = ""
    birth_date: Short = ""
    free_text: Text = ""
    purpose: Short = ""
    withdraw: bool = False
    action: Literal["restrict", "lift"] = "restrict"


class ProofForm(msgspec.Struct):
    """The mailed code, or the password: the API's ``VerifyBody`` (exactly one; the domain refuses both or none)."""

    code: Annotated[str, msgspec.Meta(max_length=32)] = ""
    password: Short = ""


class ObjectionForm(msgspec.Struct):
    purpose: Short
    objected: bool = False


class RestrictionForm(msgspec.Struct):
    action: Literal["restrict", "lift"]
    reason: Text = ""


def _details(form: RequestForm) -> dict[str, Any] | None:
    """The form's members as the API body's ``details`` of its type (empty fields left out, as the API's are)."""
    given: dict[str, Any] = {}
    if form.type in ("access", "export") and form.note:
        given["note"] = form.note
    elif form.type == "erasure" and form.reason:
        given["reason"] = form.reason
    elif form.type == "rectification":
        corrections = {
            k: v
            for k, v in (("email", form.email), ("display_name", form.display_name), ("birth_date", form.birth_date))
            if v
        }
        if corrections:
            given["corrections"] = corrections
        if form.free_text:
            given["free_text"] = form.free_text
        return given  # required by the API: an empty one is its 422
    elif form.type == "objection":
        given["purpose"] = form.purpose
        if form.withdraw:
            given["withdraw"] = True
    elif form.type == "restriction":
        given["action"] = form.action
        if form.reason:
            given["reason"] = form.reason
    return given or None


def api_body(form: RequestForm) -> PrivacyRequestBody:
    """The form as ``POST /v1/privacy/requests``'s body; what its schema refuses is a 400 page here."""
    body: dict[str, Any] = {"type": form.type}
    if form.proof == "password" and (form.password or RequestType(form.type) in SENSITIVE_TYPES):
        body["password"] = form.password  # empty: the API's schema refuses it (a 400 naming it)
    details = _details(form)
    if details is not None:
        body["details"] = details
    try:
        converted: PrivacyRequestBody = msgspec.convert(body, PrivacyRequestBody)
        return converted
    except msgspec.ValidationError as exc:
        raise ValidationException(detail=f"invalid request: {exc}") from None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _row(r: PrivacyRequest, now: datetime) -> dict[str, Any]:
    ends = _utc(r.scheduled_for) if r.scheduled_for is not None else None
    left = (ends - now) if ends is not None else None
    return {
        "request": r,
        "status": STATUS_WORDS.get(r.status, str(r.status)),
        "cancellable": r.status in CANCELLABLE,
        "awaiting_proof": r.status == RequestStatus.AWAITING_VERIFICATION,
        "download": r.type == RequestType.EXPORT and r.status == RequestStatus.COMPLETED,
        "report": r.type == RequestType.ACCESS and r.status == RequestStatus.COMPLETED,
        "expires_at": r.outcome.get("expires_at"),
        "erasure_pending": r.type == RequestType.ERASURE and r.status == RequestStatus.SCHEDULED,
        "days_left": max(left.days, 0) if left is not None else None,
        "ends_at": ends.strftime("%Y-%m-%dT%H:%M:%SZ") if ends is not None else None,  # for <time datetime>
    }


class PrivacyRights(Controller):
    path = "/privacy"
    dependencies = PAGE_AUTH

    @get("/requests")
    async def requests(
        self, principal: NamedDependency[Principal], privacy_requests: NamedDependency[PrivacyRequests]
    ) -> Template:
        """As ``GET /v1/privacy/requests``."""
        found = await privacy_requests.list_for_subject(principal.account_id)
        now = datetime.now(UTC)
        purposes = sorted(OBJECTION_EFFECTS)
        return page("privacy_requests.html", requests=[_row(r, now) for r in found], purposes=purposes)

    @post("/requests", opt={RATE_LIMIT_OPT: SENSITIVE})
    async def submit(
        self,
        data: Annotated[RequestForm, FORM],
        principal: NamedDependency[Principal],
        privacy_requests: NamedDependency[PrivacyRequests],
    ) -> Redirect:
        """As ``POST /v1/privacy/requests``: any type, with ``password`` or (export, erasure) a mailed code."""
        body = api_body(data)
        await privacy_requests.submit(
            principal.account_id, request_type(body), request_details(body), password=body.password
        )
        return Redirect(path="/privacy/requests", status_code=303)

    @get("/requests/{request_id:uuid}")
    async def one_request(
        self,
        request_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        privacy_requests: NamedDependency[PrivacyRequests],
    ) -> Template:
        """As ``GET /v1/privacy/requests/{id}``: status history, due date, what was done."""
        view = await privacy_requests.view(principal.account_id, request_id)
        row = _row(view.request, datetime.now(UTC))
        return page("privacy_request.html", row=row, details=view.details, history=view.history, words=STATUS_WORDS)

    @post("/requests/{request_id:uuid}/verify", opt={RATE_LIMIT_OPT: SENSITIVE})
    async def verify(
        self,
        request_id: FromPath[UUID],
        data: Annotated[ProofForm, FORM],
        principal: NamedDependency[Principal],
        privacy_requests: NamedDependency[PrivacyRequests],
    ) -> Redirect:
        """As ``POST /v1/privacy/requests/{id}/verify`` with ``{"code": ...}`` (the code mailed to you) or
        ``{"password": ...}``."""
        code, password = data.code.strip() or None, data.password or None
        await privacy_requests.verify(principal.account_id, request_id, code=code, password=password)
        return Redirect(path="/privacy/requests", status_code=303)

    @post("/requests/{request_id:uuid}/code", opt={RATE_LIMIT_OPT: SENSITIVE})
    async def send_code(
        self,
        request_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        privacy_requests: NamedDependency[PrivacyRequests],
    ) -> Redirect:
        """As ``POST /v1/privacy/requests/{id}/code``: a new one-time code by mail."""
        await privacy_requests.send_code(principal.account_id, request_id)
        return Redirect(path="/privacy/requests", status_code=303)

    @post("/requests/{request_id:uuid}/cancel")
    async def cancel(
        self,
        request_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        privacy_requests: NamedDependency[PrivacyRequests],
    ) -> Redirect:
        """As ``POST /v1/privacy/requests/{id}/cancel``."""
        await privacy_requests.cancel(principal.account_id, request_id)
        return Redirect(path="/privacy/requests", status_code=303)

    @get("/requests/{request_id:uuid}/report")
    async def report(
        self,
        request_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        access_reports: NamedDependency[AccessReports],
    ) -> Template:
        """As ``GET /v1/privacy/requests/{id}/report``: the same report, checked against the same schema."""
        report = access_report_out(await access_reports.for_request(principal.account_id, request_id))
        return page("privacy_report.html", report=msgspec.to_builtins(report), request_id=request_id)

    @get("/requests/{request_id:uuid}/download", media_type="application/zip")
    async def download(
        self,
        request_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        export_downloads: NamedDependency[ExportDownloads],
    ) -> Response[Any]:
        """As ``GET /v1/privacy/requests/{id}/download``: only the subject, until the archive expires."""
        return export_archive(await export_downloads.open(principal.account_id, request_id))

    @get("/objections")
    async def objections_page(
        self,
        principal: NamedDependency[Principal],
        objections: NamedDependency[Objections],
        improvement: NamedDependency[ImprovementControl],
    ) -> Template:
        """As ``GET /v1/me/objections``, with the restriction as ``GET /v1/me/improvement`` reports it."""
        found = {o.purpose.value: o for o in await objections.list(principal.account_id)}
        state = await improvement.state(principal.account_id)
        rows = [
            {
                "purpose": purpose,
                "effect": effect,
                "objected": purpose in found and found[purpose].objected,
                "since": found[purpose].updated_at if purpose in found else None,
            }
            for purpose, effect in sorted(OBJECTION_EFFECTS.items())
        ]
        return page(
            "privacy_objections.html", rows=rows, restricted=state.restricted, restriction_effect=RESTRICTION_EFFECT
        )

    @post("/objections")
    async def object_to(
        self,
        data: Annotated[ObjectionForm, FORM],
        principal: NamedDependency[Principal],
        objections: NamedDependency[Objections],
    ) -> Redirect:
        """As ``PUT /v1/me/objections`` (``{"purpose": ..., "objected": ...}``)."""
        await objections.set(principal.account_id, data.purpose, data.objected)
        return Redirect(path="/privacy/objections", status_code=303)

    @post("/restriction")
    async def restriction(
        self,
        data: Annotated[RestrictionForm, FORM],
        principal: NamedDependency[Principal],
        privacy_requests: NamedDependency[PrivacyRequests],
    ) -> Redirect:
        """As ``POST /v1/privacy/requests`` with ``{"type": "restriction", "details": {"action": ...}}``."""
        body = api_body(RequestForm(type="restriction", action=data.action, reason=data.reason))
        await privacy_requests.submit(principal.account_id, request_type(body), request_details(body), password=None)
        return Redirect(path="/privacy/objections", status_code=303)
