"""The privacy center's "your content" page (/privacy/content): the person's uploads and generations, a page at a
time with the API's cursors, each deletable after a confirmation (a plain form, no script needed).

Each handler calls the use case its JSON API twin calls (named in its docstring); nothing here decides a rule.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from dreamina.domain.generation.generations import Generations
from dreamina.domain.generation.uploads import ReferenceUploads
from dreamina.domain.identity.accounts import Principal
from dreamina.entrypoints.http.auth import PAGE_AUTH
from dreamina.entrypoints.http.web.pages import page

PAGE_SIZE = 20  # the API's default page

NOTICES = {
    "generation": "The generation was deleted, with its prompt and outputs, from every store.",
    "upload": "The upload was deleted.",
}


def _link(generations: str | None, uploads: str | None) -> str:
    """The content page at the given cursors (the other list stays where it is)."""
    query = {k: v for k, v in (("generations_cursor", generations), ("uploads_cursor", uploads)) if v}
    return "/privacy/content" + (f"?{urlencode(query)}" if query else "")


class PrivacyContent(Controller):
    path = "/privacy/content"
    dependencies = PAGE_AUTH

    @get("/")
    async def your_content(
        self,
        principal: NamedDependency[Principal],
        generations: NamedDependency[Generations],
        uploads: NamedDependency[ReferenceUploads],
        generations_cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        uploads_cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        done: Annotated[str | None, QueryParameter(max_length=32)] = None,
    ) -> Template:
        """As ``GET /v1/generations`` and ``GET /v1/uploads`` (newest first; ``next_cursor`` is the next page)."""
        made = await generations.list(principal.account_id, PAGE_SIZE, generations_cursor)
        uploaded = await uploads.list(principal.account_id, PAGE_SIZE, uploads_cursor)
        return page(
            "privacy_content.html",
            generations=made.items,
            uploads=uploaded.items,
            next_generations=_link(made.next_cursor, uploads_cursor) if made.next_cursor else None,
            next_uploads=_link(generations_cursor, uploaded.next_cursor) if uploaded.next_cursor else None,
            first_page=_link(None, None) if generations_cursor or uploads_cursor else None,
            notice=NOTICES.get(done or ""),
        )

    @get("/generations/{generation_id:uuid}/delete")
    async def confirm_generation_deletion(
        self,
        generation_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        generations: NamedDependency[Generations],
    ) -> Template:
        """As ``GET /v1/generations/{id}`` (someone else's is 404): what the deletion below would remove."""
        found = await generations.get(principal.account_id, generation_id)
        return page("privacy_content_delete.html", generation=found, upload=None)

    @post("/generations/{generation_id:uuid}/delete")
    async def delete_generation(
        self,
        generation_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        generations: NamedDependency[Generations],
    ) -> Redirect:
        """As ``DELETE /v1/generations/{id}``: the prompt, the outputs and references nothing else uses go from
        every store, and the provider is asked to delete its copy (someone else's is 404)."""
        await generations.delete(principal.account_id, generation_id)
        return Redirect(path="/privacy/content?done=generation", status_code=303)

    @get("/uploads/{upload_id:uuid}/delete")
    async def confirm_upload_deletion(
        self,
        upload_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        uploads: NamedDependency[ReferenceUploads],
    ) -> Template:
        """As ``GET /v1/uploads/{id}`` (someone else's is 404): what the deletion below would remove."""
        found = await uploads.view(principal.account_id, upload_id)
        return page("privacy_content_delete.html", generation=None, upload=found)

    @post("/uploads/{upload_id:uuid}/delete")
    async def delete_upload(
        self,
        upload_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        uploads: NamedDependency[ReferenceUploads],
    ) -> Redirect:
        """As ``DELETE /v1/uploads/{id}``: 409 ``upload_in_use`` while a generation uses it (someone else's is
        404)."""
        await uploads.delete(principal.account_id, upload_id)
        return Redirect(path="/privacy/content?done=upload", status_code=303)
