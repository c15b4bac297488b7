"""The published OpenAPI document names operations readably, declares downloads as bytes, gives every problem
response real examples, and declares the headers and cookies the API reads and sends (issue 16 findings 1, 3-5)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.params import JSONBody
from litestar.serialization import encode_json
from litestar.types.internal_types import PathParameterDefinition

from dreamina.bootstrap import build_container, memory_database
from dreamina.domain.privacy.errors import DomainError
from dreamina.entrypoints.http.app import create_app
from dreamina.entrypoints.http.openapi import (
    GENERIC_PROBLEMS,
    StrictStructSchemaPlugin,
    document_problem_responses,
    operation_id,
)
from dreamina.entrypoints.http.openapi_operations import DEVICE_COOKIE_READERS, OPERATION_IDS
from dreamina.entrypoints.http.problems import PROBLEM_BASE, PROBLEM_JSON
from dreamina.ports.data_rights import RequestType
from dreamina.settings import load_settings

METHODS = {"get", "put", "post", "patch", "delete"}
CAMEL = re.compile(r"[a-z]+(?:[A-Z0-9][a-z0-9]*)*")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = load_settings({"DREAMINA_DATA_DIR": str(tmp_path_factory.mktemp("oas"))})
    app = create_app(container=build_container(settings, uow=memory_database().unit_of_work))
    loaded: dict[str, Any] = json.loads(encode_json(app.openapi_schema.to_schema()))
    return loaded


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def words(identifier: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[a-z0-9]+|[A-Z][a-z0-9]*", identifier)]


def every_domain_error() -> list[type[DomainError]]:
    import dreamina.entrypoints.http.openapi_operations  # noqa: F401  (imports every module's errors)

    found, todo = [], [DomainError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_operation_has_a_readable_unique_camel_case_id(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for identifier in ids:
        assert CAMEL.fullmatch(identifier), identifier
        assert len(words(identifier)) == len(set(words(identifier))), f"{identifier} repeats a word"
    named = {f"{method} {path}" for method, path, _ in operations(document)}
    assert named <= set(OPERATION_IDS), f"routes without a name in OPERATION_IDS: {sorted(named - set(OPERATION_IDS))}"
    print(f"{len(ids)} operations, every id unique and camelCase")


def test_a_route_missing_from_the_table_still_gets_a_camel_case_id_without_repeats() -> None:
    components: list[str | PathParameterDefinition] = [
        "v1",
        "privacy",
        "requests",
        PathParameterDefinition("request_id", "request_id:uuid", str, None),
        "cancel",
    ]
    made = operation_id(None, "PUT", components)  # type: ignore[arg-type]
    assert made == "putV1PrivacyRequestsRequestIdCancel"
    assert operation_id(None, "GET", ["v1", "me", "me"]) == "getV1Me"  # type: ignore[arg-type]
    assert operation_id(None, "POST", ["v1", "privacy", "requests"]) == "submitPrivacyRequest"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "media_types"),
    [
        ("/v1/objects/{key}", {"image/png", "image/jpeg", "image/webp", "video/mp4"}),
        ("/v1/privacy/requests/{request_id}/download", {"application/zip"}),
    ],
)
def test_downloads_are_declared_as_binary_with_their_media_types(
    document: dict[str, Any], path: str, media_types: set[str]
) -> None:
    content = document["paths"][path]["get"]["responses"]["200"]["content"]
    assert set(content) == media_types
    assert all(media["schema"] == {"type": "string", "format": "binary"} for media in content.values())


def test_every_problem_response_has_real_examples(document: dict[str, Any]) -> None:
    titles = {cls.code: cls.title for cls in every_domain_error()} | dict(GENERIC_PROBLEMS.values())
    checked = 0
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            media = response.get("content", {}).get(PROBLEM_JSON)
            if media is None:
                continue
            examples = media.get("examples") or {}
            assert examples, f"{method} {path} {status} has no example"
            for name, example in examples.items():
                body = example["value"]
                assert body["status"] == int(status), (method, path, status, body)
                assert body["code"] == name and body["code"] in titles, (method, path, status, body)
                assert body["type"] == PROBLEM_BASE + body["code"]
                assert body["title"] == titles[body["code"]], (method, path, body)
                assert body["code"] in response["description"]
                checked += 1
    assert checked > 300
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert "examples" not in problem and "examples" not in json.dumps(problem["properties"]), "random examples"


def codes(document: dict[str, Any], path: str, method: str, status: str) -> set[str]:
    response = document["paths"][path][method]["responses"][status]
    return set(response["content"][PROBLEM_JSON]["examples"])


def test_undocumented_answers_are_declared(document: dict[str, Any]) -> None:
    # 403 on a signed download whose signature fails; 503 busy (with Retry-After) on routes that use the store
    assert codes(document, "/v1/objects/{key}", "get", "403") == {"forbidden"}
    for path, method in [
        ("/v1/me", "get"),
        ("/v1/uploads", "post"),
        ("/v1/privacy/requests/{request_id}/code", "post"),
    ]:
        assert codes(document, path, method, "503") == {"busy"}
        headers = document["paths"][path][method]["responses"]["503"]["headers"]
        assert headers["Retry-After"] == {"$ref": "#/components/headers/Retry-After"}
    assert codes(document, "/v1/uploads", "post", "415") == {"unsupported_media_type", "unsupported_image"}
    assert codes(document, "/v1/uploads/{upload_id}", "delete", "409") == {"upload_in_use"}
    assert "insufficient_credits" in codes(document, "/v1/generations", "post", "402")
    # the unlimited probes answer no 429 and carry no rate-limit headers; limited routes do
    assert set(document["paths"]["/health"]["get"]["responses"]) == {"200"}
    assert not any(
        h.startswith("RateLimit") for h in document["paths"]["/health"]["get"]["responses"]["200"]["headers"]
    )
    ok = document["paths"]["/v1/me"]["get"]["responses"]["200"]["headers"]
    assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"} <= set(ok)
    assert set(document["components"]["headers"]) >= {"Retry-After", "RateLimit-Limit"}


def test_the_gpc_header_and_the_device_cookie_are_declared(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        parameters = {(p["in"], p["name"]) for p in op.get("parameters", [])}
        assert ("header", "Sec-GPC") in parameters, f"{method} {path}"
        reads_cookie = op["operationId"] in DEVICE_COOKIE_READERS
        assert (("cookie", "dreamina_device") in parameters) == reads_cookie, f"{method} {path}"
    assert DEVICE_COOKIE_READERS == {
        "getConsent",
        "setConsent",
        "listConsentHistory",
        "recordAnalyticsEvents",
        "createToken",
    }  # where entrypoints/http/device.py's device_id() is called


def test_unions_a_generator_would_name_by_position_are_named_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    relationship = schemas["ChildReportBody"]["properties"]["relationship"]
    refs = [s["$ref"] for s in relationship.get("oneOf", []) if "$ref" in s]
    assert refs == ["#/components/schemas/Relationship"]
    assert set(schemas["Relationship"]["enum"]) == {"parent", "guardian", "other"}
    errors = schemas["ProblemDetails"]["properties"]["errors"]
    items = [s["items"] for s in errors["oneOf"] if s.get("type") == "array"]
    assert items == [{"$ref": "#/components/schemas/ProblemFieldError"}]
    assert set(schemas["ProblemFieldError"]["properties"]) == {"key", "message", "source"}


def test_a_minted_device_cookie_is_declared_on_successful_answers(document: dict[str, Any]) -> None:
    consent = document["paths"]["/v1/consent"]["put"]["responses"]["200"]["headers"]
    assert consent["Set-Cookie"] == {"$ref": "#/components/headers/Set-Cookie"}
    assert "dreamina_device=" in document["components"]["headers"]["Set-Cookie"]["description"]


def test_the_contract_test_pins_its_generator() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert re.search(r'"openapi-python-client==\d+\.\d+\.\d+"', pyproject)


def free_form(document: dict[str, Any], schema: Any, where: str = "", seen: set[str] | None = None) -> list[str]:
    """Where ``schema`` (references followed) lets through an object of any shape: ``additionalProperties`` true or
    an empty schema, an object with neither properties nor a schema for further members, or an empty schema."""
    seen = set() if seen is None else seen
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return free_form(document, document["components"]["schemas"][name], name, seen)
    extra = schema.get("additionalProperties")
    found = []
    if schema == {} or extra is True or extra == {}:
        found.append(where)
    elif schema.get("type") == "object" and "properties" not in schema and not isinstance(extra, dict):
        found.append(where)
    for name, member in schema.get("properties", {}).items():
        found += free_form(document, member, f"{where}.{name}", seen)
    found += free_form(document, schema.get("items"), f"{where}[]", seen)
    if extra:  # a schema for further members (an empty one is reported above)
        found += free_form(document, extra, f"{where}{{}}", seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for i, member in enumerate(schema.get(key, [])):
            found += free_form(document, member, f"{where}|{i}", seen)
    return found


def answer_schema(document: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    schema: dict[str, Any] = document["paths"][path][method]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    return schema


def test_free_form_finds_what_it_should() -> None:
    document = {"components": {"schemas": {"Loose": {"type": "object", "additionalProperties": {}}}}}
    assert free_form(document, {"$ref": "#/components/schemas/Loose"}) == ["Loose"]
    assert free_form(document, {"type": "object", "properties": {"a": {"type": "object"}}}) == [".a"]
    assert free_form(document, {"type": "array", "items": {}}) == ["[]"]
    typed_map = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
    assert free_form(document, typed_map) == []


@pytest.mark.parametrize(
    "path",
    [
        "/v1/privacy/requests/{request_id}/report",
        "/v1/privacy/requests/{request_id}",
        "/v1/admin/privacy/requests/{request_id}",
    ],
)
def test_the_access_report_and_a_request_have_no_free_form_object(document: dict[str, Any], path: str) -> None:
    assert free_form(document, answer_schema(document, path)) == []


DETAILS_OF = {
    "access": "NoteDetails",
    "export": "NoteDetails",
    "erasure": "ErasureDetails",
    "rectification": "RectificationDetails",
    "objection": "ObjectionDetails",
    "restriction": "RestrictionDetails",
}


def test_a_request_carries_the_details_of_its_own_type_and_a_typed_outcome(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    body = document["paths"]["/v1/privacy/requests"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    for union in (body, answer_schema(document, "/v1/privacy/requests/{request_id}")):
        for tag, ref in union["discriminator"]["mapping"].items():
            details = schemas[ref.rsplit("/", 1)[-1]]["properties"]["details"]
            refs = [s["$ref"] for s in details.get("oneOf", [details]) if "$ref" in s]
            assert refs == [f"#/components/schemas/{DETAILS_OF[tag]}"], (ref, details)
    outcome = schemas["RequestOutcome"]
    assert set(outcome["properties"]) == {
        "report",
        "download",
        "archive_bytes",
        "expires_at",
        "completion_id",
        "fields_corrected",
        "objection_recorded",
        "objection_withdrawn",
        "restriction",
        "resolved_by_staff",
    }
    assert outcome["additionalProperties"] is False and outcome["required"] == []


@pytest.mark.parametrize(
    ("path", "method", "where"),
    [
        ("/v1/privacy/requests", "post", "requestBody"),
        ("/v1/privacy/requests/{request_id}", "get", "200"),
        ("/v1/admin/privacy/requests/{request_id}", "get", "200"),
    ],
)
def test_the_privacy_request_unions_are_discriminated_by_type(
    document: dict[str, Any], path: str, method: str, where: str
) -> None:
    operation = document["paths"][path][method]
    content = operation["requestBody" if where == "requestBody" else "responses"]
    content = content["content"] if where == "requestBody" else content[where]["content"]
    union = content["application/json"]["schema"]
    discriminator = union["discriminator"]
    assert discriminator["propertyName"] == "type"
    assert sorted(discriminator["mapping"]) == sorted(t.value for t in RequestType)
    assert sorted(discriminator["mapping"].values()) == sorted(member["$ref"] for member in union["oneOf"])
    for tag, ref in discriminator["mapping"].items():
        variant = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert variant["properties"]["type"]["const"] == tag and "type" in variant["required"]


class Circle(msgspec.Struct, tag_field="shape", tag="circle", forbid_unknown_fields=True):
    radius: float


class Square(msgspec.Struct, tag_field="shape", tag="square"):
    side: float


class Drawing(msgspec.Struct):
    first: Circle | Square
    second: Annotated[Circle | Square, msgspec.Meta(description="maybe none")] | None
    plain: int | str  # not tagged structs: no discriminator


def test_any_union_of_tagged_structs_is_discriminated() -> None:
    @post("/drawings", sync_to_thread=False)
    def draw(data: JSONBody[Circle | Square]) -> Drawing:
        return Drawing(first=data, second=None, plain=1)

    @get("/shapes", sync_to_thread=False)
    def shape() -> Circle | Square | None:
        return None

    app = Litestar([draw, shape], plugins=[StrictStructSchemaPlugin()])
    document_problem_responses(app.routes, (), {})
    loaded = json.loads(encode_json(app.openapi_schema.to_schema()))
    mapping = {"circle": "#/components/schemas/Circle", "square": "#/components/schemas/Square"}
    tagged = {"propertyName": "shape", "mapping": mapping}
    refs = [{"$ref": mapping["circle"]}, {"$ref": mapping["square"]}]
    body = loaded["paths"]["/drawings"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"oneOf": refs, "discriminator": tagged}
    drawing = loaded["components"]["schemas"]["Drawing"]["properties"]
    assert drawing["first"] == {"oneOf": refs, "discriminator": tagged}
    # optional: the null stays outside the discriminated union, and the member keeps its description
    assert drawing["second"]["oneOf"] == [{"oneOf": refs, "discriminator": tagged}, {"type": "null"}]
    assert drawing["second"]["description"] == "maybe none"
    assert "discriminator" not in json.dumps(drawing["plain"])
    answer = loaded["paths"]["/shapes"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["oneOf"] == [{"oneOf": refs, "discriminator": tagged}, {"type": "null"}]
