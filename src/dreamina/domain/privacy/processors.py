"""The processors we may share personal data with (policy section 5). The public record of processing names those the
configuration hands data to (the root picks them, ``wiring/privacy.py``), and says that analytics is first-party."""

from __future__ import annotations

from dreamina.domain.privacy.datamap import ProcessorDeclaration
from dreamina.domain.privacy.vocabulary import Purpose

PROCESSORS: tuple[ProcessorDeclaration, ...] = (
    ProcessorDeclaration(
        id="hosting",
        name="Cloud hosting provider",
        role="infrastructure: stores and serves every record and object on our behalf",
        location="EU (Frankfurt)",
        retention="as declared for each stored field; backups kept 35 days",
        purposes=(Purpose.SERVICE,),
        receives_all_stored_data=True,
    ),
    ProcessorDeclaration(
        id="object_storage",
        name="S3-compatible object storage",
        role="infrastructure: stores uploads, generated outputs and exports on our behalf",
        location="EU (Frankfurt)",
        retention="each object as declared for its prefix (deleted with it; bucket lifecycle rules as a backstop)",
        purposes=(Purpose.SERVICE,),
        receives_stored_objects=True,
    ),
    ProcessorDeclaration(
        id="email_delivery",
        name="Transactional email delivery",
        role="delivers account, security and privacy-request messages, and marketing mail to subjects who consented",
        location="EU",
        retention="delivery logs 30 days",
        purposes=(Purpose.SERVICE, Purpose.SUPPORT, Purpose.LEGAL, Purpose.MARKETING),
    ),
    ProcessorDeclaration(
        id="stripe",
        name="Stripe Payments Europe, Ltd.",
        role="payment processor: hosted checkout, card handling, refunds",
        location="IE / US (Standard Contractual Clauses)",
        retention="per Stripe's own legal obligations; customer deleted on erasure",
        purposes=(Purpose.PAYMENTS, Purpose.SECURITY, Purpose.LEGAL),
    ),
    ProcessorDeclaration(
        id="openai",
        name="OpenAI, L.L.C. (Images API)",
        role="AI model provider: generates images from prompts and reference images",
        location="US (Standard Contractual Clauses)",
        retention="API inputs and outputs up to 30 days for abuse monitoring",
        purposes=(Purpose.GENERATION,),
        training_use=(
            "not used to train OpenAI's models (API data is excluded unless the customer opts in; we do not); the "
            "Images API has no per-request no-training or zero-retention option, so none is sent"
        ),
    ),
    ProcessorDeclaration(
        id="openai_moderation",
        name="OpenAI, L.L.C. (Moderation API)",
        role="content moderation: checks prompts, reference images and generated images before a model provider "
        "receives them or they are served (POST /v1/moderations)",
        location="US (Standard Contractual Clauses)",
        retention="API inputs up to 30 days for abuse monitoring",
        purposes=(Purpose.SECURITY,),
        training_use=(
            "not used to train OpenAI's models (API data is excluded unless the customer opts in; we do not); the "
            "Moderation API has no per-request no-training or zero-retention option, so none is sent"
        ),
    ),
    ProcessorDeclaration(
        id="replicate",
        name="Replicate, Inc.",
        role="AI model provider: runs image models as asynchronous predictions",
        location="US (Standard Contractual Clauses)",
        retention="prediction inputs and outputs deleted after one hour for API predictions",
        purposes=(Purpose.GENERATION,),
        training_use=(
            "the predictions API has no no-training or zero-retention option, so none is sent; Replicate's own "
            "one-hour removal of API prediction data applies"
        ),
    ),
    ProcessorDeclaration(
        id="runway",
        name="Runway AI, Inc.",
        role="AI model provider: generates videos from images and prompts",
        location="US (Standard Contractual Clauses)",
        retention="task outputs expire; tasks deleted on our request",
        purposes=(Purpose.GENERATION,),
        training_use=(
            "the API has no no-training option, so none is sent; unless you allow improvement use, each finished "
            "task is deleted at Runway (DELETE /v1/tasks/{id}) as soon as its outputs are stored with us"
        ),
    ),
)

MODEL_PROVIDERS = ("openai", "replicate", "runway")
MODERATION_VENDORS = ("openai_moderation",)  # DREAMINA_MODERATOR=openai
HOSTING = "hosting"  # the production profile's servers and database
OBJECT_STORAGE = "object_storage"  # DREAMINA_OBJECT_STORE=s3
EMAIL_DELIVERY = "email_delivery"  # DREAMINA_MAIL_BACKEND=smtp

ANALYTICS_STATEMENT = (
    "Analytics is first-party: this service records the events itself and keeps them in its own database (on the "
    "hosting provider's servers when one is listed, like every record). No analytics vendor or other third party "
    "receives them: the 'analytics vendors' of section 5 are none. Events are kept only with analytics consent, "
    "without IP address, user agent or account id, under a pseudonym that changes every day."
)
