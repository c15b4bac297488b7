"""Valid calls for the authorization matrix: for each route and caller, a request that succeeds when it is allowed.

Each operation runs in a :class:`Scene` of its own: a fresh owner, and fresh other callers wherever those may act on
themselves, so one operation's sign-outs or password changes never reach another's. Resources named in an owned
route's path belong to ``user_a``, made once, and ``user_a`` calls last; a staff route gets a fresh resource of a
fresh subject for every caller, so two allowed roles both find something to decide (an approved request cannot be
approved again).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from typing import Any, TypeVar
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from dreamina.bootstrap import Container, shipped_policy_text
from tests.http_client import AsyncTestClient

from .authorization_audiences import CALLERS, HOLDER, OWNED, STAFF_ROLES
from .billing_helpers import pay, sandbox, start_checkout
from .data_rights_helpers import last_code
from .helpers import PASSWORD, mailed_token, sign_up_body, signed_in
from .security_helpers import reset_token

T = TypeVar("T")
REASON = "authorization matrix test"
FORGED_SESSION = "cs_test_" + "0" * 24


def _png() -> bytes:
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()

# Bodies that are valid as they stand; everything needing a fresh token or resource is built in ``call_for``.
BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/v1/me"): {"display_name": "Renamed"},
    ("POST", "/v1/admin/marketing/campaigns"): {"subject_line": "News", "body": "Something new at Dreamina."},
    ("PUT", "/v1/consent"): {"functional": True, "analytics": True, "marketing": False},
    ("POST", "/v1/analytics/events"): {"events": [{"name": "page_view", "page": "/gallery"}]},
    ("PUT", "/v1/me/objections"): {"purpose": "marketing", "objected": True},
    ("PUT", "/v1/me/improvement"): {"allowed": True},
    ("POST", "/v1/me/policy-acceptances"): {"version": 1},
    ("POST", "/v1/privacy/requests"): {"type": "access", "details": {}},
    ("POST", "/v1/privacy/requests/{request_id}/cancel"): {"confirm": True},
    ("POST", "/v1/generations"): {"kind": "image", "prompt": "a quiet harbour"},
    ("POST", "/v1/billing/checkout"): {"pack_id": "starter"},
    ("POST", "/v1/admin/privacy/requests/{request_id}/approve"): {"reason": REASON},
    ("POST", "/v1/admin/privacy/requests/{request_id}/reject"): {"reason": REASON},
    ("POST", "/v1/admin/privacy/requests/{request_id}/extend"): {"reason": REASON},
    ("POST", "/v1/admin/privacy/requests/{request_id}/expedite"): {"reason": REASON},
    ("POST", "/v1/admin/child-reports/{report_id}/confirm"): {"reason": REASON},
    ("POST", "/v1/admin/child-reports/{report_id}/dismiss"): {"reason": REASON},
    ("POST", "/v1/admin/abuse-reports/{report_id}/takedown"): {"reason": REASON},
    ("POST", "/v1/admin/abuse-reports/{report_id}/dismiss"): {"reason": REASON},
    ("POST", "/v1/admin/moderation/reviews/{review_id}/lift"): {"reason": REASON},
    ("POST", "/v1/admin/moderation/reviews/{review_id}/suspend"): {"reason": REASON},
    ("POST", "/v1/me/age-review/statement"): {"statement": "I am an adult"},
    ("POST", "/v1/admin/privacy/tickets/{ticket_id}/reply"): {"message": "matrix", "close": False},
    ("POST", "/v1/admin/privacy/tickets/{ticket_id}/close"): {"reason": REASON},
    ("POST", "/v1/admin/support/tickets/{ticket_id}/reply"): {"message": "matrix", "close": False},
    ("POST", "/v1/admin/support/tickets/{ticket_id}/close"): {"reason": REASON},
    ("POST", "/v1/me/password"): {"current_password": PASSWORD, "new_password": "a new and unguessable passphrase"},
}

QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/v1/admin/subjects/{subject_id}/consent"): {"reason": REASON},
    ("GET", "/v1/admin/privacy/requests/{request_id}"): {"reason": REASON},
    ("GET", "/v1/admin/child-reports/{report_id}"): {"reason": REASON},
    ("GET", "/v1/admin/abuse-reports/{report_id}"): {"reason": REASON},
    ("GET", "/v1/admin/privacy/tickets/{ticket_id}"): {"reason": REASON},
    ("GET", "/v1/admin/support/tickets/{ticket_id}"): {"reason": REASON},
}

_REVIEWED_CORRECTION = ("rectification", {"free_text": "fix my name"}, False, False)  # waits for staff

# The privacy request each route acts on: (type, details, with the password as proof, run the jobs after).
REQUESTS: dict[tuple[str, str], tuple[str, dict[str, Any] | None, bool, bool]] = {
    ("GET", "/v1/privacy/requests/{request_id}"): ("export", None, False, False),
    ("POST", "/v1/privacy/requests/{request_id}/cancel"): ("export", None, False, False),
    ("POST", "/v1/privacy/requests/{request_id}/code"): ("export", None, False, False),
    ("POST", "/v1/privacy/requests/{request_id}/verify"): ("export", None, False, False),
    ("GET", "/v1/privacy/requests/{request_id}/download"): ("export", None, True, True),
    ("GET", "/v1/privacy/requests/{request_id}/report"): ("access", None, False, False),
    ("GET", "/v1/admin/privacy/requests/{request_id}"): ("export", None, False, False),
    ("POST", "/v1/admin/privacy/requests/{request_id}/approve"): _REVIEWED_CORRECTION,
    ("POST", "/v1/admin/privacy/requests/{request_id}/reject"): _REVIEWED_CORRECTION,
    ("POST", "/v1/admin/privacy/requests/{request_id}/extend"): _REVIEWED_CORRECTION,
    ("POST", "/v1/admin/privacy/requests/{request_id}/expedite"): ("erasure", None, True, False),
}


@dataclass
class Call:
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scene:
    """One operation's world: its callers (signed in, staff roles granted through the use case) and its resources."""

    client: AsyncTestClient
    container: Container
    tag: str
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    owned: dict[str, str] = field(default_factory=dict)  # user_a's resources, by path parameter
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    def email(self, who: str) -> str:
        return f"{who}.{self.tag}@example.com"

    def fresh_email(self) -> str:
        return self.email(f"extra{next(self._numbers)}")

    async def cast(self, others: dict[str, dict[str, str]] | None = None) -> None:
        """Signs every caller up and in, staff roles granted; or only ``user_a``, the owner, when ``others`` holds
        the other callers' headers, made by an earlier scene."""
        self.headers["anonymous"] = {}
        for caller in CALLERS[1:]:
            if others is not None and caller != "user_a":
                self.headers[caller] = others[caller]
                continue
            self.headers[caller] = await signed_in(self.client, self.email(caller))
            if caller in STAFF_ROLES:
                await self.container.identity.staff.grant(self.email(caller), caller)

    async def fresh_subject(self) -> tuple[str, dict[str, str]]:
        email = self.fresh_email()
        return email, await signed_in(self.client, email)

    async def subject_id(self, headers: dict[str, str]) -> str:
        me = await self.client.get("/v1/me", headers=headers)
        assert me.status_code == 200, me.text
        return str(me.json()["id"])


def _ok(response: Any, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _privacy_request(scene: Scene, operation: tuple[str, str], email: str, headers: dict[str, str]) -> str:
    kind, details, proven, run_jobs = REQUESTS[operation]
    body: dict[str, Any] = {"type": kind, "details": details or {}}
    if proven:
        body["password"] = PASSWORD
    created = _ok(await scene.client.post("/v1/privacy/requests", headers=headers, json=body), 202)
    if run_jobs:
        await scene.container.data_rights.jobs.run_due()
    return str(created["id"])


async def _child_report(scene: Scene, email: str) -> str:
    """An open report about the account signed up with ``email``, matched (so that account is under review)."""

    async def open_reports() -> set[Any]:
        async with scene.container.infra.uow() as uow:
            return {report.id for report in await uow.child_reports.list_open(10_000)}

    before = await open_reports()
    body = {"email": email, "contact": scene.fresh_email()}  # a reporter of its own: reports are counted per reporter
    _ok(await scene.client.post("/v1/privacy/child-reports", json=body), 202)
    await scene.container.children.matching.run_due()
    (report,) = await open_reports() - before
    return str(report)


async def _abuse_report(scene: Scene, owner: dict[str, str]) -> str:
    """An open abuse report about a generation of ``owner``'s, filed by them (each case is its own client)."""
    created = await scene.client.post("/v1/generations", headers=owner, json=BODIES[("POST", "/v1/generations")])
    body = {"generation_id": _ok(created, 202)["id"], "reason": "other"}
    _ok(await scene.client.post("/v1/abuse-reports", headers=owner, json=body), 202)
    await scene.container.abuse.matching.run_due()
    async with scene.container.infra.uow() as uow:
        (report,) = await uow.abuse_reports.list_for_generation(UUID(body["generation_id"]))
    return str(report.id)


async def _moderation_review(scene: Scene, headers: dict[str, str]) -> str:
    """An open moderation review of the subject signed in with ``headers`` (as repeated refusals open one)."""
    from dreamina.ports.moderation import ModerationReview, ReviewStatus

    subject, now = UUID(await scene.subject_id(headers)), scene.container.infra.clock.now()
    review = ModerationReview(uuid4(), subject, ReviewStatus.OPEN, 5, now)
    async with scene.container.infra.uow() as uow:
        await uow.moderation_reviews.add(review)
        await uow.commit()
    return str(review.id)


async def _ticket(scene: Scene, category: str, headers: dict[str, str] | None = None) -> str:
    body = {"category": category, "subject": "Matrix", "message": "A ticket for the matrix test"}
    if headers is None:
        body["reply_to"] = "someone@example.org"
    created = await scene.client.post("/v1/support/tickets", headers=headers or {}, json=body)
    return str(_ok(created, 201)["id"])


async def _resource(scene: Scene, operation: tuple[str, str], parameter: str, caller: str) -> str:
    """The value of one path parameter: user_a's resource (owned routes), else a fresh one for this caller."""
    template = operation[1]
    if parameter in scene.owned:
        return scene.owned[parameter]
    owner_email, owner = scene.email("user_a"), scene.headers["user_a"]
    if template.startswith("/v1/admin/") and parameter not in {"subject_id", "version"}:
        owner_email, owner = await scene.fresh_subject()  # a fresh case for every staff member
    if parameter == "version":
        value = "1"  # the shipped policy version
    elif parameter == "subject_id":
        value = await scene.subject_id(owner)
    elif parameter == "request_id":
        value = await _privacy_request(scene, operation, owner_email, owner)
    elif parameter == "generation_id":
        created = await scene.client.post("/v1/generations", headers=owner, json=BODIES[("POST", "/v1/generations")])
        value = str(_ok(created, 202)["id"])
    elif parameter == "upload_id":
        files = {"file": ("ref.png", PNG, "image/png")}
        value = str(_ok(await scene.client.post("/v1/uploads", headers=owner, files=files), 201)["id"])
    elif parameter == "ticket_id":
        queue = "privacy" if not template.startswith("/v1/admin/support/") else "billing"
        value = await _ticket(scene, queue, None if template.startswith("/v1/admin/") else owner)
    elif parameter == "campaign_id":
        body = BODIES[("POST", "/v1/admin/marketing/campaigns")]
        created = await scene.client.post("/v1/admin/marketing/campaigns", headers=scene.headers["admin"], json=body)
        value = str(_ok(created, 201)["id"])
    elif parameter == "report_id" and template.startswith("/v1/admin/abuse-reports/"):
        value = await _abuse_report(scene, owner)
    elif parameter == "report_id":
        value = await _child_report(scene, owner_email)
    elif parameter == "review_id":
        value = await _moderation_review(scene, owner)
    elif parameter == "session_id":  # a second session of user_a's, so user_a's own call is not its sign-out
        await scene.client.post("/v1/auth/token", json={"email": owner_email, "password": PASSWORD})
        sessions = _ok(await scene.client.get("/v1/me/sessions", headers=owner), 200)
        value = str(next(s["id"] for s in sessions if not s["current"]))
    else:
        raise AssertionError(f"no factory for path parameter {parameter}: add one to _resource")
    if not template.startswith("/v1/admin/"):
        scene.owned[parameter] = value
    return value


async def _holder_call(scene: Scene, operation: tuple[str, str], *, secret: bool) -> Call:
    """A call holding the secret the service issued (or a forged one, ``secret=False``)."""
    method, template = operation
    if template == "/v1/objects/{key}":
        owner = await scene.subject_id(scene.headers["user_a"])
        key = f"uploads/{owner}/matrix-{next(scene._numbers)}.png"
        await scene.container.infra.object_store.put(key, PNG, "image/png")
        url = urlsplit(await scene.container.infra.object_store.signed_url(key))
        query = url.query if secret else "expires=9999999999&signature=" + "0" * 64
        return Call(f"{url.path}?{query}")
    if template == "/v1/billing/webhooks/stripe":
        await pay(scene.client, await start_checkout(scene.client, scene.headers["user_a"]), "4242424242424242")
        payload, header = sandbox(scene.container).sent[-1]  # delivered once already: a re-delivery is a 200
        signature = header if secret else "t=1,v1=" + "0" * 64
        return Call(template, {"content": payload, "headers": {"Stripe-Signature": signature}})
    if template == "/v1/billing/sandbox/checkout/{session_id}":
        page = await start_checkout(scene.client, scene.headers["user_a"]) if secret else ""
        path = page or template.replace("{session_id}", FORGED_SESSION)
        form = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2031", "cvc": "123"}
        return Call(path, {"data": form} if method == "POST" else {})
    if template == "/v1/marketing/unsubscribe":
        owner = UUID(await scene.subject_id(scene.headers["user_a"]))
        url = urlsplit(scene.container.consent.marketing.links.url(owner, scene.container.infra.clock.now()))
        query = url.query if secret else "token=" + "A" * 32 + "." + "0" * 64
        return Call(f"{url.path}?{query}")
    raise AssertionError(f"no secret for {operation}: add one to _holder_call")


async def _token_call(scene: Scene, operation: tuple[str, str]) -> Call | None:
    """Public routes whose body is itself a credential: a fresh, real one for every call."""
    client, template = scene.client, operation[1]
    email = scene.fresh_email()
    if template == "/v1/accounts":
        return Call(template, {"json": sign_up_body(email)})
    if template == "/v1/auth/token":
        await signed_in(client, email)
        return Call(template, {"json": {"email": email, "password": PASSWORD}})
    if template == "/v1/auth/verify-email":
        _ok(await client.post("/v1/accounts", json=sign_up_body(email)), 201)
        return Call(template, {"json": {"token": mailed_token(client, email, "verify_email")}})
    if template in {"/v1/me/email/confirm", "/v1/me/email/undo"}:
        headers, moved = await signed_in(client, email), scene.fresh_email()
        change = {"email": moved, "current_password": PASSWORD}
        _ok(await client.patch("/v1/me", headers=headers, json=change), 200)
        token = (
            mailed_token(client, moved, "email_change_confirm")
            if template.endswith("confirm")
            else mailed_token(client, email, "email_change_requested")
        )
        return Call(template, {"json": {"token": token}})
    if template == "/v1/auth/password-reset":
        await signed_in(client, email)
        return Call(template, {"json": {"email": email}})
    if template == "/v1/auth/password-reset/complete":
        await signed_in(client, email)
        await client.post("/v1/auth/password-reset", json={"email": email})
        body = {"token": reset_token(scene.container, email), "new_password": "a brand new passphrase here"}
        return Call(template, {"json": body})
    if template == "/v1/privacy/child-reports":
        return Call(template, {"json": {"email": email, "contact": scene.fresh_email()}})
    if template == "/v1/abuse-reports":
        return Call(template, {"json": {"generation_id": str(UUID(int=next(scene._numbers) + 1)), "reason": "other"}})
    if template == "/v1/support/address-requests":
        return Call(template, {"json": {"type": "access", "email": email}})
    if template == "/v1/support/address-requests/confirm":
        _ok(await client.post("/v1/support/address-requests", json={"type": "access", "email": email}), 202)
        return Call(template, {"json": {"token": mailed_token(client, email, "ticket_address_request")}})
    if template == "/v1/admin/policy/versions":
        effective = scene.container.infra.clock.now() + timedelta(days=30)
        text = shipped_policy_text() + f"\nRevision {scene.tag}-{next(scene._numbers)}.\n"
        return Call(template, {"json": {"text": text, "effective_at": effective.isoformat()}})
    return None


async def call_for(scene: Scene, operation: tuple[str, str], caller: str, audience: str) -> Call:
    """A request for ``operation`` that succeeds if ``caller`` is allowed (resources made on demand)."""
    method, template = operation
    if audience == HOLDER:
        return await _holder_call(scene, operation, secret=True)
    made = await _token_call(scene, operation)
    if made is not None:
        return made
    path = template
    while "{" in path:
        parameter = path.split("{", 1)[1].split("}", 1)[0]
        path = path.replace("{" + parameter + "}", await _resource(scene, operation, parameter, caller))
    kwargs: dict[str, Any] = {}
    if template == "/v1/uploads" and method == "POST":
        kwargs["files"] = {"file": ("ref.png", PNG, "image/png")}
    elif template == "/v1/support/tickets" and method == "POST":
        body = {"category": "billing", "subject": "Matrix", "message": "A ticket for the matrix test"}
        kwargs["json"] = body if caller != "anonymous" else {**body, "reply_to": "someone@example.org"}
    elif template == "/v1/privacy/requests/{request_id}/verify":
        kwargs["json"] = {"code": last_code(scene.container, scene.email("user_a"))}
    elif operation in BODIES:
        kwargs["json"] = BODIES[operation]
    if operation in QUERIES:
        kwargs["params"] = QUERIES[operation]
    return Call(path, kwargs)


async def owned_first(scene: Scene, operation: tuple[str, str], audience: str) -> None:
    """Set up what the owner must hold before anyone calls: the owned resource, or the owner's own age review."""
    if audience == OWNED:
        await call_for(scene, operation, "user_a", audience)  # makes and keeps user_a's resource
    elif operation == ("POST", "/v1/me/age-review/statement"):
        await _child_report(scene, scene.email("user_a"))


async def forged_call(scene: Scene, operation: tuple[str, str]) -> Call:
    return await _holder_call(scene, operation, secret=False)
