"""Bodies of the sign-in security routes: password change and reset, the subject's sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from dreamina.entrypoints.http.schemas import NewPassword

CurrentPassword = Annotated[str, Meta(min_length=1, max_length=1024, description="the account's current password")]


class PasswordChangeBody(msgspec.Struct, forbid_unknown_fields=True):
    current_password: CurrentPassword
    new_password: NewPassword


class PasswordResetBody(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[
        str,
        Meta(min_length=1, max_length=320, description="any text: the answer is the same whether or not it is ours"),
    ]


class PasswordResetAccepted(msgspec.Struct):
    status: Literal["accepted"] = "accepted"
    detail: str = "If an account has this address, a reset code is on its way. It works once, for 30 minutes."


class PasswordResetCompleteBody(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, Meta(min_length=1, max_length=512, description="the reset code from the mail")]
    new_password: NewPassword


class SessionBody(msgspec.Struct):
    id: UUID
    created_at: datetime
    last_used_at: datetime | None
    device_class: Annotated[str | None, Meta(description="desktop, mobile, tablet, bot or other")]
    current: Annotated[bool, Meta(description="the session this request came through")]
