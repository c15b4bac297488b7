"""The Litestar application factory. One app per call: nothing global, nothing built at import time."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from dreamina.adapters.rate_limit_counters import request_counters
from dreamina.bootstrap import Container, build_container, warn_of_development_defaults
from dreamina.entrypoints.http import (
    routes_abuse,
    routes_audit,
    routes_billing,
    routes_children,
    routes_consent,
    routes_data_rights,
    routes_generation,
    routes_identity,
    routes_marketing,
    routes_moderation,
    routes_privacy,
    routes_security,
    routes_support,
)
from dreamina.entrypoints.http.allow import correct_allow_headers
from dreamina.entrypoints.http.auth import provide_optional_subject
from dreamina.entrypoints.http.cors import cors_config, credentials_for_allowed_origins
from dreamina.entrypoints.http.device import device_cookie_setter, honour_gpc
from dreamina.entrypoints.http.face import HttpFace, joined_dependencies, joined_problems
from dreamina.entrypoints.http.middleware import edge, on_response_start, security_headers
from dreamina.entrypoints.http.openapi import (
    HEADERS,
    StrictStructSchemaPlugin,
    document_problem_responses,
    operation_id,
)
from dreamina.entrypoints.http.problems import STATUS_FOR, exception_handlers
from dreamina.entrypoints.http.rate_limits import CONTENT, GENERAL, SENSITIVE, RateLimiter
from dreamina.entrypoints.http.request import DreaminaRequest
from dreamina.entrypoints.http.sequential_dependencies import install as resolve_dependencies_in_order
from dreamina.entrypoints.http.web import template_config, web_routes
from dreamina.settings import Settings, load_settings, trusted_proxy_networks

FACES: tuple[HttpFace, ...] = (
    routes_identity.FACE,
    routes_privacy.FACE,
    routes_consent.FACE,
    routes_marketing.FACE,
    routes_data_rights.FACE,
    routes_billing.FACE,
    routes_generation.FACE,
    routes_moderation.FACE,
    routes_children.FACE,
    routes_abuse.FACE,
    routes_support.FACE,
    routes_security.FACE,
    routes_audit.FACE,
)
"""Every module's face: its routes, its problem statuses, the use cases its handlers receive."""


# The settings the app itself is built from (its budgets and their counters, proxies, CORS, body limit, the pages' CSRF
# secret); everything else reaches a handler through the container in the app's state. Two containers whose settings
# agree on these can share one app (the tests swap containers in a kept app: building one costs about a second).
APP_SETTINGS = (
    "redis_url",
    "rate_limit_sensitive_per_minute",
    "rate_limit_content_per_minute",
    "rate_limit_general_per_minute",
    "trusted_proxies",
    "cors_allowed_origins",
    "max_body_bytes",
    "master_key",
)


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> Litestar:
    """Build the API. Given a container (tests), the caller owns it; otherwise the app builds and closes its own.
    The app reads only :data:`APP_SETTINGS` from the settings (the rest only to build its own container)."""
    settings = container.settings if container is not None else (settings or load_settings())
    resolve_dependencies_in_order()  # no task group per request for dependencies that never wait on each other

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # A caller-owned container sits in the state from the start (and a caller may put another one there
        # between runs of the lifespan: the tests reuse one app per process); otherwise the app builds its own.
        owned = container is None
        wired = build_container(settings) if owned else app.state.container
        app.state.container = wired
        try:
            await wired.start()
            warn_of_development_defaults(wired.settings)
            if owned:
                # What start-up built (routes, the container, every imported module) lives as long as the process:
                # moved out of the collector's generations, a full collection no longer walks it on every run.
                gc.freeze()
            yield
        finally:
            await counters.aclose()
            if owned:
                await wired.aclose()

    counters = request_counters(settings.redis_url)
    budgets = {
        SENSITIVE: settings.rate_limit_sensitive_per_minute,
        CONTENT: settings.rate_limit_content_per_minute,
        GENERAL: settings.rate_limit_general_per_minute,
    }
    use_cases = joined_dependencies(FACES)
    status_for = {**STATUS_FOR, **joined_problems(FACES)}
    cors = cors_config(settings)
    app = Litestar(
        route_handlers=[*(route for face in FACES for route in face.routes), *web_routes(settings, status_for)],
        # A caller-owned container is usable before the lifespan runs (ASGI test transports may skip it).
        state=State({"rate_limit_counters": counters} | ({"container": container} if container is not None else {})),
        dependencies={**use_cases, "subject": Provide(provide_optional_subject)},
        exception_handlers=exception_handlers(joined_problems(FACES)),
        middleware=[edge(trusted_proxy_networks(settings), RateLimiter(budgets, counters))],
        lifespan=[lifespan],
        before_request=honour_gpc,
        before_send=[
            on_response_start(
                device_cookie_setter(cross_site=cors is not None),
                *([credentials_for_allowed_origins] if cors is not None else []),
                security_headers,
            )
        ],
        request_max_body_size=settings.max_body_bytes,
        request_class=DreaminaRequest,
        cors_config=cors,
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="Dreamina API",
            version="1.0.0",
            description="AI image and video generation, with a privacy policy enforced by code.",
            path="/schema",
            operation_id_creator=operation_id,
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", description="opaque access token")
                },
                headers=HEADERS,
            ),
        ),
        plugins=[StrictStructSchemaPlugin()],
        template_config=template_config(),
        debug=False,
    )
    correct_allow_headers(app)
    document_problem_responses(app.routes, use_cases, status_for)
    return app


def app_from_environment() -> Litestar:
    """Factory for ASGI servers (``uvicorn --factory dreamina.entrypoints.http.app:app_from_environment``)."""
    from dreamina.adapters.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
