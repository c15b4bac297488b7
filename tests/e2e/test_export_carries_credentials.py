"""The privacy export (G5) carries the subject's outputs as they are stored: signed, with their content credentials
(issue 17), byte for byte."""

from __future__ import annotations

import io
import json
import zipfile

from dreamina.adapters.memory.generation import ManualJobQueue
from dreamina.bootstrap import Container
from tests.e2e.helpers import signed_in
from tests.http_client import AsyncTestClient
from tests.provenance import assert_generated_by_ai, assert_nothing_personal

from .data_rights_helpers import submit_proven


async def test_the_export_holds_the_signed_outputs(client: AsyncTestClient, container: Container) -> None:
    headers = await signed_in(client, "grace@example.com")
    subject = (await client.get("/v1/me", headers=headers)).json()["id"]
    submitted = [
        await client.post("/v1/generations", headers=headers, json=body)
        for body in (
            {"kind": "image", "prompt": "grace's cat on the sofa", "params": {"count": 2}},
            {"kind": "video", "prompt": "grace's garden at dawn", "params": {"duration_seconds": 1}},
        )
    ]
    assert all(s.status_code == 202 for s in submitted)
    queue = container.generation.queue
    assert isinstance(queue, ManualJobQueue)
    await queue.drain(container.generation.runner.run)

    request_id = (await submit_proven(client, headers, "export"))["id"]
    assert (await container.data_rights.jobs.run_due())["done"] == 1
    response = await client.get(f"/v1/privacy/requests/{request_id}/download", headers=headers)
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))

    exported = json.loads(archive.read("generations.json"))
    outputs = [output for generation in exported for output in generation["outputs"]]
    assert sorted(o["content_type"] for o in outputs) == ["image/png", "image/png", "video/mp4"]
    for output in outputs:
        assert output["file"] in archive.namelist()  # the record names the file where the archive holds it
        stored = await container.infra.object_store.get(f"outputs/{subject}/" + output["file"].split("/", 2)[2])
        content = archive.read(output["file"])
        assert content == stored and len(content) == output["bytes"]  # the stored bytes, credentials and all
        assert_generated_by_ai(content, output["content_type"], provider="offline")
        ids = [g["id"] for g in exported]
        assert_nothing_personal(content, output["content_type"], "grace", subject, *ids)
