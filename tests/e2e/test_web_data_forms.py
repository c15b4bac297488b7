"""The privacy center's data, content and disclosures pages over HTTP, in process: every form post needs the CSRF
token, the forms do what ``PATCH /v1/me``, ``DELETE /v1/generations/{id}`` and ``DELETE /v1/uploads/{id}`` do
(their refusals included, as 4xx pages), and nobody deletes another person's content through them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from dreamina.adapters.memory.mail import InMemoryMailer
from dreamina.domain.privacy.vocabulary import DataCategory, Purpose
from dreamina.ports.disclosures import Disclosure
from tests.conftest import MEMORY
from tests.http_client import AsyncTestClient

from . import test_web_pages
from .helpers import PASSWORD, signed_in
from .test_generation_api import png_bytes, upload
from .test_web_pages import _session

pytestmark = pytest.mark.parametrize("_store", [MEMORY], indirect=True)
client = test_web_pages.client  # the in-process app, as the pages' own matrix uses it

FORMS = {
    "/privacy/data/profile": {"display_name": "Forged", "birth_date": "1990-01-01"},
    "/privacy/data/email": {"email": "forged@example.com", "current_password": PASSWORD},
    "/privacy/data/retention": {"keep": "days", "days": "3"},
    "/privacy/data/verification": {},
    "/privacy/content/generations/{generation}/delete": {},
    "/privacy/content/uploads/{upload}/delete": {},
}


async def _csrf(client: AsyncTestClient, session: dict[str, str]) -> tuple[dict[str, str], str]:
    """The session cookie with the CSRF cookie a page sets, and that page's form token."""
    answer = await client.get("/privacy/data", headers=session)
    assert answer.status_code == 200, answer.text[:300]
    csrf = answer.headers["set-cookie"].split(";", 1)[0]
    token = re.search(r'name="_csrf_token" value="([^"]+)"', answer.text)
    assert token is not None and csrf.startswith("dreamina_csrf=")
    return {"Cookie": f"{session['Cookie']}; {csrf}"}, token.group(1)


async def _post(client: AsyncTestClient, session: dict[str, str], path: str, form: dict[str, str]) -> Any:
    cookies, token = await _csrf(client, session)
    return await client.post(path, data={**form, "_csrf_token": token}, headers=cookies, follow_redirects=False)


async def _bearer_and_cookie(client: AsyncTestClient, email: str) -> tuple[dict[str, str], dict[str, str]]:
    cookie = await _session(client, email)
    token = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}, cookie


async def _content(client: AsyncTestClient, bearer: dict[str, str]) -> tuple[str, str]:
    """A generation and an upload of the bearer's, made through the JSON API."""
    made = await client.post("/v1/generations", json={"kind": "image", "prompt": "a quiet harbour"}, headers=bearer)
    assert made.status_code == 202, made.text
    uploaded = await upload(client, bearer, png_bytes(), "ref.png")
    assert uploaded.status_code == 201, uploaded.text
    return made.json()["id"], uploaded.json()["id"]


async def test_every_form_post_without_the_csrf_token_is_refused(client: AsyncTestClient) -> None:
    bearer, cookie = await _bearer_and_cookie(client, "forms.csrf@example.com")
    generation, upload_id = await _content(client, bearer)
    with_csrf_cookie, _ = await _csrf(client, cookie)
    for template, form in FORMS.items():
        path = template.format(generation=generation, upload=upload_id)
        for headers in (cookie, with_csrf_cookie):  # no CSRF cookie; the cookie but no form token
            refused = await client.post(path, data=form, headers=headers, follow_redirects=False)
            assert refused.status_code == 403, (path, refused.status_code)
    me = (await client.get("/v1/me", headers=bearer)).json()
    assert me["display_name"] != "Forged" and me["content_retention_days"] is None
    assert (await client.get(f"/v1/generations/{generation}", headers=bearer)).status_code == 200
    assert (await client.get(f"/v1/uploads/{upload_id}", headers=bearer)).status_code == 200


async def test_the_forms_correct_the_profile_and_the_retention_as_the_api_does(client: AsyncTestClient) -> None:
    bearer, cookie = await _bearer_and_cookie(client, "forms.correct@example.com")
    corrected = await _post(
        client, cookie, "/privacy/data/profile", {"display_name": "Ada", "birth_date": "1991-02-03"}
    )
    assert corrected.status_code == 303 and corrected.headers["location"] == "/privacy/data?done=profile"
    me = (await client.get("/v1/me", headers=bearer)).json()
    assert (me["display_name"], me["birth_date"]) == ("Ada", "1991-02-03")
    shown = await client.get("/privacy/data?done=profile", headers=cookie)
    assert 'id="display-name">Ada<' in shown.text and 'id="notice"' in shown.text
    kept = await _post(client, cookie, "/privacy/data/retention", {"keep": "days", "days": "30"})
    assert kept.status_code == 303
    assert (await client.get("/v1/me", headers=bearer)).json()["content_retention_days"] == 30
    assert "deleted after 30 days" in (await client.get("/privacy/data", headers=cookie)).text
    back = await _post(client, cookie, "/privacy/data/retention", {"keep": "forever", "days": "30"})
    assert back.status_code == 303
    assert (await client.get("/v1/me", headers=bearer)).json()["content_retention_days"] is None
    cleared = await _post(client, cookie, "/privacy/data/profile", {"display_name": "", "birth_date": "1991-02-03"})
    assert cleared.status_code == 303
    assert (await client.get("/v1/me", headers=bearer)).json()["display_name"] is None


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/privacy/data/retention", {"keep": "days", "days": "0"}),
        ("/privacy/data/retention", {"keep": "days", "days": "99999"}),
        ("/privacy/data/retention", {"keep": "days", "days": "soon"}),
        ("/privacy/data/retention", {"keep": "days", "days": ""}),
        ("/privacy/data/retention", {"keep": "sometimes"}),
        ("/privacy/data/profile", {"display_name": "Ada", "birth_date": "not a date"}),
        ("/privacy/data/profile", {"display_name": "x" * 5000}),
        ("/privacy/data/email", {"email": "not an address", "current_password": PASSWORD}),
        ("/privacy/data/email", {"current_password": PASSWORD}),
    ],
)
async def test_bad_form_input_is_a_4xx_page_and_changes_nothing(
    client: AsyncTestClient, path: str, form: dict[str, str]
) -> None:
    bearer, cookie = await _bearer_and_cookie(client, "forms.bad@example.com")
    before = (await client.get("/v1/me", headers=bearer)).json()
    refused = await _post(client, cookie, path, form)
    assert 400 <= refused.status_code < 500, (refused.status_code, refused.text[:300])
    assert "text/html" in refused.headers["content-type"] and 'role="alert"' in refused.text
    after = (await client.get("/v1/me", headers=bearer)).json()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


async def test_an_email_change_needs_the_password_and_changes_nothing_until_confirmed(client: AsyncTestClient) -> None:
    bearer, cookie = await _bearer_and_cookie(client, "forms.email@example.com")
    wrong = await _post(client, cookie, "/privacy/data/email", {"email": "new@example.com", "current_password": "no"})
    assert wrong.status_code == 403 and "text/html" in wrong.headers["content-type"]
    asked = await _post(
        client, cookie, "/privacy/data/email", {"email": "new@example.com", "current_password": PASSWORD}
    )
    assert asked.status_code == 303 and asked.headers["location"] == "/privacy/data?done=email"
    assert (await client.get("/v1/me", headers=bearer)).json()["email"] == "forms.email@example.com"
    mailer = client.app.state.container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    assert [m.kind for m in mailer.sent if m.to == "new@example.com"] == ["email_change_confirm"]
    assert "confirmation link" in (await client.get("/privacy/data?done=email", headers=cookie)).text


async def test_an_unverified_address_gets_a_resend_button_that_mails_a_new_link(client: AsyncTestClient) -> None:
    email = "forms.unverified@example.com"
    await signed_in(client, email, verified=False)
    token = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    cookie = {"Cookie": f"dreamina_session={token.json()['access_token']}"}
    shown = await client.get("/privacy/data", headers=cookie)
    assert 'id="email-verified">no<' in shown.text and 'action="/privacy/data/verification"' in shown.text
    mailer = client.app.state.container.infra.mailer
    assert isinstance(mailer, InMemoryMailer)
    before = len([m for m in mailer.sent if m.to == email and m.kind == "verify_email"])
    sent = await _post(client, cookie, "/privacy/data/verification", {})
    assert sent.status_code == 303 and sent.headers["location"] == "/privacy/data?done=verification"
    assert len([m for m in mailer.sent if m.to == email and m.kind == "verify_email"]) == before + 1


async def test_nobody_deletes_another_persons_content_through_the_pages(client: AsyncTestClient) -> None:
    owner, owner_cookie = await _bearer_and_cookie(client, "forms.owner@example.com")
    _, other = await _bearer_and_cookie(client, "forms.other@example.com")
    generation, upload_id = await _content(client, owner)
    for path in (f"/privacy/content/generations/{generation}/delete", f"/privacy/content/uploads/{upload_id}/delete"):
        shown = await client.get(path, headers=other)
        assert shown.status_code == 404 and "a quiet harbour" not in shown.text
        refused = await _post(client, other, path, {})
        assert refused.status_code == 404 and "text/html" in refused.headers["content-type"]
    assert (await client.get(f"/v1/generations/{generation}", headers=owner)).status_code == 200
    assert (await client.get(f"/v1/uploads/{upload_id}", headers=owner)).status_code == 200
    assert "a quiet harbour" not in (await client.get("/privacy/content", headers=other)).text
    # The owner sees both, confirms, and deletes both (the upload no generation uses).
    listed = await client.get("/privacy/content", headers=owner_cookie)
    assert "a quiet harbour" in listed.text and f'data-id="{upload_id}"' in listed.text
    confirm = await client.get(f"/privacy/content/generations/{generation}/delete", headers=owner_cookie)
    assert confirm.status_code == 200 and "Delete the generation" in confirm.text
    for path in (f"/privacy/content/generations/{generation}/delete", f"/privacy/content/uploads/{upload_id}/delete"):
        deleted = await _post(client, owner_cookie, path, {})
        assert deleted.status_code == 303 and deleted.headers["location"].startswith("/privacy/content?done=")
    assert (await client.get(f"/v1/generations/{generation}", headers=owner)).status_code == 404
    assert (await client.get(f"/v1/uploads/{upload_id}", headers=owner)).status_code == 404


async def test_an_upload_a_generation_uses_is_refused_as_the_api_refuses_it(client: AsyncTestClient) -> None:
    owner, cookie = await _bearer_and_cookie(client, "forms.inuse@example.com")
    reference = (await upload(client, owner, png_bytes(), "ref.png")).json()["id"]
    body = {"kind": "image", "prompt": "a red kite", "reference_upload_ids": [reference]}
    assert (await client.post("/v1/generations", json=body, headers=owner)).status_code == 202
    refused = await _post(client, cookie, f"/privacy/content/uploads/{reference}/delete", {})
    assert refused.status_code == 409 and "text/html" in refused.headers["content-type"]
    assert (await client.get(f"/v1/uploads/{reference}", headers=owner)).status_code == 200


async def test_the_content_page_pages_with_the_apis_cursor(client: AsyncTestClient) -> None:
    owner, cookie = await _bearer_and_cookie(client, "forms.pages@example.com")
    for n in range(21):
        made = await client.post("/v1/generations", json={"kind": "image", "prompt": f"prompt {n}"}, headers=owner)
        assert made.status_code == 202, made.text
        client.app.state.container.infra.clock.advance(timedelta(seconds=1))
    first = await client.get("/privacy/content", headers=cookie)
    assert "prompt 20<" in first.text and "prompt 0<" not in first.text
    found = re.search(r'href="([^"]+)" rel="next" id="next-generations"', first.text)
    assert found is not None
    second = await client.get(found.group(1).replace("&amp;", "&"), headers=cookie)
    assert second.status_code == 200 and "prompt 0<" in second.text and "prompt 20<" not in second.text
    assert 'id="next-generations"' not in second.text
    bad = await client.get("/privacy/content?generations_cursor=not-a-cursor", headers=cookie)
    assert 400 <= bad.status_code < 500 and "text/html" in bad.headers["content-type"]


async def test_the_disclosures_page_is_a_table_of_what_the_api_lists(client: AsyncTestClient) -> None:
    """The offline providers are no third party (nothing is disclosed), so the ledger gets its entry as a provider's
    hand-off records it (``ProviderHandoff.prepare``)."""
    owner, cookie = await _bearer_and_cookie(client, "forms.disclosures@example.com")
    empty = await client.get("/privacy/disclosures", headers=cookie)
    assert empty.status_code == 200 and "None of your data has been handed to a processor." in empty.text
    container = client.app.state.container
    subject = UUID((await client.get("/v1/me", headers=owner)).json()["id"])
    async with container.infra.uow() as uow:
        await uow.disclosures.record(
            Disclosure(
                id=uuid4(),
                subject_id=subject,
                processor="replicate",
                categories=(DataCategory.CONTENT.value,),
                purpose=Purpose.GENERATION.value,
                reference="gen-123",
                occurred_at=container.infra.clock.now(),
                improvement_allowed=False,
            )
        )
        await uow.commit()
    listed = (await client.get("/v1/me/disclosures", headers=owner)).json()["disclosures"]
    shown = await client.get("/privacy/disclosures", headers=cookie)
    assert shown.status_code == 200 and '<th scope="col">Processor</th>' in shown.text
    assert len(listed) == 1 and shown.text.count("<tr data-processor=") == 1
    row = shown.text.split('<tr data-processor="replicate">', 1)[1].split("</tr>", 1)[0]
    for cell in ("replicate", "content", "generate content", "gen-123", listed[0]["occurred_at"][:10]):
        assert cell in row, (cell, row)
