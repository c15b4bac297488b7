"""Routes of marketing mail: admins create a campaign and follow its sending; anyone holding a mailed unsubscribe
link stops marketing mail in one click (RFC 8058), without signing in.

``GET`` on the link only shows a page with a button (mail scanners and link previews fetch links: a GET must change
nothing); the ``POST`` a mail client sends for ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (or the
button) records the objection. Both answer the same for every genuine link, whatever the account's state, so the
link is no oracle; a forged, mangled or expired link is a 400 ``invalid_token``.
"""

from __future__ import annotations

import html
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from msgspec import Meta

from dreamina.domain.consent.marketing import MAX_BODY, MAX_SUBJECT_LINE, MarketingMail
from dreamina.domain.consent.marketing_links import UnsubscribeLinkInvalid
from dreamina.domain.identity.accounts import Principal
from dreamina.entrypoints.http.auth import ADMINS, SECURED, STAFF
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.problems import problem_responses
from dreamina.entrypoints.http.texts import stated_text
from dreamina.ports.marketing import MarketingCampaign


class CampaignCreateBody(msgspec.Struct, forbid_unknown_fields=True):
    # not ``subject``: Litestar reads a failed body field named like a dependency (``subject``) as a server error
    subject_line: Annotated[
        str,
        Meta(min_length=1, max_length=MAX_SUBJECT_LINE),
        stated_text(MAX_SUBJECT_LINE, min_length=1, description="one line, no line breaks"),
    ]
    body: Annotated[
        str,
        Meta(min_length=1, max_length=MAX_BODY),
        stated_text(MAX_BODY, min_length=1, multiline=True, description="plain text; the unsubscribe link is added"),
    ]


class CampaignBody(msgspec.Struct):
    """A campaign and how far it got: ``pending``, ``sending`` or ``done``; counts only, nobody named."""

    id: UUID
    subject_line: str
    status: str
    sent: int
    skipped: int
    created_at: str
    started_at: str | None
    finished_at: str | None


def _campaign(c: MarketingCampaign) -> CampaignBody:
    return CampaignBody(
        id=c.id,
        subject_line=c.subject_line,
        status=c.status.value,
        sent=c.sent,
        skipped=c.skipped,
        created_at=c.created_at.isoformat(),
        started_at=None if c.started_at is None else c.started_at.isoformat(),
        finished_at=None if c.finished_at is None else c.finished_at.isoformat(),
    )


class MarketingAdminController(Controller):
    path = "/v1/admin/marketing/campaigns"
    tags = ["admin", "marketing"]
    security = SECURED
    dependencies = STAFF

    @post(
        "/",
        guards=[ADMINS],
        status_code=HTTP_201_CREATED,
        summary="Create a marketing campaign; a job mails it to the subjects who may receive it (audited)",
        responses=problem_responses(422),
    )
    async def create(
        self,
        data: JSONBody[CampaignCreateBody],
        staff: NamedDependency[Principal],
        marketing: NamedDependency[MarketingMail],
    ) -> CampaignBody:
        """Answers at once. Each recipient's consent, objection, restriction, erasure and account state is checked
        when the batch reaches them."""
        return _campaign(await marketing.create(staff.account_id, data.subject_line, data.body))

    @get("/{campaign_id:uuid}", guards=[ADMINS], summary="How far a campaign has got", responses=problem_responses(404))
    async def status(self, campaign_id: FromPath[UUID], marketing: NamedDependency[MarketingMail]) -> CampaignBody:
        return _campaign(await marketing.campaign(campaign_id))


Token = Annotated[str, QueryParameter(min_length=1, max_length=200, description="the token of the mailed link")]

_PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Dreamina: {title}</title></head>"
    "<body><h1>{title}</h1><p>{text}</p>{form}</body></html>"
)


def _page(title: str, text: str, form: str = "") -> Response[str]:
    return Response(_PAGE.format(title=title, text=text, form=form), media_type=MediaType.HTML)


@get(
    "/v1/marketing/unsubscribe",
    tags=["marketing"],
    summary="The page a mailed unsubscribe link opens: a button that stops marketing mail (changes nothing itself)",
    media_type=MediaType.HTML,
    responses=problem_responses(400),
)
async def unsubscribe_page(token: Token, marketing: NamedDependency[MarketingMail]) -> Response[str]:
    marketing.check_link(token)
    action = html.escape(f"/v1/marketing/unsubscribe?token={token}", quote=True)
    form = (
        f'<form method=post action="{action}"><input type=hidden name=List-Unsubscribe value=One-Click>'
        "<button type=submit>Stop marketing mail</button></form>"
    )
    return _page("Stop marketing mail", "You will get no more marketing mail from Dreamina.", form)


@post(
    "/v1/marketing/unsubscribe",
    tags=["marketing"],
    status_code=200,
    summary="One-click unsubscribe (RFC 8058): records an objection to marketing, no sign-in needed; idempotent",
    media_type=MediaType.HTML,
    responses=problem_responses(400),
)
async def unsubscribe(token: Token, marketing: NamedDependency[MarketingMail]) -> Response[str]:
    """The body a mail client sends (``List-Unsubscribe=One-Click``) is not needed: the link's token is the proof."""
    await marketing.unsubscribe(token)
    return _page(
        "Unsubscribed",
        "You will get no more marketing mail from Dreamina. You can change this in your privacy settings.",
    )


FACE = HttpFace(
    routes=[MarketingAdminController, unsubscribe_page, unsubscribe],
    problems={UnsubscribeLinkInvalid: 400},
    dependencies={"marketing": lambda c: c.consent.marketing},
)
