"""Wiring unit of the generation module: reference uploads, generation jobs, the model providers and the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from dreamina.adapters.memory import generation as memory_generation
from dreamina.adapters.memory import moderation as memory_moderation
from dreamina.adapters.sql import repositories_generation, repositories_moderation
from dreamina.adapters.video_frames import PyAvVideoFrames
from dreamina.domain.generation.data_map import GENERATION_DATA
from dreamina.domain.generation.expiry import ContentExpiry
from dreamina.domain.generation.generations import Generations
from dreamina.domain.generation.moderation import ContentScreening, ModerationRules
from dreamina.domain.generation.moderation_data import MODERATION_DATA
from dreamina.domain.generation.moderation_records import (
    ClosedModerationReviews,
    ExpiredModerationRecords,
    ModerationPersonalData,
)
from dreamina.domain.generation.moderation_review import ModerationReviews
from dreamina.domain.generation.personal_data import GenerationPersonalData
from dreamina.domain.generation.retention import GenerationsPastOwnerRetention, UnusedUploadsPastOwnerRetention
from dreamina.domain.generation.rules import GenerationRules
from dreamina.domain.generation.runner import GenerationRunner
from dreamina.domain.generation.uploads import ReferenceUploads, UploadRules
from dreamina.domain.privacy.errors import Forbidden, NotFound
from dreamina.ports.clock import Clock
from dreamina.ports.data_rights import ProcessorEraser
from dreamina.ports.generation import GenerationCharges, GenerationKind, JobQueue, ModelProvider
from dreamina.ports.moderation import ContentModerator
from dreamina.ports.object_store import ObjectNotFound, ObjectStore
from dreamina.settings import Settings, SettingsError, processor_routes
from dreamina.wiring.infrastructure import Infrastructure
from dreamina.wiring.kit import Contributions, Hook, ModuleParts
from dreamina.wiring.provenance import content_credentials

PARTS = ModuleParts(
    name="generation",
    data=GENERATION_DATA,
    sql=repositories_generation.REPOSITORIES,
    memory=(memory_generation.STORES,),
)
MODERATION_PARTS = ModuleParts(
    name="moderation",
    data=MODERATION_DATA,
    sql=repositories_moderation.REPOSITORIES,
    memory=(memory_moderation.STORES,),
)


REAPER_SECONDS = 30.0  # how often the embedded profile re-enqueues unfinished jobs its queue lost (one lease interval)


@dataclass(frozen=True, slots=True)
class GenerationModule:
    """The generation module's use cases, the queue its jobs run from and what runs them, and what other modules
    are given."""

    uploads: ReferenceUploads
    generations: Generations
    runner: GenerationRunner  # the in-process queue starts it; ``dreamina worker`` hands it to SAQ
    queue: JobQueue
    downloads: SignedDownloads
    stopper: GenerationModuleStopper  # identity's children's flow stops a suspended account's jobs
    erasers: Mapping[str, ProcessorEraser]  # the data-rights saga asks each provider that ran a job to forget it
    processors: Mapping[str, str]  # provider name -> the processor it is in the data map
    screening: ContentScreening  # checks prompts, reference uploads and outputs before they go on
    moderation_reviews: ModerationReviews  # the staff queue of accounts paused by repeated refusals
    contributes: Contributions


class SignedDownloads:
    """Objects of the local store, served only through a URL it signed that has not expired (the S3 store hands out
    presigned S3 URLs instead). Keys with ``..`` or other unsafe segments never verify."""

    def __init__(self, store: ObjectStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def open(self, key: str, expires: int, signature: str) -> tuple[str, AsyncIterator[bytes]]:
        """The object's media type and chunks; ``NotFound`` unless this store signs URLs and holds the object,
        ``Forbidden`` for a signature that does not verify or has expired."""
        from dreamina.adapters.object_store import LocalObjectStore

        store = self._store
        if not isinstance(store, LocalObjectStore):
            raise NotFound("not found")
        if not store.verify_signed(key, expires, signature, self._clock.now()):
            raise Forbidden("the link is invalid or has expired")
        try:
            return await store.content_type(key), await store.stream(key)
        except ObjectNotFound:
            raise NotFound("not found") from None


class GenerationModuleStopper:
    """:class:`~dreamina.ports.child_reports.GenerationStopper` by :meth:`Generations.stop_for_subject`."""

    def __init__(self, generations: Generations) -> None:
        self._generations = generations

    async def stop_all(self, subject_id: UUID) -> int:
        return await self._generations.stop_for_subject(subject_id)


def wire_generation(
    infra: Infrastructure, charges: GenerationCharges, overrides: Mapping[str, Any]
) -> GenerationModule:
    from dreamina.adapters.images import PillowImageSanitizer
    from dreamina.adapters.provider_erasers import ModelProviderEraser

    settings = infra.settings
    providers = overrides.get("providers") or _providers(settings)
    distinct = list({id(p): p for p in providers.values()}.values())
    closers: list[Hook] = [close for p in distinct if (close := getattr(p, "aclose", None)) is not None]
    starters: list[Hook] = []
    workers: list[Hook] = []  # in-process job workers and their reaper
    queue: JobQueue | None = overrides.get("job_queue")
    in_process = None
    if queue is None:
        if settings.queue == "saq":
            from dreamina.adapters.queue.saq_queue import SaqJobQueue

            saq_queue = SaqJobQueue(
                settings.redis_url,
                job_timeout_seconds=settings.generation_job_timeout_seconds,
                lease_seconds=settings.job_lease_seconds,
            )
            closers.append(saq_queue.aclose)
            queue = saq_queue
        else:
            from dreamina.adapters.queue.in_process import InProcessJobQueue

            in_process = InProcessJobQueue(concurrency=settings.worker_concurrency)
            queue = in_process
    moderator: ContentModerator = overrides.get("moderator") or _moderator(settings)
    if (close_moderator := getattr(moderator, "aclose", None)) is not None:
        closers.append(close_moderator)
    screening = ContentScreening(
        uow=infra.uow,
        moderator=moderator,
        vault=infra.vault,
        clock=infra.clock,
        rules=ModerationRules(
            review_threshold=settings.moderation_review_threshold,
            review_window_seconds=settings.moderation_review_window_hours * 3600,
        ),
        frames=PyAvVideoFrames(),
    )
    rules = GenerationRules(
        max_attempts=settings.generation_max_attempts,
        job_timeout_seconds=float(settings.generation_job_timeout_seconds),
        url_ttl_seconds=settings.signed_url_ttl_seconds,
    )
    generations = Generations(
        uow=infra.uow,
        keyrings=infra.keyrings,
        clock=infra.clock,
        store=infra.object_store,
        providers=providers,
        queue=queue,
        charges=charges,
        rules=rules,
        screening=screening,
    )
    runner = GenerationRunner(
        uow=infra.uow,
        keyrings=infra.keyrings,
        clock=infra.clock,
        store=infra.object_store,
        providers=providers,
        queue=queue,
        charges=charges,
        credentials=overrides.get("content_credentials") or content_credentials(settings, infra.clock),
        rules=rules,
        screening=screening,
    )
    expiry = ContentExpiry(
        uow=infra.uow, clock=infra.clock, store=infra.object_store, providers=providers, charges=charges
    )
    if in_process is not None:
        from dreamina.adapters.periodic import Periodic

        worker = in_process
        reaper = Periodic("generation_reaper", REAPER_SECONDS, lambda: runner.reap(worker.holds))

        async def start_workers() -> None:
            await worker.start(runner.run)
            await runner.recover()  # jobs that were in flight when the process last stopped
            await reaper.start()

        async def stop_workers() -> None:
            await reaper.stop()
            await worker.stop()

        workers.append(start_workers)
        closers.append(stop_workers)
    processors = {p.name: p.capabilities.processor for p in providers.values() if p.capabilities.processor is not None}
    erasers: dict[str, ProcessorEraser] = {
        p.capabilities.processor: ModelProviderEraser(p) for p in distinct if p.capabilities.processor is not None
    }
    return GenerationModule(
        uploads=ReferenceUploads(
            uow=infra.uow,
            store=infra.object_store,
            sanitizer=PillowImageSanitizer(max_pixels=settings.max_upload_pixels),
            clock=infra.clock,
            rules=UploadRules(max_bytes=settings.max_upload_bytes, url_ttl_seconds=settings.signed_url_ttl_seconds),
            screening=screening,
        ),
        generations=generations,
        runner=runner,
        queue=queue,
        downloads=SignedDownloads(infra.object_store, infra.clock),
        stopper=GenerationModuleStopper(generations),
        erasers=erasers,
        processors=processors,
        screening=screening,
        moderation_reviews=ModerationReviews(
            uow=infra.uow, clock=infra.clock, stop_generations=generations.stop_for_subject
        ),
        contributes=Contributions(
            holders=(
                GenerationPersonalData(uow=infra.uow, keyrings=infra.keyrings, processors=processors),
                ModerationPersonalData(infra.uow),
            ),
            retention=(
                GenerationsPastOwnerRetention(infra.uow, expiry),
                UnusedUploadsPastOwnerRetention(infra.uow, expiry),
                ExpiredModerationRecords(infra.uow),
                ClosedModerationReviews(infra.uow),
            ),
            starters=tuple(starters),
            workers=tuple(workers),
            closers=tuple(closers),
        ),
    )


def _providers(settings: Settings) -> dict[GenerationKind, ModelProvider]:
    """The provider configured for each kind; swapping one is configuration only."""
    from dreamina.adapters.images import PillowMediaRenderer
    from dreamina.adapters.providers.offline import OfflineRendererProvider

    offline = OfflineRendererProvider(PillowMediaRenderer(), render_seconds=settings.offline_render_seconds)
    chosen: dict[GenerationKind, ModelProvider] = {GenerationKind.IMAGE: offline, GenerationKind.VIDEO: offline}
    if settings.image_provider == "openai":
        from dreamina.adapters.providers.openai import OpenAIImagesProvider

        chosen[GenerationKind.IMAGE] = OpenAIImagesProvider(
            api_key=settings.openai_api_key, base_url=settings.openai_base_url, model=settings.openai_image_model
        )
    elif settings.image_provider == "replicate":
        from dreamina.adapters.providers.replicate import ReplicateProvider

        chosen[GenerationKind.IMAGE] = ReplicateProvider(
            api_token=settings.replicate_api_token, base_url=settings.replicate_base_url, model=settings.replicate_model
        )
    if settings.video_provider == "runway":
        from dreamina.adapters.providers.runway import RunwayProvider

        chosen[GenerationKind.VIDEO] = RunwayProvider(
            api_key=settings.runway_api_key, base_url=settings.runway_base_url, model=settings.runway_model
        )
    return chosen


def _moderator(settings: Settings) -> ContentModerator:
    """The configured content moderator: the offline lists (embedded default) or OpenAI's moderation API. The
    vendor receives prompts and images and its API deletes nothing: like an image provider without a deletion API,
    production refuses to start unless ``DREAMINA_PROCESSOR_ROUTES`` says how it is told of erasures."""
    if settings.moderator == "openai":
        from dreamina.adapters.moderation.openai import OpenAIModerator

        vendor = OpenAIModerator.processor
        if settings.profile == "production" and vendor not in processor_routes(settings):
            raise SettingsError(
                f"the production profile requires a DREAMINA_PROCESSOR_ROUTES entry (email or webhook) for {vendor}: "
                "it receives personal data and has no deletion API"
            )

        return OpenAIModerator(api_key=settings.openai_api_key, base_url=settings.openai_base_url)
    from dreamina.adapters.moderation.offline import OfflineModerator

    return OfflineModerator(
        terms_file=settings.moderation_terms_file,
        hashes_file=settings.moderation_hashes_file,
        max_distance=settings.moderation_hash_distance,
    )
