"""The OpenAPI document's truth beyond what the handlers' types say: structs that refuse unknown fields say so
(``additionalProperties: false``), unions of tagged structs name their tag (``discriminator``), every operation
has a readable id, downloads are declared as bytes, every problem response has real examples (a ``code`` the route
can answer), and the headers and cookies the API reads or sends are declared. The per-operation facts live in
:mod:`openapi_operations`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    Discriminator,
    Example,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.types.internal_types import PathParameterDefinition
from litestar.typing import FieldDefinition

from dreamina.domain.privacy import errors
from dreamina.entrypoints.http.openapi_operations import (
    BINARY_BODIES,
    DEVICE_COOKIE_READERS,
    OPERATION_IDS,
    SPECIFIC_PROBLEMS,
)
from dreamina.entrypoints.http.problems import PROBLEM_JSON, problem_responses
from dreamina.entrypoints.http.rate_limits import UNLIMITED_PATHS

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator


@dataclass
class TagDiscriminator(Discriminator):
    """A ``discriminator`` whose ``mapping`` is read from its variants' references when the document is written:
    Litestar names the components (and rewrites every reference to them) only once all schemas are known."""

    variants: tuple[tuple[str, Reference], ...] = field(default=())

    @property
    def _exclude_fields(self) -> set[str]:
        return {"variants"}

    def to_schema(self) -> dict[str, Any]:
        self.mapping = {tag: reference.ref for tag, reference in self.variants}
        return super().to_schema()


def tagged_variants(field_definition: FieldDefinition) -> list[type[msgspec.Struct]] | None:
    """The structs of a union of msgspec structs tagged in one field (``None`` and ``UNSET`` aside), else None."""
    if not field_definition.is_union:
        return None
    members = list(_union_members(field_definition))
    configs = [getattr(m, "__struct_config__", None) for m in members]
    tagged = [c for c in configs if isinstance(c, msgspec.structs.StructConfig) and c.tag is not None]
    if len(members) < 2 or len(tagged) != len(members) or len({c.tag_field for c in tagged}) != 1:
        return None
    return members


def _union_members(field_definition: FieldDefinition) -> Iterator[Any]:
    """A union's members, nested unions (``Annotated[A | B, ...] | None``) flattened, without None and UNSET."""
    for inner in field_definition.inner_types:
        if inner.is_union:
            yield from _union_members(inner)
        elif not inner.is_none_type and inner.annotation is not msgspec.UnsetType:
            yield inner.annotation


def discriminate(schema: Schema | Reference | None, field_definition: FieldDefinition) -> None:
    """Give the ``oneOf`` Litestar built for ``field_definition``, a union of tagged structs (msgspec's tagged
    union), a ``discriminator``: the tag field, each tag mapped to its variant's component, so generated clients
    pick the variant by its tag. Litestar lists the variants in the union's order; an optional union's ``null``
    moves outside the discriminated ``oneOf`` (a discriminator speaks for the components only)."""
    variants = tagged_variants(field_definition)
    if variants is None or not isinstance(schema, Schema) or not schema.one_of:
        return
    references = [s for s in schema.one_of if isinstance(s, Reference)]
    others = [s for s in schema.one_of if not isinstance(s, Reference)]
    if len(references) != len(variants):
        return
    discriminator = TagDiscriminator(
        property_name=str(variants[0].__struct_config__.tag_field),
        variants=tuple((str(v.__struct_config__.tag), r) for v, r in zip(variants, references, strict=True)),
    )
    if others:
        schema.one_of = [Schema(one_of=references, discriminator=discriminator), *others]
    else:
        schema.discriminator = discriminator


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's struct plugin, plus ``additionalProperties: false`` for ``forbid_unknown_fields`` structs, so
    clients and fuzzers know extra members are refused rather than ignored; and a ``discriminator`` on every member
    that is a union of tagged structs (:func:`discriminate`; :class:`DocumentedOperation` does it for bodies)."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        target = (
            schema_creator.schema_registry.from_reference(schema).schema if isinstance(schema, Reference) else schema
        )
        config = getattr(field_definition.type_, "__struct_config__", None)
        if isinstance(config, msgspec.structs.StructConfig) and config.forbid_unknown_fields:
            target.additional_properties = False
        hints = field_definition.get_type_hints(include_extras=True, resolve_generics=True)
        for member in msgspec.structs.fields(field_definition.type_):
            discriminate(
                (target.properties or {}).get(member.encode_name), FieldDefinition.from_annotation(hints[member.name])
            )
        return schema


def operation_id(handler: HTTPRouteHandler, method: Any, components: list[str | PathParameterDefinition]) -> str:
    """``OpenAPIConfig.operation_id_creator``: the name in ``OPERATION_IDS``; a route missing there gets its method
    and path words, each once (``tests/unit/test_openapi_contract.py`` asks for every route to be named)."""
    verb = str(getattr(method, "value", method)).upper()
    path = "/" + "/".join(f"{{{c.name}}}" if isinstance(c, PathParameterDefinition) else c for c in components)
    named = OPERATION_IDS.get(f"{verb} {path}")
    if named is not None:
        return named
    words: list[str] = []
    for component in [verb.lower(), *(c.name if isinstance(c, PathParameterDefinition) else c for c in components)]:
        words.extend(w for w in component.replace("-", "_").replace(".", "_").split("_") if w and w not in words)
    return words[0] + "".join(w.title() for w in words[1:])


AUTHENTICATED_PARAMETERS = frozenset({"principal", "staff"})
OPTIONALLY_AUTHENTICATED = "subject"  # a bearer token is optional, and refused when it is bad


def document_problem_responses(
    routes: Iterable[Any], use_cases: Iterable[str], status_for: Mapping[type[errors.DomainError], int]
) -> None:
    """Add the problem responses every operation can give to its OpenAPI entry, derived from its signature, with
    examples of the ``code`` values it can answer.

    Every route can be rate limited (429); a body can be malformed, refused or conflict (400, 409, 413, 415, 422);
    parameters can be invalid or name nothing (400, 404, 422); authenticated routes can refuse the caller or find
    their data erased (401, 404, 410), staff routes a caller without the role (403); a route that reads or writes
    the store answers 503 ``busy`` (with ``Retry-After``) while the store is busy or out. ``SPECIFIC_PROBLEMS`` adds
    an operation's own domain errors.
    ``use_cases`` are the names of the dependencies that hand handlers their use cases (not parameters);
    ``status_for`` maps domain errors to statuses as the exception handler does.
    """
    use_cases = frozenset(use_cases)
    for route in routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler) and handler.include_in_schema:
                _document(handler, route.path_format, use_cases, status_for)


def _document(
    handler: HTTPRouteHandler, path: str, use_cases: frozenset[str], status_for: Mapping[type[errors.DomainError], int]
) -> None:
    handler.operation_class = DocumentedOperation.of(handler)
    parameters = set(handler.parsed_fn_signature.parameters)
    statuses = set() if path in UNLIMITED_PATHS else {429}
    if "data" in parameters:
        statuses |= {400, 409, 413, 415, 422}
    if parameters - {"data", "request", OPTIONALLY_AUTHENTICATED, *use_cases, *AUTHENTICATED_PARAMETERS}:
        statuses |= {400, 404, 422}
    if "request" in parameters:  # reads the raw request: an optional bearer token, or a body of its own
        statuses |= {400, 401, 413}
    if OPTIONALLY_AUTHENTICATED in parameters:
        statuses |= {401}
    if parameters & AUTHENTICATED_PARAMETERS or handler.guards:
        statuses |= {401, 404, 410}
    if handler.guards:  # a caller without the staff role; elsewhere a 403 is one of the operation's own errors
        statuses |= {403}
    if parameters & (use_cases | AUTHENTICATED_PARAMETERS | {OPTIONALLY_AUTHENTICATED}) or handler.guards:
        statuses |= {503}
    declared = dict(handler.responses or {})
    statuses |= {s for s, spec in declared.items() if spec.media_type == PROBLEM_JSON}
    specific = [(status_of(e, status_for), e) for e in SPECIFIC_PROBLEMS.get(_operation_id_of(handler, path) or "", ())]
    statuses |= {s for s, _ in specific}
    examples = {s: _examples(s, [e for t, e in specific if t == s], bool(handler.guards)) for s in statuses}
    handler.responses = declared | problem_responses(*sorted(statuses), examples=examples)


def status_of(error: type[errors.DomainError], status_for: Mapping[type[errors.DomainError], int]) -> int:
    """The status the exception handler answers ``error`` with: its most specific class with a declared status."""
    return next(status_for[t] for t in error.__mro__ if t in status_for)


GENERIC_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("validation_failed", "The request is malformed"),
    401: (errors.AuthenticationFailed.code, errors.AuthenticationFailed.title),
    403: (errors.Forbidden.code, errors.Forbidden.title),
    404: (errors.NotFound.code, errors.NotFound.title),
    409: (errors.Conflict.code, errors.Conflict.title),
    410: (errors.KeyDestroyed.code, errors.KeyDestroyed.title),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: (errors.InvalidInput.code, errors.InvalidInput.title),
    429: ("too_many_requests", "Too many requests"),
    503: (errors.StoreBusy.code, errors.StoreBusy.title),
}
"""The code and title every route answering a status can give (as ``problems.py`` words them)."""
_ONLY_SPECIFIC = frozenset({403, 409})  # without a staff guard, a 403 or 409 is one of the operation's own errors


def _examples(status: int, specific: list[type[errors.DomainError]], guarded: bool) -> list[tuple[str, str]]:
    codes = [(e.code, e.title) for e in specific]
    generic = GENERIC_PROBLEMS.get(status)
    if generic is not None and (not codes or status not in _ONLY_SPECIFIC or (status == 403 and guarded)):
        codes.insert(0, generic)
    return list(dict.fromkeys(codes))


def _operation_id_of(handler: HTTPRouteHandler, path: str) -> str | None:
    return next((OPERATION_IDS[k] for m in sorted(handler.http_methods) if (k := f"{m} {path}") in OPERATION_IDS), None)


_RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": ("string", "the budget this route draws on: its allowance per 60 s window (`60; w=60`)"),
    "RateLimit-Limit": ("integer", "requests allowed per client in the window"),
    "RateLimit-Remaining": ("integer", "requests left in the window"),
    "RateLimit-Reset": ("integer", "seconds until the window resets"),
}
HEADERS: dict[str, OpenAPIHeader | Reference] = {
    name: OpenAPIHeader(schema=Schema(type=kind), description=text)  # type: ignore[arg-type]
    for name, (kind, text) in _RATE_LIMIT_HEADERS.items()
}
HEADERS["Retry-After"] = OpenAPIHeader(
    schema=Schema(type="integer", minimum=1),  # type: ignore[arg-type]
    description="seconds to wait before trying again",
)
HEADERS["Set-Cookie"] = OpenAPIHeader(
    schema=Schema(type="string"),  # type: ignore[arg-type]
    description="`dreamina_device=<id>; Path=/; Max-Age=34214400; Secure; HttpOnly; SameSite=Lax`, when the request "
    "minted a device id (a consent choice or a `Sec-GPC: 1` from a device without one)",
)
"""``components.headers``: the rate-limit headers every limited response carries (when the counters answer),
``Retry-After`` on 429 and 503, and the device cookie a successful answer may set."""
_UNLIMITED = frozenset(OPERATION_IDS[f"GET {path}"] for path in UNLIMITED_PATHS)


def _optional_string(name: str, where: str, description: str) -> Parameter:
    return Parameter(name=name, param_in=where, schema=Schema(type="string"), description=description)  # type: ignore[arg-type]


GPC_HEADER = _optional_string(
    "Sec-GPC",
    "header",
    "Global Privacy Control: exactly `1` opts this device (and the signed-in account) out of sale and sharing, "
    "once; other values are ignored. May set the `dreamina_device` cookie.",
)
DEVICE_COOKIE = _optional_string(
    "dreamina_device",
    "cookie",
    "first-party device id remembering an anonymous device's consent choices (set by the API; a value of another "
    "shape is ignored)",
)


@dataclass
class DocumentedOperation(Operation):
    """An operation that completes itself once Litestar has built it: binary bodies, the discriminator of a body
    that is a union of tagged structs, the ``Sec-GPC`` header and ``dreamina_device`` cookie it reads, and the
    ``RateLimit-*`` / ``Retry-After`` headers it sends."""

    body_type: ClassVar[FieldDefinition | None] = None
    answer_type: ClassVar[FieldDefinition | None] = None

    @classmethod
    def of(cls, handler: HTTPRouteHandler) -> type[DocumentedOperation]:
        """The operation class for ``handler``: one that knows its body and answer types when either is a union of
        tagged structs (Litestar builds the operation from schemas alone)."""
        signature = handler.parsed_fn_signature
        body, answer = signature.parameters.get("data"), signature.return_type
        if not any(t is not None and tagged_variants(t) is not None for t in (body, answer)):
            return cls
        return type(cls.__name__, (cls,), {"body_type": body, "answer_type": answer})

    def __post_init__(self) -> None:
        self._discriminate()
        media_types = BINARY_BODIES.get(self.operation_id or "")
        if media_types and self.responses:
            success = self.responses.get("200")
            if success is not None and not isinstance(success, Reference):
                binary = Schema(type="string", format="binary")  # type: ignore[arg-type]
                success.content = {media_type: OpenAPIMediaType(schema=binary) for media_type in media_types}
        parameters = [*(self.parameters or []), GPC_HEADER]
        if self.operation_id in DEVICE_COOKIE_READERS:
            parameters.append(DEVICE_COOKIE)
        self.parameters = parameters
        for status, response in (self.responses or {}).items():
            if isinstance(response, Reference):
                continue
            headers = dict(response.headers or {})
            names = [*(_RATE_LIMIT_HEADERS if self.operation_id not in _UNLIMITED else ())]
            names += ["Retry-After"] if status in {"429", "503"} else []
            names += ["Set-Cookie"] if status.startswith("2") else []
            headers.update({name: Reference(ref=f"#/components/headers/{name}") for name in names})
            response.headers = headers or None
            for media in (response.content or {}).values():
                # Example ids name the examples; the Example objects themselves carry no id in OpenAPI.
                media.examples = {
                    key: Example(summary=e.summary, value=e.value) if isinstance(e, Example) else e
                    for key, e in (media.examples or {}).items()
                } or None

    def _discriminate(self) -> None:
        if self.body_type is not None and isinstance(self.request_body, RequestBody):
            for media in self.request_body.content.values():
                discriminate(media.schema, self.body_type)
        for status, response in (self.responses or {}).items():
            if self.answer_type is not None and status.startswith("2") and isinstance(response, OpenAPIResponse):
                for media in (response.content or {}).values():
                    discriminate(media.schema, self.answer_type)
