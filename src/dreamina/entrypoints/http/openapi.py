"""OpenAPI schema tweaks: structs that refuse unknown fields say so (``additionalProperties: false``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Reference

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's struct plugin, plus ``additionalProperties: false`` for ``forbid_unknown_fields`` structs, so
    clients and fuzzers know extra members are refused rather than ignored."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        config = getattr(field_definition.type_, "__struct_config__", None)
        if isinstance(config, msgspec.structs.StructConfig) and config.forbid_unknown_fields:
            target = (
                schema_creator.schema_registry.from_reference(schema).schema
                if isinstance(schema, Reference)
                else schema
            )
            target.additional_properties = False
        return schema


AUTHENTICATED_PARAMETERS = frozenset({"principal", "staff"})
OPTIONALLY_AUTHENTICATED = "subject"  # a bearer token is optional, and refused when it is bad


def document_problem_responses(route_handlers: Iterable[Any], use_cases: Iterable[str]) -> None:
    """Add the problem responses every operation can give to its OpenAPI entry, derived from its signature.

    Every route can be rate limited (429); a body can be malformed, refused or conflict (400, 409, 413, 422);
    parameters can be invalid or name nothing (400, 404, 422); authenticated routes can refuse the caller or find
    their data erased (401, 403, 404, 410). Statuses a handler documents itself are left as they are.
    ``use_cases`` are the names of the dependencies that hand handlers their use cases (not parameters).
    """
    from dreamina.entrypoints.http.problems import problem_responses

    for handler in route_handlers:
        if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
            continue
        parameters = set(handler.parsed_fn_signature.parameters)
        statuses = {429}
        if "data" in parameters:
            statuses |= {400, 409, 413, 415, 422}
        if parameters - {"data", "request", OPTIONALLY_AUTHENTICATED, *use_cases, *AUTHENTICATED_PARAMETERS}:
            statuses |= {400, 404, 422}
        if "request" in parameters:  # reads the raw request: an optional bearer token, or a body of its own
            statuses |= {400, 401, 413}
        if OPTIONALLY_AUTHENTICATED in parameters:
            statuses |= {401}
        if parameters & AUTHENTICATED_PARAMETERS or handler.guards:
            statuses |= {401, 403, 404, 410}
        documented = dict(handler.responses or {})
        for status, spec in problem_responses(*sorted(statuses)).items():
            documented.setdefault(status, spec)
        handler.responses = documented
