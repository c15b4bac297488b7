"""The staff console (/admin): its sign-in and what its pages share. The queues are in their own modules
(``staff_requests``, ``staff_children``, ``staff_tickets``), each page behind the guard its JSON API twin uses.

A signed-in account without a staff role gets 403 on every page but the sign-in form; a staff member gets 403 on the
pages the API refuses to their role (``auth.CONSOLE_*``).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import QueryParameter

from dreamina.entrypoints.http.web.privacy_center import SignInPages

ReasonQuery = Annotated[str | None, QueryParameter(min_length=1, max_length=2000)]
"""Why a staff member opens something personal: absent, the page asks for it; given, the view is audited with it."""


class ReasonForm(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class StaffConsole(SignInPages):
    path = "/admin"
    landing = "/admin/queue"  # every staff role may read the privacy request queue (as ``GET /v1/admin/...``)
    title = "Staff console"
