"""The account pages in Debian's chromium against a real ``dreamina serve``: a person signs up on the page, opens
the verification link from the mail (the token in the fragment never reaches the server), verifies, forgets the
password and resets it with the mailed code, and signs in with the new one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .test_serve_process import _mailed
from .web_site import PASSWORD, Site, needs_chromium, shot

LINK = re.compile(r"(http://\S+/account/verify-email#token=[A-Za-z0-9_-]+)")
RESET_CODE = re.compile(r"reset code in the app within \d+ minutes:\s+(\S+)")

pytestmark = needs_chromium


def test_a_person_signs_up_verifies_and_resets_the_password_on_the_pages(
    page: Any,
    site: Site,
    tmp_path: Path,
) -> None:
    email = "web.newcomer@example.com"
    page.goto("/privacy")
    page.click("text=Create an account")
    page.wait_for_url("**/account/sign-up")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#birth_date", "1990-04-01")
    page.fill("#country", "de")
    shot(page, tmp_path, "account-sign-up")
    page.click("button[type=submit]")  # the policy box is unticked: the browser keeps the form
    assert page.url.endswith("/account/sign-up")
    page.check("#accept_policy_version")
    page.click("button[type=submit]")
    page.wait_for_selector("#done")
    assert "Check your mail" in page.inner_text("#done")

    link = _mailed(site.data / "outbox", email, LINK)
    served: list[str] = []
    page.on("request", lambda r: served.append(r.url))
    page.goto(link)
    assert page.input_value("#token")  # copied from the fragment by /static/account.js
    assert "#token" not in page.url  # and dropped from the address bar
    assert not any("token=" in u for u in served)  # the token never went to the server in a URL
    shot(page, tmp_path, "account-verify-email")
    page.click("text=Verify my address")
    page.wait_for_selector("#done")
    assert "verified" in page.inner_text("#done")

    page.goto("/privacy")
    page.click("text=Forgot your password?")
    page.fill("#email", email)
    page.press("#email", "Enter")
    page.wait_for_selector("#sent")
    code = _mailed(site.data / "outbox", email, RESET_CODE)
    page.fill("#token", code)
    new_password = "a brand new passphrase 42"
    page.fill("#new_password", new_password)
    page.click("text=Set the new password")
    page.wait_for_selector("#done")
    page.goto("/privacy")
    page.fill("input[type=email]", email)
    page.fill("input[type=password]", new_password)
    page.press("input[type=password]", "Enter")
    page.wait_for_url("**/privacy/data")
    assert page.locator("#email-verified").inner_text() == "yes"

    page.goto(link)  # the link was used: pressing the button again is refused with a page, not a crash
    page.click("text=Verify my address")
    assert page.title().startswith("Error 400")


def test_an_under_age_sign_up_stores_nothing_and_says_why(page: Any, site: Site) -> None:
    page.goto("/account/sign-up")
    page.fill("#email", "web.child@example.com")
    page.fill("#password", PASSWORD)
    page.fill("#birth_date", "2020-01-01")
    page.fill("#country", "US")
    page.check("#accept_policy_version")
    page.click("button[type=submit]")
    page.wait_for_selector("[role=alert]")
    assert page.title().startswith("Error 403")
