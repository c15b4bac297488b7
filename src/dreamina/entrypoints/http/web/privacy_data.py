"""The privacy center's "your data" (/privacy/data: the account, its corrections, the content-retention choice) and
"disclosures" (/privacy/disclosures: which processor received what, and when) pages.

Each handler calls the use case its JSON API twin calls (named in its docstring); nothing here decides a rule.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from dreamina.domain.identity.accounts import Principal
from dreamina.domain.identity.email_changes import EmailChanges
from dreamina.domain.identity.email_verification import EmailVerification
from dreamina.domain.identity.profiles import CONTENT_RETENTION_DAYS, Profiles
from dreamina.domain.privacy.disclosures import DisclosureHistory
from dreamina.domain.privacy.vocabulary import Purpose
from dreamina.entrypoints.http.auth import PAGE_AUTH
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.entrypoints.http.routes_identity import correct_profile
from dreamina.entrypoints.http.schemas import DisplayName, Email
from dreamina.entrypoints.http.web.pages import page

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)

# What the page says after a change (the query string names one of these; anything else shows nothing).
NOTICES = {
    "profile": "Your details were corrected.",
    "email": "We mailed a confirmation link to the new address. Your email changes once you follow it; "
    "the current address was told, with a link to undo the change.",
    "retention": "Your content-retention choice was saved.",
    "verification": "If your address is not verified yet, a new verification link is on its way to it.",
}


class ProfileForm(msgspec.Struct):
    display_name: DisplayName = ""  # empty: no display name
    birth_date: Annotated[str, msgspec.Meta(max_length=32)] = ""  # YYYY-MM-DD; empty: unchanged


class EmailForm(msgspec.Struct):
    email: Email
    current_password: Annotated[str, msgspec.Meta(max_length=1024)] = ""


class RetentionForm(msgspec.Struct):
    keep: Literal["forever", "days"]
    days: Annotated[str, msgspec.Meta(max_length=16)] = ""  # a whole number of days, with keep=days


def _days(form: RetentionForm) -> object:
    """The form's choice in the API's terms (``null`` or a number); anything not a number is passed on as given,
    for the domain to refuse as it refuses it from the API."""
    if form.keep == "forever":
        return None
    text = form.days.strip()
    return int(text) if text.isdigit() and len(text) < 10 else text


class PrivacyData(Controller):
    path = "/privacy"
    dependencies = PAGE_AUTH

    @get("/data")
    async def your_data(
        self,
        principal: NamedDependency[Principal],
        profiles: NamedDependency[Profiles],
        done: Annotated[str | None, QueryParameter(max_length=32)] = None,
    ) -> Template:
        """As ``GET /v1/me``: every field it shows, with the forms of ``PATCH /v1/me``."""
        return page(
            "privacy_data.html",
            profile=await profiles.profile(principal.account_id),
            notice=NOTICES.get(done or ""),
            retention_range=CONTENT_RETENTION_DAYS,
        )

    @post("/data/profile")
    async def correct(
        self,
        data: Annotated[ProfileForm, FORM],
        principal: NamedDependency[Principal],
        profiles: NamedDependency[Profiles],
        email_changes: NamedDependency[EmailChanges],
    ) -> Redirect:
        """As ``PATCH /v1/me`` with ``display_name`` and ``birth_date``: only the fields the form changed are sent,
        as an API client sends only what it corrects (an empty name removes it, as ``null`` does)."""
        current = await profiles.profile(principal.account_id)
        changes: dict[str, Any] = {}
        name = data.display_name.strip() or None
        if name != current.display_name:
            changes["display_name"] = name
        birth = data.birth_date.strip()
        if birth and birth != current.birth_date.isoformat():
            changes["birth_date"] = birth
        if changes:
            await correct_profile(principal, changes, profiles, email_changes)
        return Redirect(path="/privacy/data?done=profile", status_code=303)

    @post("/data/email")
    async def change_email(
        self,
        data: Annotated[EmailForm, FORM],
        principal: NamedDependency[Principal],
        profiles: NamedDependency[Profiles],
        email_changes: NamedDependency[EmailChanges],
    ) -> Redirect:
        """As ``PATCH /v1/me`` with ``email`` and ``current_password``: nothing changes yet; the new address is
        mailed a confirmation link (``POST /v1/me/email/confirm``) and the old one an undo link. A wrong password
        is the API's 403 ``reauthentication_required`` (throttled as the API's is: no stricter, no looser)."""
        changes = {"email": data.email, "current_password": data.current_password or None}
        await correct_profile(principal, changes, profiles, email_changes)
        return Redirect(path="/privacy/data?done=email", status_code=303)

    @post("/data/retention")
    async def choose_retention(
        self,
        data: Annotated[RetentionForm, FORM],
        principal: NamedDependency[Principal],
        profiles: NamedDependency[Profiles],
        email_changes: NamedDependency[EmailChanges],
    ) -> Redirect:
        """As ``PATCH /v1/me`` with ``content_retention_days`` (``null``: kept until deleted)."""
        await correct_profile(principal, {"content_retention_days": _days(data)}, profiles, email_changes)
        return Redirect(path="/privacy/data?done=retention", status_code=303)

    @post("/data/verification", opt={RATE_LIMIT_OPT: SENSITIVE})
    async def resend_verification(
        self, principal: NamedDependency[Principal], verification: NamedDependency[EmailVerification]
    ) -> Redirect:
        """As ``POST /v1/auth/verify-email/resend`` (its per-account limit included: 429 past it)."""
        await verification.resend(principal)
        return Redirect(path="/privacy/data?done=verification", status_code=303)

    @get("/disclosures")
    async def disclosures(
        self, principal: NamedDependency[Principal], disclosures: NamedDependency[DisclosureHistory]
    ) -> Template:
        """As ``GET /v1/me/disclosures``."""
        found = await disclosures.for_subject(principal.account_id)
        rows = [
            {
                "processor": d.processor,
                "categories": ", ".join(d.categories),
                "purpose": Purpose(d.purpose).value,
                "reference": d.reference,
                "occurred_at": d.occurred_at,
                "improvement_allowed": d.improvement_allowed,
            }
            for d in found
        ]
        return page("privacy_disclosures.html", disclosures=rows)
