"""The privacy policy pages: the public policy (/privacy/policy: the version in effect, the upcoming one, every
version and what changed between any two) and the staff's policy desk (/admin/policy: preview, publish, notices).

Each handler calls the use case its JSON API twin calls (named in its docstring); the notice rule, the version
numbers and the dates are the domain's (``PolicyChanges.preview``), the diff only shows the texts as served.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from dreamina.domain.consent.policy_changes import MAX_POLICY_CHARS, PolicyChanges
from dreamina.domain.consent.policy_versions import PolicyCatalogue
from dreamina.domain.privacy.errors import InvalidInput, NotFound
from dreamina.domain.privacy.policy import PolicyVersion, split_sections
from dreamina.entrypoints.http.auth import CONSOLE_STAFF, STAFF, session_cookie_or_none
from dreamina.entrypoints.http.web.pages import page
from dreamina.entrypoints.http.web.policy_diff import policy_diff
from dreamina.entrypoints.http.web.privacy_center import FORM

VersionNumber = Annotated[int | None, QueryParameter(ge=1, le=1_000_000)]


class PolicyForm(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_POLICY_CHARS + 10_000)]
    effective_on: date

    def policy_text(self) -> str:
        """The text as typed: a form sends a textarea's line breaks as CRLF, the policy keeps LF."""
        return self.text.replace("\r\n", "\n")

    def effective_at(self) -> datetime:
        return datetime.combine(self.effective_on, time(), UTC)


def _shown(policy: PolicyVersion, contact: str) -> dict[str, Any]:
    text = policy.served(contact)
    sections = [{"number": s.number, "title": s.title, "blocks": _blocks(s.body)} for s in split_sections(text)]
    return {"policy": policy, "sections": sections, "text": text}


def _blocks(body: str) -> list[tuple[str, list[str]]]:
    """A section's body as paragraphs and lists ("- " lines), for the template."""
    blocks: list[tuple[str, list[str]]] = []
    for para in body.split("\n\n"):
        for line in (line.strip() for line in para.splitlines()):
            if not line:
                continue
            kind, text = ("list", line[2:]) if line.startswith("- ") else ("para", line)
            if blocks and blocks[-1][0] == kind and (kind == "list" or not blocks[-1][1][-1].endswith(":")):
                blocks[-1][1].append(text)
            else:
                blocks.append((kind, [text]))
        blocks.append(("break", []))
    return [b for b in blocks if b[0] != "break"]


class PolicyPages(Controller):
    """Public: anyone may read the policy, signed in or not (the nav follows the session cookie)."""

    path = "/privacy/policy"

    @get("/")
    async def policy(
        self,
        request: Request[Any, Any, Any],
        policies: NamedDependency[PolicyCatalogue],
        old: Annotated[int | None, QueryParameter(name="from", ge=1, le=1_000_000)] = None,
        new: Annotated[int | None, QueryParameter(name="to", ge=1, le=1_000_000)] = None,
    ) -> Template:
        """As ``GET /v1/privacy/policy`` and ``GET /v1/privacy/policy/versions`` (and ``.../versions/{v}`` for the
        two versions compared: by default the version in effect and the upcoming one, else the one before it)."""
        current = await policies.current()
        listing = await policies.listing()
        numbers = [v.version for v in listing.versions]
        upcoming = [v for v in listing.versions if v.version > current.version]
        if old is None or new is None:
            if upcoming:
                old, new = current.version, upcoming[-1].version
            elif len(numbers) > 1:
                old, new = numbers[-2], numbers[-1]
        diff = None
        if old is not None and new is not None:
            (before, _), (after, _) = await policies.version(old), await policies.version(new)
            diff = policy_diff(before.served(policies.contact), after.served(policies.contact))
        return page(
            "privacy_policy.html",
            signed_in=session_cookie_or_none(request) is not None,
            current=_shown(current, policies.contact),
            upcoming=upcoming,
            versions=sorted(listing.versions, key=lambda v: v.version, reverse=True),
            current_version=listing.current_version,
            old=old,
            new=new,
            diff=diff,
        )

    @get("/versions/{version:int}")
    async def version(
        self, request: Request[Any, Any, Any], version: FromPath[int], policies: NamedDependency[PolicyCatalogue]
    ) -> Template:
        """As ``GET /v1/privacy/policy/versions/{version}``: readable from the moment it is published."""
        if not 1 <= version <= 1_000_000:
            raise NotFound(f"no privacy policy version {version} has been published")
        policy, in_effect = await policies.version(version)
        return page(
            "privacy_policy_version.html",
            signed_in=session_cookie_or_none(request) is not None,
            shown=_shown(policy, policies.contact),
            in_effect=in_effect,
        )


class PolicyDesk(Controller):
    """Staff: privacy officers and admins, the roles ``POST /v1/admin/policy/versions`` admits."""

    path = "/admin/policy"
    guards = [CONSOLE_STAFF]
    dependencies = STAFF

    async def _desk(
        self, policies: PolicyCatalogue, policy_changes: PolicyChanges, status: int = 200, **context: Any
    ) -> Template:
        listing = await policies.listing()
        versions = sorted(listing.versions, key=lambda v: v.version, reverse=True)
        runs = {v.version: await policy_changes.notice_run(v.version) for v in versions}
        return page(
            "admin_policy.html",
            status,
            versions=versions,
            runs=runs,
            current_version=listing.current_version,
            minimum_notice_days=policy_changes.minimum_notice.days,
            **context,
        )

    @get("/")
    async def desk(
        self,
        policies: NamedDependency[PolicyCatalogue],
        policy_changes: NamedDependency[PolicyChanges],
        published: VersionNumber = None,
    ) -> Template:
        """The form, and every version with its notices as ``GET /v1/admin/policy/versions/{v}/notices``."""
        return await self._desk(policies, policy_changes, published=published)

    @post("/preview", status_code=200)
    async def preview(
        self,
        data: Annotated[PolicyForm, FORM],
        policies: NamedDependency[PolicyCatalogue],
        policy_changes: NamedDependency[PolicyChanges],
    ) -> Template:
        """What ``POST /v1/admin/policy/versions`` would publish (the same checks, nothing stored): the text as it
        will be served, what changes against the version in effect, and the notice the domain's rule requires."""
        text = data.policy_text()
        try:
            preview = await policy_changes.preview(text, data.effective_at())
        except InvalidInput as exc:
            return await self._desk(
                policies, policy_changes, 422, error=exc.detail, text=text, effective_on=data.effective_on
            )
        contact = policies.contact
        current = preview.current
        return page(
            "admin_policy_preview.html",
            preview=preview,
            shown=_shown(preview.candidate, contact),
            diff=None if current is None else policy_diff(current.served(contact), preview.candidate.served(contact)),
            text=text,
            effective_on=data.effective_on,
        )

    @post("/publish")
    async def publish(
        self,
        data: Annotated[PolicyForm, FORM],
        policies: NamedDependency[PolicyCatalogue],
        policy_changes: NamedDependency[PolicyChanges],
    ) -> Template | Redirect:
        """As ``POST /v1/admin/policy/versions``: published with its notices due; the job mails them."""
        text = data.policy_text()
        try:
            published = await policy_changes.publish(text, data.effective_at())
        except InvalidInput as exc:
            return await self._desk(
                policies, policy_changes, 422, error=exc.detail, text=text, effective_on=data.effective_on
            )
        return Redirect(path=f"/admin/policy?published={published.version}", status_code=303)
