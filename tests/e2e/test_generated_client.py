"""The published contract works for a generated client (issue 16): ``openapi-python-client`` (pinned in the test
extras) turns ``/schema/openapi.json`` of a running ``dreamina serve`` into a client with no warnings, and that
client alone drives sign-up -> token -> upload -> generate -> poll -> download the output -> export -> prove
identity -> poll -> download the ZIP, against the embedded profile with the offline renderer."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from PIL import Image

from tests.loopback import http

from .conftest import UNTHROTTLED
from .test_serve_process import _start_serve

PASSWORD = "correct horse battery staple"
PACKAGE = "generated_client"
# The generator reads only JSON, octet-stream and text bodies as such; these media types are bytes too (the schema
# declares them as ``type: string, format: binary``), which is what its documented ``content_type_overrides`` says.
CONFIG = """\
post_hooks: []
content_type_overrides:
  image/png: application/octet-stream
  image/jpeg: application/octet-stream
  image/webp: application/octet-stream
  video/mp4: application/octet-stream
  application/zip: application/octet-stream
"""
OUTPUT_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/webp": b"RIFF", "image/jpeg": b"\xff\xd8\xff"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    process, base, _data, log_file = _start_serve(tmp_path, **UNTHROTTLED)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log_file.close()


def generate_client(base: str, into: Path) -> tuple[ModuleType, int]:
    """The client generated from the served document, imported from ``into``; and how many operations it has."""
    document = http.get(f"{base}/schema/openapi.json", timeout=30)
    assert document.status_code == 200
    (into / "openapi.json").write_bytes(document.content)
    (into / "config.yaml").write_text(CONFIG)
    generator = str(Path(sys.executable).with_name("openapi-python-client"))
    arguments = ["--path", "openapi.json", "--config", "config.yaml", "--meta", "none", "--output-path", PACKAGE]
    run = subprocess.run(
        [generator, "generate", *arguments],
        cwd=into,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "warning" not in output.lower() and "error" not in output.lower(), output
    operations = sum(
        1
        for item in document.json()["paths"].values()
        for method in item
        if method in {"get", "put", "post", "patch", "delete"}
    )
    sys.path.insert(0, str(into))
    return importlib.import_module(PACKAGE), operations


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Callable[[str], tuple[ModuleType, int]]]:
    into = tmp_path / "client"
    into.mkdir()
    yield lambda base: generate_client(base, into)
    if str(into) in sys.path:
        sys.path.remove(str(into))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def value(member: Any) -> Any:
    """A generated enum member's wire value (plain strings pass through)."""
    return getattr(member, "value", member)


def poll(read: Callable[[], Any], done: Callable[[Any], bool], what: str, seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        current = read()
        if done(current):
            return current
        assert time.monotonic() < deadline, f"{what} still {value(current.status)} after {seconds} s"
        time.sleep(0.3)


def reference_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


# The generator's code hands httpx the declared ``dreamina_device`` cookie per request, which httpx 0.28 deprecates.
@pytest.mark.filterwarnings("ignore:Setting per-request cookies:DeprecationWarning")
def test_a_generated_client_drives_the_whole_flow(
    server: str, generated: Callable[[str], tuple[ModuleType, int]]
) -> None:
    client_package, operations = generated(server)
    print(f"generated client: {operations} operations, no generator warnings")
    api = importlib.import_module(f"{PACKAGE}.api")
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    sign_up = importlib.import_module(f"{api.__name__}.identity.sign_up")
    create_token = importlib.import_module(f"{api.__name__}.identity.create_token")
    generation = {
        name: importlib.import_module(f"{api.__name__}.generation.{name}")
        for name in ("create_upload", "create_generation", "get_generation", "download_object")
    }
    rights = {
        name: importlib.import_module(f"{api.__name__}.data_rights.{name}")
        for name in ("submit_privacy_request", "verify_privacy_request", "get_privacy_request", "download_export")
    }
    anonymous = client_package.Client(base_url=server, timeout=httpx.Timeout(30), raise_on_unexpected_status=True)

    created = sign_up.sync_detailed(
        client=anonymous,
        body=models.SignUpBody(
            email="generated.client@example.com",
            password=PASSWORD,
            birth_date=date(1990, 1, 1),
            country="US",
            region="US-CA",
            accept_policy_version=1,
        ),
    )
    assert created.status_code == 201, created.content
    token = create_token.sync(
        client=anonymous, body=models.TokenRequest(email="generated.client@example.com", password=PASSWORD)
    )
    assert isinstance(token, models.TokenResponse), token
    user = client_package.AuthenticatedClient(
        base_url=server, token=token.access_token, timeout=httpx.Timeout(30), raise_on_unexpected_status=True
    )

    upload = generation["create_upload"].sync(
        client=user,
        body=models.UploadForm(file=types.File(payload=io.BytesIO(reference_png()), file_name="reference.png")),
    )
    assert isinstance(upload, models.UploadCreated), upload
    assert (upload.width, upload.height) == (96, 64)

    accepted = generation["create_generation"].sync(
        client=user,
        body=models.GenerationBody(
            kind=models.GenerationBodyKind.IMAGE,
            prompt="a lighthouse at dusk, in watercolour",
            reference_upload_ids=[upload.id],
        ),
    )
    assert accepted is not None and not isinstance(accepted, models.ProblemDetails), accepted
    done = poll(
        lambda: generation["get_generation"].sync(accepted.id, client=user),
        lambda g: value(g.status) in {"succeeded", "failed", "canceled"},
        "the generation",
    )
    assert value(done.status) == "succeeded", done.failure_reason
    assert done.outputs
    for output in done.outputs:
        link = urlsplit(output.url)
        query = parse_qs(link.query)
        key = unquote(link.path.split("/v1/objects/", 1)[1])
        downloaded = generation["download_object"].sync_detailed(
            key, client=anonymous, expires=int(query["expires"][0]), signature=query["signature"][0]
        )
        assert downloaded.status_code == 200
        body = downloaded.parsed.payload.read()
        assert body.startswith(OUTPUT_MAGIC[output.content_type]), body[:16]
        assert len(body) == output.bytes_
        with Image.open(io.BytesIO(body)) as picture:
            picture.verify()
        tampered = generation["download_object"].sync_detailed(
            key, client=anonymous, expires=int(query["expires"][0]), signature="0" * 64
        )
        assert tampered.status_code == 403 and tampered.parsed.code == "forbidden", tampered.content

    export = rights["submit_privacy_request"].sync(client=user, body=models.ExportRequestBody(type_="export"))
    assert isinstance(export, models.RequestAccepted), export
    if value(export.status) == "awaiting_verification":
        proof = models.VerifyBody(password=PASSWORD)
        proved = rights["verify_privacy_request"].sync(export.id, client=user, body=proof)
        assert isinstance(proved, models.RequestAccepted), proved
    completed = poll(
        lambda: rights["get_privacy_request"].sync(export.id, client=user),
        lambda r: value(r.status) in {"completed", "rejected", "cancelled"},
        "the export",
    )
    assert value(completed.status) == "completed"
    # the answer is the export's own variant of the request union, its outcome typed
    assert isinstance(completed, models.ExportRequestDetail), type(completed)
    assert completed.outcome.download == f"/v1/privacy/requests/{export.id}/download"
    assert completed.outcome.archive_bytes and completed.outcome.archive_bytes > 0
    archive = rights["download_export"].sync_detailed(export.id, client=user)
    assert archive.status_code == 200
    with zipfile.ZipFile(archive.parsed.payload) as opened:
        names = opened.namelist()
        assert opened.testzip() is None
    assert names, "the export archive is empty"
    print(f"generated client: {len(done.outputs)} output(s) and an export of {len(names)} files downloaded")
