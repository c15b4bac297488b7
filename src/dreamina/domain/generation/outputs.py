"""Storing what a provider produced: signed with content credentials (a C2PA manifest saying it is AI-generated),
streamed into the object store under fixed keys, so a retried job replaces its earlier attempt's outputs rather than
adding to them. No output is stored unsigned: one that cannot carry credentials fails the job."""

from __future__ import annotations

from contextlib import aclosing

from dreamina.domain.generation.rules import outputs_prefix
from dreamina.ports.generation import Generation, GenerationOutput, ModelProvider, ProviderBadResponse, ProviderJob
from dreamina.ports.object_store import ObjectStore
from dreamina.ports.provenance import ContentCredentials, CredentialsRefused

OUTPUT_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "video/mp4": ".mp4"}


async def store_outputs(
    store: ObjectStore,
    provider: ModelProvider,
    generation: Generation,
    job: ProviderJob,
    credentials: ContentCredentials,
) -> tuple[GenerationOutput, ...]:
    """Fetch, sign and store each of the finished job's outputs; ``ProviderBadResponse`` for none, an unexpected
    type or a file that cannot be signed. The manifest names the provider, never the generation or its subject."""
    if not job.outputs:
        raise ProviderBadResponse("the provider reported success without outputs")
    prefix = outputs_prefix(generation.subject_id, generation.id)
    outputs: list[GenerationOutput] = []
    for index, output in enumerate(job.outputs):
        extension = OUTPUT_EXTENSIONS.get(output.content_type)
        if extension is None:
            raise ProviderBadResponse("the provider returned an unexpected media type")
        key = f"{prefix}/{index}{extension}"
        try:
            async with aclosing(
                credentials.sign(provider.fetch(output), output.content_type, provider=provider.name)
            ) as signed:
                written = await store.put_stream(key, signed, output.content_type)
        except CredentialsRefused:
            raise ProviderBadResponse("the provider returned a file that cannot carry content credentials") from None
        outputs.append(GenerationOutput(object_key=key, content_type=output.content_type, bytes=written))
    wanted = {o.object_key for o in outputs}
    for stray in await store.list(prefix):  # left by an earlier attempt that returned more outputs
        if stray not in wanted:
            await store.delete(stray)
    return tuple(outputs)
