"""OpenAPI schema tweaks: structs that refuse unknown fields say so (``additionalProperties: false``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
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
