"""``OPTIONS`` answers list every method a path takes.

Litestar 2 builds a path's default ``OPTIONS`` handler when the path's first handler is registered, closed over
that first route, and keeps it when more handlers join the path: ``OPTIONS /v1/me`` said ``GET, OPTIONS`` although
the path takes ``PATCH`` too (litestar-org/litestar#4169, fixed only in v3). Once every handler is registered, each
path's default handler is rebuilt from the path's final route, and the routing trie with it.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute

DEFAULT_OPTIONS_HANDLER = "options_handler"  # the name Litestar gives the handlers it adds itself


def correct_allow_headers(app: Litestar) -> None:
    """Rebuild Litestar's own ``OPTIONS`` handlers so that ``Allow`` names every method of their path."""
    rebuilt = False
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
            continue
        if len(set(route.route_handler_map) - {"OPTIONS"}) < 2:
            continue  # one method: the handler Litestar built with that (first and only) route names it already
        stale, _ = route.route_handler_map["OPTIONS"]
        if stale.handler_name != DEFAULT_OPTIONS_HANDLER or stale.include_in_schema:
            continue  # an OPTIONS handler of our own
        fresh = route.create_options_handler(route.path)
        fresh.owner = stale.owner
        fresh.on_registration(app)
        route.route_handlers = [fresh if handler is stale else handler for handler in route.route_handlers]
        route.route_handler_map["OPTIONS"] = (fresh, fresh.create_kwargs_model(path_parameters=route.path_parameters))
        rebuilt = True
    if rebuilt:
        app.asgi_router.construct_routing_trie()


__all__ = ["correct_allow_headers"]
