"""The security mail of the identity module: sign-in codes, password-reset links, password-changed notices.

These are security notices: they go to the account's address whether or not it is verified yet (the owner must
hear that their password changed, and a reset or sign-in code is how they get back in)."""

from __future__ import annotations

from datetime import timedelta

from dreamina.ports.mail import MailMessage

SIGN_IN_CODE_TTL = timedelta(minutes=15)
RESET_TOKEN_TTL = timedelta(minutes=30)


def sign_in_code(email: str, code: str) -> MailMessage:
    minutes = int(SIGN_IN_CODE_TTL.total_seconds() // 60)
    return MailMessage(
        to=email,
        subject="Your Dreamina sign-in code",
        body=(
            f"Your code to sign in is {code}. It expires in {minutes} minutes.\n\n"
            "We ask for it because there were many failed sign-in attempts on your account. If they were not "
            "yours, someone is guessing your password: your account is safe as long as they cannot read this "
            "mailbox, and you may want to choose a new, unique password.\n"
        ),
        kind="sign_in_code",
    )


def reset_link(email: str, token: str) -> MailMessage:
    minutes = int(RESET_TOKEN_TTL.total_seconds() // 60)
    return MailMessage(
        to=email,
        subject="Reset your Dreamina password",
        body=(
            f"To choose a new password, enter this reset code in the app within {minutes} minutes:\n{token}\n\n"
            "It works once. If you did not ask for it, ignore this message: your password stays as it is.\n"
        ),
        kind="password_reset",
    )


def password_changed(email: str, *, by_reset: bool) -> MailMessage:
    how = "with a reset link sent to this address" if by_reset else "from a signed-in session"
    signed_out = "every session was signed out" if by_reset else "every other session was signed out"
    return MailMessage(
        to=email,
        subject="Your Dreamina password was changed",
        body=(
            f"The password of your Dreamina account was changed {how}, and {signed_out}.\n"
            "If this was not you, reset your password at once and contact us.\n"
        ),
        kind="password_changed",
    )
