"""The privacy center's "your data", "your content" and "disclosures" pages in a real browser (Debian's chromium
driven by Playwright) against the real ``dreamina serve`` the web tests share (``site`` in tests/e2e/conftest.py: the
embedded profile, offline providers, mail as files).

Each page a test visits is screenshotted under the test's ``tmp_path``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.loopback import http

from .test_generation_api import png_bytes
from .web_site import PASSWORD, Site, needs_chromium, shot, sign_in, sign_up

pytestmark = needs_chromium
PROMPT = "a lighthouse keeper's cat at dawn"


def _bearer(base: str, email: str) -> dict[str, str]:
    token = http.post(f"{base}/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=10)
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _generated(base: str, headers: dict[str, str]) -> str:
    """A generation made through the JSON API, once the embedded profile's offline provider has finished it."""
    submitted = http.post(f"{base}/v1/generations", json={"kind": "image", "prompt": PROMPT}, headers=headers)
    assert submitted.status_code == 202, submitted.text
    generation: str = submitted.json()["id"]
    deadline = time.monotonic() + 60
    while True:
        status = http.get(f"{base}/v1/generations/{generation}", headers=headers, timeout=10).json()["status"]
        if status == "succeeded":
            return generation
        assert status in ("queued", "running"), status
        assert time.monotonic() < deadline, f"the generation is still {status} after 60 s"
        time.sleep(0.5)


def test_a_person_corrects_their_data_and_chooses_how_long_content_is_kept(
    page: Any, site: Site, tmp_path: Path
) -> None:
    email = "web.data@example.com"
    sign_up(site, email)
    sign_in(page, "/privacy", email)
    page.wait_for_url("**/privacy/data")
    assert page.locator("#email").inner_text() == email
    assert page.locator("#email-verified").inner_text() == "yes"
    assert page.locator("form[action='/privacy/data/verification']").count() == 0  # verified: nothing to resend
    assert page.locator("h1").count() == 1
    shot(page, tmp_path, "data")

    page.fill("#display_name", "Ada Lovelace")
    page.fill("#birth_date", "1991-02-03")
    page.click("text=Save corrections")
    page.wait_for_url("**/privacy/data?done=profile")
    assert page.locator("#display-name").inner_text() == "Ada Lovelace"
    assert page.locator("#birth-date").inner_text() == "1991-02-03"
    assert "corrected" in page.locator("#notice").inner_text()
    me = http.get(f"{site.base}/v1/me", headers=_bearer(site.base, email), timeout=10).json()
    assert (me["display_name"], me["birth_date"]) == ("Ada Lovelace", "1991-02-03")
    shot(page, tmp_path, "data-corrected")

    assert page.locator("#retention").inner_text() == "kept until you delete it"
    page.check("#keep-days")
    page.fill("#retention-days", "30")
    page.click("text=Save retention")
    page.wait_for_url("**/privacy/data?done=retention")
    assert page.locator("#retention").inner_text() == "deleted after 30 days"
    assert page.is_checked("#keep-days") and page.input_value("#retention-days") == "30"
    me = http.get(f"{site.base}/v1/me", headers=_bearer(site.base, email), timeout=10).json()
    assert me["content_retention_days"] == 30
    shot(page, tmp_path, "data-retention")

    # An email change is only asked for: the address changes once the mailed link is followed.
    page.fill("#new_email", "web.data.new@example.com")
    page.fill("#email_password", PASSWORD)
    page.click("text=Change email")
    page.wait_for_url("**/privacy/data?done=email")
    assert "confirmation link" in page.locator("#notice").inner_text()
    assert page.locator("#email").inner_text() == email
    shot(page, tmp_path, "data-email-change")

    # A wrong password is refused with the API's status, as a page.
    page.fill("#new_email", "web.data.other@example.com")
    page.fill("#email_password", "not the password")
    with page.expect_response(lambda r: r.url.endswith("/privacy/data/email")) as answer:
        page.click("text=Change email")
    assert answer.value.status == 403
    assert page.locator("[role=alert]").count() == 1
    shot(page, tmp_path, "data-email-refused")


def test_a_person_sees_and_deletes_a_generation_and_an_upload_and_sees_the_disclosures(
    page: Any, site: Site, tmp_path: Path
) -> None:
    email = "web.content@example.com"
    sign_up(site, email)
    headers = _bearer(site.base, email)
    generation = _generated(site.base, headers)
    sign_in(page, "/privacy", email)
    page.wait_for_url("**/privacy/data")

    page.click("text=Your content")
    page.wait_for_url("**/privacy/content")
    row = page.locator(f"#generations tr[data-id='{generation}']")
    assert row.count() == 1
    assert row.get_attribute("data-status") == "succeeded"
    assert row.locator(".prompt").inner_text() == PROMPT
    assert row.locator("time").count() == 1
    assert page.locator("#uploads").count() == 1 and page.locator("#next-generations").count() == 0
    shot(page, tmp_path, "content")

    row.locator("a[href$='/delete']").click()
    page.wait_for_url(f"**/privacy/content/generations/{generation}/delete")
    assert PROMPT in page.locator("main").inner_text()
    shot(page, tmp_path, "content-confirm-delete")
    page.click("text=Delete the generation")
    page.wait_for_url("**/privacy/content?done=generation")
    assert page.locator(f"#generations tr[data-id='{generation}']").count() == 0
    assert PROMPT not in page.content()
    assert "deleted" in page.locator("#notice").inner_text()
    gone = http.get(f"{site.base}/v1/generations/{generation}", headers=headers, timeout=10)
    assert gone.status_code == 404
    shot(page, tmp_path, "content-deleted")

    # An upload, deleted the same way (one no generation uses).
    image = ("ref.png", png_bytes(), "image/png")
    uploaded = http.post(f"{site.base}/v1/uploads", files={"file": image}, headers=headers, timeout=10)
    assert uploaded.status_code == 201, uploaded.text
    upload_id = uploaded.json()["id"]
    page.reload()
    row = page.locator(f"#uploads tr[data-id='{upload_id}']")
    assert row.count() == 1 and "image/png" in row.inner_text()
    row.locator("a[href$='/delete']").click()
    page.wait_for_url(f"**/privacy/content/uploads/{upload_id}/delete")
    shot(page, tmp_path, "content-confirm-upload-delete")
    page.click("text=Delete the upload")
    page.wait_for_url("**/privacy/content?done=upload")
    assert page.locator(f"#uploads tr[data-id='{upload_id}']").count() == 0
    assert http.get(f"{site.base}/v1/uploads/{upload_id}", headers=headers, timeout=10).status_code == 404

    page.click("text=Disclosures")
    page.wait_for_url("**/privacy/disclosures")
    table = page.locator("#disclosures")
    assert table.locator("th[scope=col]").count() == 6
    listed = http.get(f"{site.base}/v1/me/disclosures", headers=headers, timeout=10).json()["disclosures"]
    rows = table.locator("tbody tr[data-processor]")
    assert rows.count() == len(listed)  # the embedded profile's offline providers are no third party: none
    if not listed:
        assert "None of your data" in table.inner_text()
    shot(page, tmp_path, "disclosures")
