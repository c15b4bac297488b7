"""The policy text as served (issue 16, findings 6 and 7): the template's contact slots and its "Last updated" line
are filled from the facts, and the template itself (what the hash covers) is left as published."""

from __future__ import annotations

from datetime import date

from dreamina.domain.privacy.policy import content_sha256, last_updated_label, render

DAY = date(2027, 2, 15)


def test_every_contact_slot_is_filled_and_the_date_line_is_the_versions() -> None:
    template = (
        "Privacy Policy\nLast updated: July 2020\n1. Rights\nWrite to {privacy_contact}; contact us at the address"
        " below.\n2. Contact Us\nMail [email protected] or {privacy_contact}.\n"
    )
    before = content_sha256(template)
    served = render(template, contact="dpo@example.org", last_updated=DAY)
    assert served == (
        "Privacy Policy\nLast updated: 15 February 2027\n1. Rights\nWrite to dpo@example.org; contact us at the"
        " address below (dpo@example.org).\n2. Contact Us\nMail dpo@example.org or dpo@example.org.\n"
    )
    assert content_sha256(template) == before  # a pure function of the template: nothing published changes


def test_a_template_without_a_date_line_gets_one_under_its_title_or_first() -> None:
    assert render("Policy\n1. One\nx\n", contact="a@b.example", last_updated=DAY).splitlines()[:2] == [
        "Policy",
        "Last updated: 15 February 2027",
    ]
    assert render("1. One\nx", contact="a@b.example", last_updated=DAY) == "Last updated: 15 February 2027\n1. One\nx"
    assert render("", contact="a@b.example", last_updated=DAY) == "Last updated: 15 February 2027\n"


def test_the_label_names_the_day_month_and_year_in_english() -> None:
    assert [last_updated_label(date(2026, m, d)) for m, d in ((1, 31), (5, 1), (12, 9))] == [
        "31 January 2026",
        "1 May 2026",
        "9 December 2026",
    ]
