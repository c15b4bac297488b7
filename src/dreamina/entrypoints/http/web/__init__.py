"""The web pages: the privacy center (/privacy, with the public policy at /privacy/policy) and the staff console
(/admin: the request queue, the policy desk, analytics, the audit trail), with their /static assets."""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Router
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from dreamina.domain.privacy.errors import DomainError
from dreamina.entrypoints.http.web.account_pages import AccountPages
from dreamina.entrypoints.http.web.pages import STATIC_DIR, csrf_middleware, error_pages, template_config
from dreamina.entrypoints.http.web.policy_pages import PolicyDesk, PolicyPages
from dreamina.entrypoints.http.web.privacy_center import PrivacyCenter
from dreamina.entrypoints.http.web.privacy_content import PrivacyContent
from dreamina.entrypoints.http.web.privacy_data import PrivacyData
from dreamina.entrypoints.http.web.privacy_rights import PrivacyRights
from dreamina.entrypoints.http.web.staff_children import StaffChildReports
from dreamina.entrypoints.http.web.staff_console import StaffConsole
from dreamina.entrypoints.http.web.staff_insight import StaffInsight
from dreamina.entrypoints.http.web.staff_requests import StaffRequests
from dreamina.entrypoints.http.web.staff_tickets import PRIVACY_TICKET_PAGES, SUPPORT_TICKET_PAGES
from dreamina.entrypoints.http.web.staff_trust import StaffTrustAndSafety
from dreamina.settings import Settings

__all__ = ["template_config", "web_routes"]


def web_routes(settings: Settings, status_for: Mapping[type[DomainError], int]) -> list[ControllerRouterHandler]:
    """The pages (CSRF-protected, left out of the OpenAPI schema) and their static files."""
    pages = Router(
        path="/",
        route_handlers=[
            PrivacyCenter,
            PrivacyRights,
            PrivacyData,
            PrivacyContent,
            PolicyPages,
            StaffConsole,
            PolicyDesk,
            StaffInsight,
            AccountPages,
            StaffRequests,
            StaffChildReports,
            PRIVACY_TICKET_PAGES,
            SUPPORT_TICKET_PAGES,
            StaffTrustAndSafety,
        ],
        middleware=[csrf_middleware(settings)],
        exception_handlers=error_pages(status_for),
        include_in_schema=False,
    )
    static = create_static_files_router(path="/static", directories=[STATIC_DIR], include_in_schema=False)
    return [pages, static]
