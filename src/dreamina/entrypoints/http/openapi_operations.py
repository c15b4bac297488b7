"""The published contract's names and facts per operation, in one place: each operation's ``operationId`` (what a
generated client calls its function), the binary bodies a download answers with, and the operations that read the
``dreamina_device`` cookie. Keyed by ``"METHOD /path"`` as the OpenAPI document spells the path."""

from __future__ import annotations

from dreamina.domain.privacy import errors
from dreamina.domain.privacy.errors import DomainError

OPERATION_IDS: dict[str, str] = {
    # identity and sessions
    "POST /v1/accounts": "signUp",
    "POST /v1/auth/token": "createToken",
    "POST /v1/auth/logout": "logOut",
    "POST /v1/auth/logout-all": "logOutEverywhere",
    "POST /v1/auth/verify-email": "verifyEmail",
    "POST /v1/auth/verify-email/resend": "resendEmailVerification",
    "POST /v1/auth/password-reset": "requestPasswordReset",
    "POST /v1/auth/password-reset/complete": "completePasswordReset",
    "GET /v1/me": "getMe",
    "PATCH /v1/me": "updateMe",
    "POST /v1/me/email/confirm": "confirmEmailChange",
    "POST /v1/me/email/undo": "undoEmailChange",
    "POST /v1/me/password": "changePassword",
    "GET /v1/me/sessions": "listSessions",
    "DELETE /v1/me/sessions/{session_id}": "revokeSession",
    "POST /v1/me/age-review/statement": "answerAgeReview",
    # the policy, consent and objections
    "GET /v1/privacy/policy": "getPolicy",
    "GET /v1/privacy/policy/versions": "listPolicyVersions",
    "GET /v1/privacy/policy/versions/{version}": "getPolicyVersion",
    "GET /v1/privacy/processors": "listProcessors",
    "GET /.well-known/gpc.json": "getGpcSupport",
    "GET /v1/consent": "getConsent",
    "PUT /v1/consent": "setConsent",
    "GET /v1/consent/history": "listConsentHistory",
    "POST /v1/analytics/events": "recordAnalyticsEvents",
    "POST /v1/me/policy-acceptances": "acceptPolicy",
    "GET /v1/me/policy-status": "getPolicyStatus",
    "GET /v1/me/disclosures": "listDisclosures",
    "GET /v1/me/objections": "listObjections",
    "PUT /v1/me/objections": "setObjection",
    "GET /v1/me/improvement": "getImprovementChoice",
    "PUT /v1/me/improvement": "setImprovementChoice",
    "GET /v1/me/improvement/history": "listImprovementHistory",
    "GET /v1/marketing/unsubscribe": "showUnsubscribePage",
    "POST /v1/marketing/unsubscribe": "unsubscribeFromMarketing",
    # data-subject requests
    "POST /v1/privacy/requests": "submitPrivacyRequest",
    "GET /v1/privacy/requests": "listPrivacyRequests",
    "GET /v1/privacy/requests/{request_id}": "getPrivacyRequest",
    "POST /v1/privacy/requests/{request_id}/code": "sendPrivacyRequestCode",
    "POST /v1/privacy/requests/{request_id}/verify": "verifyPrivacyRequest",
    "POST /v1/privacy/requests/{request_id}/cancel": "cancelPrivacyRequest",
    "GET /v1/privacy/requests/{request_id}/report": "getAccessReport",
    "GET /v1/privacy/requests/{request_id}/download": "downloadExport",
    "POST /v1/privacy/child-reports": "reportChild",
    # billing
    "GET /v1/billing/packs": "listCreditPacks",
    "GET /v1/billing/balance": "getBalance",
    "GET /v1/billing/ledger": "listLedgerEntries",
    "POST /v1/billing/checkout": "createCheckout",
    "GET /v1/billing/checkout/return": "getCheckoutReturn",
    "POST /v1/billing/webhooks/stripe": "receiveStripeWebhook",
    # generation
    "POST /v1/uploads": "createUpload",
    "GET /v1/uploads": "listUploads",
    "GET /v1/uploads/{upload_id}": "getUpload",
    "DELETE /v1/uploads/{upload_id}": "deleteUpload",
    "POST /v1/generations": "createGeneration",
    "GET /v1/generations": "listGenerations",
    "GET /v1/generations/{generation_id}": "getGeneration",
    "DELETE /v1/generations/{generation_id}": "deleteGeneration",
    "POST /v1/generations/{generation_id}/cancel": "cancelGeneration",
    "GET /v1/objects/{key}": "downloadObject",
    # support
    "POST /v1/support/tickets": "createTicket",
    "GET /v1/support/tickets": "listTickets",
    "GET /v1/support/tickets/{ticket_id}": "getTicket",
    "POST /v1/support/address-requests": "requestTicketsByAddress",
    "POST /v1/support/address-requests/confirm": "confirmTicketsByAddress",
    # staff
    "GET /v1/admin/analytics/summary": "getAnalyticsSummary",
    "GET /v1/admin/audit-events": "listAuditEvents",
    "POST /v1/admin/policy/versions": "publishPolicyVersion",
    "GET /v1/admin/policy/versions/{version}/notices": "getPolicyNotices",
    "GET /v1/admin/subjects/{subject_id}/consent": "getSubjectConsent",
    "GET /v1/admin/privacy/requests": "listPrivacyRequestQueue",
    "GET /v1/admin/privacy/requests/{request_id}": "viewPrivacyRequest",
    "POST /v1/admin/privacy/requests/{request_id}/approve": "approvePrivacyRequest",
    "POST /v1/admin/privacy/requests/{request_id}/reject": "rejectPrivacyRequest",
    "POST /v1/admin/privacy/requests/{request_id}/extend": "extendPrivacyRequest",
    "POST /v1/admin/privacy/requests/{request_id}/expedite": "expeditePrivacyRequest",
    "GET /v1/admin/privacy/processor-notifications": "listProcessorNotifications",
    "POST /v1/admin/marketing/campaigns": "createMarketingCampaign",
    "GET /v1/admin/marketing/campaigns/{campaign_id}": "getMarketingCampaign",
    "GET /v1/admin/child-reports": "listChildReports",
    "GET /v1/admin/child-reports/{report_id}": "viewChildReport",
    "POST /v1/admin/child-reports/{report_id}/confirm": "confirmChildReport",
    "POST /v1/admin/child-reports/{report_id}/dismiss": "dismissChildReport",
    "POST /v1/abuse-reports": "reportAbuse",
    "GET /v1/admin/abuse-reports": "listAbuseReports",
    "GET /v1/admin/abuse-reports/{report_id}": "viewAbuseReport",
    "POST /v1/admin/abuse-reports/{report_id}/takedown": "takeDownReportedGeneration",
    "POST /v1/admin/abuse-reports/{report_id}/dismiss": "dismissAbuseReport",
    "GET /v1/admin/moderation/reviews": "listModerationReviews",
    "POST /v1/admin/moderation/reviews/{review_id}/lift": "liftModerationReview",
    "POST /v1/admin/moderation/reviews/{review_id}/suspend": "suspendModerationReview",
    "GET /v1/admin/privacy/tickets": "listPrivacyTicketQueue",
    "GET /v1/admin/privacy/tickets/{ticket_id}": "viewPrivacyTicket",
    "POST /v1/admin/privacy/tickets/{ticket_id}/reply": "replyToPrivacyTicket",
    "POST /v1/admin/privacy/tickets/{ticket_id}/close": "closePrivacyTicket",
    "GET /v1/admin/support/tickets": "listSupportTicketQueue",
    "GET /v1/admin/support/tickets/{ticket_id}": "viewSupportTicket",
    "POST /v1/admin/support/tickets/{ticket_id}/reply": "replyToSupportTicket",
    "POST /v1/admin/support/tickets/{ticket_id}/close": "closeSupportTicket",
    # operations
    "GET /health": "getHealth",
    "GET /ready": "getReadiness",
}
"""Every operation's id: a verb and what it acts on, camelCase, unique (``tests/unit/test_openapi_contract.py``)."""

BINARY_BODIES: dict[str, tuple[str, ...]] = {
    "downloadObject": ("image/png", "image/jpeg", "image/webp", "video/mp4"),  # uploads' and outputs' media types
    "downloadExport": ("application/zip",),
}
"""Operations whose success body is bytes, and the media types they can serve (``type: string, format: binary``)."""

DEVICE_COOKIE_READERS = frozenset(
    {"getConsent", "setConsent", "listConsentHistory", "recordAnalyticsEvents", "createToken"}
)
"""Operations that read the ``dreamina_device`` cookie (an anonymous device's consent choices)."""


def _specific_problems() -> dict[str, tuple[type[DomainError], ...]]:
    from dreamina.domain.billing import errors as billing
    from dreamina.domain.consent.improvement import ObjectionInForce
    from dreamina.domain.consent.marketing_links import UnsubscribeLinkInvalid
    from dreamina.domain.data_rights import errors as data_rights
    from dreamina.domain.generation.abuse_review import AbuseReportClosed
    from dreamina.domain.generation.errors import ImageTooLarge, KindNotAvailable, UnsupportedImage
    from dreamina.domain.generation.moderation import ContentRefused, UnderModerationReview
    from dreamina.domain.generation.moderation_review import ReviewClosed
    from dreamina.domain.generation.uploads import UploadInUse
    from dreamina.domain.identity.child_report_review import BirthDateBelowMinimum, ReportClosed
    from dreamina.domain.identity.child_report_statement import NoAgeReview
    from dreamina.domain.identity.password_changes import ResetTokenInvalid
    from dreamina.domain.identity.proofs import InvalidToken, ReauthenticationRequired
    from dreamina.domain.identity.sessions import SignInCodeRequired
    from dreamina.domain.support.errors import TicketClosed
    from dreamina.ports.data_rights import RequestNotOpen

    restricted = (errors.UnderAgeReview, errors.ProcessingRestricted)
    # (a malformed Idempotency-Key never reaches the domain's MalformedIdempotencyKey: the header's declared pattern
    # refuses it first, as 400 validation_failed)
    idempotent = (errors.IdempotencyKeyReused,)
    open_request = (RequestNotOpen,)
    return {
        "signUp": (errors.AgeRequirementNotMet, errors.PolicyVersionNotCurrent),
        "createToken": (SignInCodeRequired, errors.TooManyAttempts),
        "updateMe": (ReauthenticationRequired, errors.TooManyAttempts),
        "changePassword": (ReauthenticationRequired, errors.TooManyAttempts),
        "verifyEmail": (InvalidToken,),
        "confirmEmailChange": (InvalidToken,),
        "undoEmailChange": (InvalidToken,),
        "completePasswordReset": (ResetTokenInvalid,),
        "resendEmailVerification": (errors.TooManyAttempts,),
        "acceptPolicy": (errors.PolicyVersionNotCurrent,),
        "setImprovementChoice": (ObjectionInForce,),
        "unsubscribeFromMarketing": (UnsubscribeLinkInvalid,),
        "showUnsubscribePage": (UnsubscribeLinkInvalid,),
        "createUpload": (
            UnsupportedImage,
            ImageTooLarge,
            ContentRefused,
            UnderModerationReview,
            *restricted,
            *idempotent,
        ),
        "deleteUpload": (UploadInUse,),
        "createGeneration": (
            KindNotAvailable,
            ContentRefused,
            UnderModerationReview,
            billing.InsufficientCredits,
            *restricted,
            *idempotent,
        ),
        "createCheckout": (billing.UnknownPack, billing.PaymentProcessorUnavailable, *restricted, *idempotent),
        "receiveStripeWebhook": (billing.InvalidSignature, billing.InvalidEvent, billing.EventNotReady),
        "submitPrivacyRequest": (data_rights.IdentityProofFailed,),  # a wrong password given as proof
        "verifyPrivacyRequest": (data_rights.IdentityProofFailed, errors.TooManyAttempts, *open_request),
        "sendPrivacyRequestCode": (data_rights.IdentityProofFailed, *open_request),  # no more codes for it
        "cancelPrivacyRequest": open_request,
        "approvePrivacyRequest": open_request,
        "rejectPrivacyRequest": open_request,
        "extendPrivacyRequest": (data_rights.ExtensionNotAllowed, *open_request),
        "expeditePrivacyRequest": open_request,
        "downloadExport": (data_rights.ExportExpired,),
        "reportChild": (errors.TooManyAttempts,),
        "answerAgeReview": (NoAgeReview,),
        "confirmChildReport": (ReportClosed, BirthDateBelowMinimum),
        "dismissChildReport": (ReportClosed,),
        "reportAbuse": (errors.TooManyAttempts,),
        "takeDownReportedGeneration": (AbuseReportClosed,),
        "dismissAbuseReport": (AbuseReportClosed,),
        "liftModerationReview": (ReviewClosed,),
        "suspendModerationReview": (ReviewClosed,),
        "replyToPrivacyTicket": (TicketClosed,),
        "closePrivacyTicket": (TicketClosed,),
        "replyToSupportTicket": (TicketClosed,),
        "closeSupportTicket": (TicketClosed,),
        "downloadObject": (errors.Forbidden,),  # a signature that does not verify or has expired
    }


SPECIFIC_PROBLEMS = _specific_problems()
"""The domain errors an operation can answer beyond those every operation of its kind can (see ``openapi.py``)."""
