"""Who may call what: the declared audience of every route, and the outcome each caller must get under it.

Every operation of the OpenAPI document is in ``AUDIENCE``; routes the document hides on purpose are in ``HIDDEN``.
``tests/e2e/test_authorization_matrix.py`` fails on a route in neither, so nobody ships an endpoint without
deciding who may call it.
"""

from __future__ import annotations

PUBLIC = "public"  # anyone, signed in or not
SUBJECT = "subject"  # a signed-in subject, acting on their own data only
HOLDER = "holder"  # anyone holding a secret the service issued (a signed URL or webhook, a checkout id); nobody else
OWNED = "owned"  # a signed-in subject, on one of their own resources named in the path; others get 404
REVIEWED = "reviewed"  # a signed-in subject answering the open age review of their own account; without one: 409
ANALYSTS = "staff:privacy_officer,admin"
EVERY_STAFF_ROLE = "staff:support,privacy_officer,admin"
PRIVACY_DESK = "staff:privacy_officer,admin"  # privacy tickets: support staff never see them
SUPPORT_DESK = "staff:support,admin"
ADMINS = "staff:admin"
STAFF_ROLES = ("support", "privacy_officer", "admin")

AUDIENCE: dict[tuple[str, str], str] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,
    ("POST", "/v1/accounts"): PUBLIC,
    ("POST", "/v1/auth/token"): PUBLIC,
    ("POST", "/v1/auth/logout"): SUBJECT,
    ("GET", "/v1/me"): SUBJECT,
    ("PATCH", "/v1/me"): SUBJECT,
    ("GET", "/v1/privacy/policy"): PUBLIC,
    ("GET", "/v1/privacy/policy/versions"): PUBLIC,
    ("GET", "/v1/privacy/policy/versions/{version}"): PUBLIC,
    ("GET", "/v1/privacy/processors"): PUBLIC,
    ("GET", "/.well-known/gpc.json"): PUBLIC,
    ("GET", "/v1/consent"): PUBLIC,
    ("PUT", "/v1/consent"): PUBLIC,
    ("GET", "/v1/consent/history"): PUBLIC,
    ("POST", "/v1/analytics/events"): PUBLIC,
    ("GET", "/v1/me/objections"): SUBJECT,
    ("PUT", "/v1/me/objections"): SUBJECT,
    ("GET", "/v1/me/improvement"): SUBJECT,
    ("PUT", "/v1/me/improvement"): SUBJECT,
    ("GET", "/v1/me/improvement/history"): SUBJECT,
    ("GET", "/v1/me/policy-status"): SUBJECT,
    ("POST", "/v1/me/policy-acceptances"): SUBJECT,
    ("GET", "/v1/me/disclosures"): SUBJECT,
    ("GET", "/v1/admin/analytics/summary"): ANALYSTS,
    ("GET", "/v1/admin/audit-events"): ANALYSTS,
    ("POST", "/v1/admin/policy/versions"): ANALYSTS,
    ("GET", "/v1/admin/policy/versions/{version}/notices"): ANALYSTS,
    ("GET", "/v1/admin/subjects/{subject_id}/consent"): EVERY_STAFF_ROLE,
    ("GET", "/v1/privacy/requests"): SUBJECT,
    ("POST", "/v1/privacy/requests"): SUBJECT,
    ("GET", "/v1/privacy/requests/{request_id}"): OWNED,
    ("POST", "/v1/privacy/requests/{request_id}/cancel"): OWNED,
    ("POST", "/v1/privacy/requests/{request_id}/code"): OWNED,
    ("GET", "/v1/privacy/requests/{request_id}/download"): OWNED,
    ("GET", "/v1/privacy/requests/{request_id}/report"): OWNED,
    ("POST", "/v1/privacy/requests/{request_id}/verify"): OWNED,
    ("POST", "/v1/uploads"): SUBJECT,
    ("GET", "/v1/uploads"): SUBJECT,
    ("GET", "/v1/uploads/{upload_id}"): OWNED,
    ("DELETE", "/v1/uploads/{upload_id}"): OWNED,
    ("GET", "/v1/generations"): SUBJECT,
    ("POST", "/v1/generations"): SUBJECT,
    ("GET", "/v1/generations/{generation_id}"): OWNED,
    ("DELETE", "/v1/generations/{generation_id}"): OWNED,
    ("POST", "/v1/generations/{generation_id}/cancel"): OWNED,
    ("GET", "/v1/objects/{key}"): HOLDER,  # a URL the object store signed
    ("GET", "/v1/billing/balance"): SUBJECT,
    ("GET", "/v1/billing/ledger"): SUBJECT,
    ("POST", "/v1/billing/checkout"): SUBJECT,
    ("GET", "/v1/billing/packs"): PUBLIC,
    ("GET", "/v1/billing/checkout/return"): PUBLIC,
    ("POST", "/v1/billing/webhooks/stripe"): HOLDER,  # Stripe-Signature, checked against the endpoint secret
    ("GET", "/v1/admin/privacy/requests"): EVERY_STAFF_ROLE,
    ("GET", "/v1/admin/privacy/requests/{request_id}"): EVERY_STAFF_ROLE,
    ("GET", "/v1/admin/privacy/processor-notifications"): ANALYSTS,
    ("POST", "/v1/admin/privacy/requests/{request_id}/approve"): ANALYSTS,
    ("POST", "/v1/admin/privacy/requests/{request_id}/reject"): ANALYSTS,
    ("POST", "/v1/admin/privacy/requests/{request_id}/extend"): ANALYSTS,
    ("POST", "/v1/admin/privacy/requests/{request_id}/expedite"): ANALYSTS,
    ("POST", "/v1/privacy/child-reports"): PUBLIC,
    ("POST", "/v1/me/age-review/statement"): REVIEWED,
    ("GET", "/v1/admin/child-reports"): EVERY_STAFF_ROLE,
    ("GET", "/v1/admin/child-reports/{report_id}"): EVERY_STAFF_ROLE,
    ("POST", "/v1/admin/child-reports/{report_id}/confirm"): ANALYSTS,
    ("POST", "/v1/admin/child-reports/{report_id}/dismiss"): ANALYSTS,
    ("POST", "/v1/abuse-reports"): PUBLIC,  # signed in or not; the answer never says whether the generation exists
    ("GET", "/v1/admin/abuse-reports"): SUPPORT_DESK,
    ("GET", "/v1/admin/abuse-reports/{report_id}"): SUPPORT_DESK,
    ("POST", "/v1/admin/abuse-reports/{report_id}/takedown"): SUPPORT_DESK,
    ("POST", "/v1/admin/abuse-reports/{report_id}/dismiss"): SUPPORT_DESK,
    ("GET", "/v1/admin/moderation/reviews"): SUPPORT_DESK,
    ("POST", "/v1/admin/moderation/reviews/{review_id}/lift"): SUPPORT_DESK,
    ("POST", "/v1/admin/moderation/reviews/{review_id}/suspend"): SUPPORT_DESK,
    ("POST", "/v1/support/tickets"): PUBLIC,  # signed in or not; anonymous senders give a reply-to address
    ("POST", "/v1/support/address-requests"): PUBLIC,  # no account: a link is mailed to the address
    ("POST", "/v1/support/address-requests/confirm"): PUBLIC,  # the mailed token is the credential
    ("GET", "/v1/support/tickets"): SUBJECT,
    ("GET", "/v1/support/tickets/{ticket_id}"): OWNED,
    ("GET", "/v1/admin/privacy/tickets"): PRIVACY_DESK,
    ("GET", "/v1/admin/privacy/tickets/{ticket_id}"): PRIVACY_DESK,
    ("POST", "/v1/admin/privacy/tickets/{ticket_id}/reply"): PRIVACY_DESK,
    ("POST", "/v1/admin/privacy/tickets/{ticket_id}/close"): PRIVACY_DESK,
    ("GET", "/v1/admin/support/tickets"): SUPPORT_DESK,
    ("GET", "/v1/admin/support/tickets/{ticket_id}"): SUPPORT_DESK,
    ("POST", "/v1/admin/support/tickets/{ticket_id}/reply"): SUPPORT_DESK,
    ("POST", "/v1/admin/support/tickets/{ticket_id}/close"): SUPPORT_DESK,
    ("POST", "/v1/auth/verify-email"): PUBLIC,  # the mailed token is the proof
    ("POST", "/v1/auth/verify-email/resend"): SUBJECT,
    ("POST", "/v1/me/email/confirm"): PUBLIC,  # the token mailed to the new address is the proof
    ("POST", "/v1/me/email/undo"): PUBLIC,  # the token mailed to the old address is the proof
    ("POST", "/v1/me/password"): SUBJECT,
    ("POST", "/v1/auth/password-reset"): PUBLIC,
    ("POST", "/v1/auth/password-reset/complete"): PUBLIC,  # the mailed code is the credential
    ("POST", "/v1/auth/logout-all"): SUBJECT,
    ("GET", "/v1/me/sessions"): SUBJECT,
    ("DELETE", "/v1/me/sessions/{session_id}"): OWNED,
    ("POST", "/v1/admin/marketing/campaigns"): ADMINS,
    ("GET", "/v1/admin/marketing/campaigns/{campaign_id}"): ADMINS,
    ("GET", "/v1/marketing/unsubscribe"): HOLDER,  # the signed token of a mailed unsubscribe link
    ("POST", "/v1/marketing/unsubscribe"): HOLDER,
}

# Routes left out of the OpenAPI document on purpose, with the reason; they are in the matrix all the same.
HIDDEN: dict[tuple[str, str], str] = {
    ("GET", "/v1/billing/sandbox/checkout/{session_id}"): HOLDER,  # the local sandbox's hosted page (embedded only)
    ("POST", "/v1/billing/sandbox/checkout/{session_id}"): HOLDER,  # the id is the secret, as at a real processor
}

EVERY_ROUTE: dict[tuple[str, str], str] = {**AUDIENCE, **HIDDEN}

# The web pages (README: Web UI) are no API: they authenticate by session cookie, never by bearer token, and every
# form post needs the CSRF token, so the matrix's bearer-token callers do not apply to them. Their own matrix is
# tests/e2e/test_web_pages.py (anonymous, non-staff, staff) and the browser tests (tests/e2e/test_web_browser.py).
PAGE_PUBLIC = "page:public"  # anyone; a form post still needs the CSRF token
PAGE_SUBJECT = "page:subject"  # a browser signed in (session cookie), on its own data only; else to sign-in
# Console pages: signed in with one of the named roles (the API twin's guard); other accounts: 403.
PAGE_EVERY_STAFF = "page:staff:support,privacy_officer,admin"  # the queues the API lets every staff role read
PAGE_STAFF = "page:staff:privacy_officer,admin"  # decisions (the API's DECIDERS)
PAGE_PRIVACY_DESK = "page:staff:privacy_officer,admin"  # privacy tickets: support staff never see them
PAGE_SUPPORT_DESK = "page:staff:support,admin"  # the other tickets
PAGE_TRUST_AND_SAFETY = "page:staff:support,admin"  # abuse reports and moderation reviews
PAGES: dict[tuple[str, str], str] = {
    ("GET", "/static/{file_path}"): PAGE_PUBLIC,
    ("GET", "/privacy"): PAGE_PUBLIC,
    ("POST", "/privacy/sign-in"): PAGE_PUBLIC,
    ("POST", "/privacy/sign-out"): PAGE_SUBJECT,
    ("GET", "/privacy/data"): PAGE_SUBJECT,
    ("POST", "/privacy/data/profile"): PAGE_SUBJECT,
    ("POST", "/privacy/data/email"): PAGE_SUBJECT,
    ("POST", "/privacy/data/retention"): PAGE_SUBJECT,
    ("POST", "/privacy/data/verification"): PAGE_SUBJECT,
    ("GET", "/privacy/content"): PAGE_SUBJECT,
    ("GET", "/privacy/content/generations/{generation_id}/delete"): PAGE_SUBJECT,
    ("POST", "/privacy/content/generations/{generation_id}/delete"): PAGE_SUBJECT,
    ("GET", "/privacy/content/uploads/{upload_id}/delete"): PAGE_SUBJECT,
    ("POST", "/privacy/content/uploads/{upload_id}/delete"): PAGE_SUBJECT,
    ("GET", "/privacy/disclosures"): PAGE_SUBJECT,
    ("GET", "/privacy/consent"): PAGE_SUBJECT,
    ("POST", "/privacy/consent"): PAGE_SUBJECT,
    ("GET", "/privacy/requests"): PAGE_SUBJECT,
    ("POST", "/privacy/requests"): PAGE_SUBJECT,
    ("POST", "/privacy/requests/{request_id}/cancel"): PAGE_SUBJECT,
    ("GET", "/privacy/requests/{request_id}/download"): PAGE_SUBJECT,
    ("GET", "/account/sign-up"): PAGE_PUBLIC,
    ("POST", "/account/sign-up"): PAGE_PUBLIC,
    ("GET", "/account/password-reset"): PAGE_PUBLIC,
    ("POST", "/account/password-reset"): PAGE_PUBLIC,
    ("GET", "/account/password-reset/complete"): PAGE_PUBLIC,
    ("POST", "/account/password-reset/complete"): PAGE_PUBLIC,
    ("GET", "/account/{name}"): PAGE_PUBLIC,  # the pages the mailed links open (verify-email, confirm-email, ...)
    ("POST", "/account/{name}"): PAGE_PUBLIC,
    ("GET", "/privacy/requests/{request_id}"): PAGE_SUBJECT,
    ("POST", "/privacy/requests/{request_id}/verify"): PAGE_SUBJECT,
    ("POST", "/privacy/requests/{request_id}/code"): PAGE_SUBJECT,
    ("GET", "/privacy/requests/{request_id}/report"): PAGE_SUBJECT,
    ("GET", "/privacy/objections"): PAGE_SUBJECT,
    ("POST", "/privacy/objections"): PAGE_SUBJECT,
    ("POST", "/privacy/restriction"): PAGE_SUBJECT,
    ("GET", "/admin"): PAGE_PUBLIC,
    ("POST", "/admin/sign-in"): PAGE_PUBLIC,
    ("POST", "/admin/sign-out"): PAGE_SUBJECT,
    ("GET", "/admin/queue"): PAGE_EVERY_STAFF,
    ("GET", "/admin/requests/{request_id}"): PAGE_EVERY_STAFF,
    ("POST", "/admin/requests/{request_id}/approve"): PAGE_STAFF,
    ("POST", "/admin/requests/{request_id}/reject"): PAGE_STAFF,
    ("POST", "/admin/requests/{request_id}/extend"): PAGE_STAFF,
    ("POST", "/admin/requests/{request_id}/expedite"): PAGE_STAFF,
    ("GET", "/admin/child-reports"): PAGE_EVERY_STAFF,
    ("GET", "/admin/child-reports/{report_id}"): PAGE_EVERY_STAFF,
    ("POST", "/admin/child-reports/{report_id}/confirm"): PAGE_STAFF,
    ("POST", "/admin/child-reports/{report_id}/dismiss"): PAGE_STAFF,
    ("GET", "/admin/privacy-tickets"): PAGE_PRIVACY_DESK,
    ("GET", "/admin/privacy-tickets/{ticket_id}"): PAGE_PRIVACY_DESK,
    ("POST", "/admin/privacy-tickets/{ticket_id}/reply"): PAGE_PRIVACY_DESK,
    ("POST", "/admin/privacy-tickets/{ticket_id}/close"): PAGE_PRIVACY_DESK,
    ("GET", "/admin/support-tickets"): PAGE_SUPPORT_DESK,
    ("GET", "/admin/support-tickets/{ticket_id}"): PAGE_SUPPORT_DESK,
    ("POST", "/admin/support-tickets/{ticket_id}/reply"): PAGE_SUPPORT_DESK,
    ("POST", "/admin/support-tickets/{ticket_id}/close"): PAGE_SUPPORT_DESK,
    ("GET", "/admin/abuse-reports"): PAGE_TRUST_AND_SAFETY,
    ("GET", "/admin/abuse-reports/{report_id}"): PAGE_TRUST_AND_SAFETY,
    ("POST", "/admin/abuse-reports/{report_id}/takedown"): PAGE_TRUST_AND_SAFETY,
    ("POST", "/admin/abuse-reports/{report_id}/dismiss"): PAGE_TRUST_AND_SAFETY,
    ("GET", "/admin/moderation"): PAGE_TRUST_AND_SAFETY,
    ("POST", "/admin/moderation/{review_id}/lift"): PAGE_TRUST_AND_SAFETY,
    ("POST", "/admin/moderation/{review_id}/suspend"): PAGE_TRUST_AND_SAFETY,
    ("GET", "/privacy/policy"): PAGE_PUBLIC,
    ("GET", "/privacy/policy/versions/{version}"): PAGE_PUBLIC,
    ("GET", "/admin/policy"): PAGE_STAFF,
    ("POST", "/admin/policy/preview"): PAGE_STAFF,
    ("POST", "/admin/policy/publish"): PAGE_STAFF,
    ("GET", "/admin/analytics"): PAGE_STAFF,
    ("GET", "/admin/audit"): PAGE_STAFF,
    ("GET", "/admin/audit/export.csv"): PAGE_STAFF,
}

CALLERS = ("anonymous", "user_a", "user_b", "support", "privacy_officer", "admin")
ALLOW, DENY_401, DENY_403, HIDDEN_404, NO_REVIEW = "allow", "401", "403", "404", "no_review"


def expected_outcome(audience: str, caller: str) -> str:
    """The matrix itself: what each caller may do under each audience (owned resources belong to ``user_a``)."""
    if audience in {PUBLIC, HOLDER}:
        return ALLOW  # HOLDER: with the secret; without it every caller is refused (checked separately)
    if caller == "anonymous":
        return DENY_401
    if audience == SUBJECT:
        return ALLOW  # on their own data only: test_subject_operations_act_only_on_the_callers_data
    if audience == OWNED:
        return ALLOW if caller == "user_a" else HIDDEN_404  # staff reach subjects' data only through admin routes
    if audience == REVIEWED:
        return ALLOW if caller == "user_a" else NO_REVIEW  # user_a is under review; nobody else is
    assert audience.startswith("staff:"), audience
    return ALLOW if caller in audience.removeprefix("staff:").split(",") else DENY_403


def matches(outcome: str, status: int, code: object) -> bool:
    """Allowed means a success; a refusal is the refusal that outcome names, with its problem code."""
    return {
        ALLOW: 200 <= status < 300,
        DENY_401: status == 401 and code == "authentication_failed",
        DENY_403: status == 403 and code == "forbidden",
        HIDDEN_404: status == 404 and code == "not_found",
        NO_REVIEW: status == 409 and code == "no_age_review",
    }[outcome]
