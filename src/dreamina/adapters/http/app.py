"""The Litestar application factory. One app per call: nothing global, nothing built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from dreamina.adapters.http.auth import provide_container
from dreamina.adapters.http.middleware import request_context
from dreamina.adapters.http.problems import EXCEPTION_HANDLERS
from dreamina.adapters.http.routes import ROUTES
from dreamina.adapters.http.routes_generation import GENERATION_ROUTES
from dreamina.bootstrap import Container, build_container
from dreamina.settings import Settings, load_settings


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> Litestar:
    """Build the API. Given a container (tests), the caller owns it; otherwise the app builds and closes its own."""
    settings = container.settings if container is not None else (settings or load_settings())

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        owned = container is None
        wired = container if container is not None else build_container(settings)
        app.state.container = wired
        try:
            await wired.start()
            yield
        finally:
            if owned:
                await wired.aclose()

    return Litestar(
        route_handlers=[*ROUTES, *GENERATION_ROUTES],
        dependencies={"container": Provide(provide_container, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_context],
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="Dreamina API",
            version="1.0.0",
            description="AI image and video generation, with a privacy policy enforced by code.",
            path="/schema",
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", description="opaque access token")
                }
            ),
        ),
        debug=False,
    )


def app_from_environment() -> Litestar:
    """Factory for ASGI servers (``uvicorn --factory dreamina.adapters.http.app:app_from_environment``)."""
    from dreamina.adapters.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
