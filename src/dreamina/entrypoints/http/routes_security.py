"""Routes of sign-in security: password change and reset, sign out everywhere, the subject's sessions."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from dreamina.domain.identity.accounts import Principal
from dreamina.domain.identity.password_changes import PasswordChanges, ResetTokenInvalid
from dreamina.domain.identity.sessions import Sessions
from dreamina.entrypoints.http.auth import AUTH, SECURED
from dreamina.entrypoints.http.face import HttpFace
from dreamina.entrypoints.http.problems import problem_responses
from dreamina.entrypoints.http.rate_limits import OPT_KEY as RATE_LIMIT_OPT
from dreamina.entrypoints.http.rate_limits import SENSITIVE
from dreamina.entrypoints.http.schemas_security import (
    PasswordChangeBody,
    PasswordResetAccepted,
    PasswordResetBody,
    PasswordResetCompleteBody,
    SessionBody,
)


class SecurityController(Controller):
    path = "/v1"
    tags = ["identity"]

    @post(
        "/me/password",
        status_code=HTTP_204_NO_CONTENT,
        dependencies=AUTH,
        security=SECURED,
        summary="Change your password (every other session is signed out; a notice is mailed)",
        opt={RATE_LIMIT_OPT: SENSITIVE},
        responses=problem_responses(400, 401, 403, 413, 422, 429),
    )
    async def change_password(
        self,
        data: JSONBody[PasswordChangeBody],
        principal: NamedDependency[Principal],
        password_changes: NamedDependency[PasswordChanges],
    ) -> None:
        """A wrong ``current_password`` is 403 ``reauthentication_required`` (counted by the throttle: past it,
        429); a new password that is too short or common is 422."""
        await password_changes.change(principal, data.current_password, data.new_password)

    @post(
        "/auth/password-reset",
        status_code=HTTP_202_ACCEPTED,
        summary="Ask for a password-reset code by mail",
        opt={RATE_LIMIT_OPT: SENSITIVE},
        responses=problem_responses(400, 413, 429),
    )
    async def request_reset(
        self, data: JSONBody[PasswordResetBody], password_changes: NamedDependency[PasswordChanges]
    ) -> PasswordResetAccepted:
        """The same answer for every address, registered or not; only an account's address is mailed."""
        await password_changes.request_reset(data.email)
        return PasswordResetAccepted()

    @post(
        "/auth/password-reset/complete",
        status_code=HTTP_204_NO_CONTENT,
        summary="Choose a new password with the mailed reset code (every session is signed out)",
        opt={RATE_LIMIT_OPT: SENSITIVE},
        responses=problem_responses(400, 413, 422, 429),
    )
    async def complete_reset(
        self, data: JSONBody[PasswordResetCompleteBody], password_changes: NamedDependency[PasswordChanges]
    ) -> None:
        """400 ``invalid_token`` for a code that is unknown, used or expired."""
        await password_changes.complete_reset(data.token, data.new_password)

    @post(
        "/auth/logout-all",
        status_code=HTTP_204_NO_CONTENT,
        dependencies=AUTH,
        security=SECURED,
        summary="Sign out everywhere: revoke every session, this one included",
        responses=problem_responses(401),
    )
    async def logout_all(self, principal: NamedDependency[Principal], sessions: NamedDependency[Sessions]) -> None:
        await sessions.sign_out_everywhere(principal)

    @get(
        "/me/sessions",
        dependencies=AUTH,
        security=SECURED,
        summary="Your signed-in sessions (no addresses are kept)",
        responses=problem_responses(401),
    )
    async def list_sessions(
        self, principal: NamedDependency[Principal], sessions: NamedDependency[Sessions]
    ) -> list[SessionBody]:
        return [
            SessionBody(
                id=s.id,
                created_at=s.created_at,
                last_used_at=s.last_used_at,
                device_class=s.device_class,
                current=s.current,
            )
            for s in await sessions.list_sessions(principal)
        ]

    @delete(
        "/me/sessions/{session_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        dependencies=AUTH,
        security=SECURED,
        summary="Sign one of your sessions out",
        responses=problem_responses(401, 404),
    )
    async def revoke_session(
        self, session_id: FromPath[UUID], principal: NamedDependency[Principal], sessions: NamedDependency[Sessions]
    ) -> None:
        """Someone else's session is 404, like one that does not exist."""
        await sessions.revoke(principal, session_id)


FACE = HttpFace(
    routes=[SecurityController],
    problems={ResetTokenInvalid: 400},
    dependencies={"password_changes": lambda c: c.identity.password_changes},
)
