"""Identity use cases: sign up, sign in, sessions, and the subject's own profile."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from dreamina.domain.identity.age_gate import check_age
from dreamina.domain.identity.child_report_filing import ReportFiling
from dreamina.domain.privacy.errors import (
    AgeRequirementNotMet,
    AuthenticationFailed,
    Conflict,
    DomainError,
    InvalidInput,
    KeyDestroyed,
    NotFound,
    PolicyVersionNotCurrent,
    TooManyAttempts,
)
from dreamina.domain.privacy.jurisdictions import JurisdictionTable, normalise_location
from dreamina.domain.privacy.keyring import Keyrings, SubjectKeyring
from dreamina.domain.privacy.policy import current_version, names_version
from dreamina.domain.privacy.validation import clean_text, normalise_email
from dreamina.ports.audit import AuditEvent
from dreamina.ports.child_reports import GenerationStopper, ReportSource
from dreamina.ports.clock import Clock
from dreamina.ports.identity import Account, AccountStatus, AuthSession
from dreamina.ports.keys import KeyVault
from dreamina.ports.mail import Mailer, MailMessage
from dreamina.ports.policy import PolicyAcceptance
from dreamina.ports.security import AttemptCounter, PasswordHasher
from dreamina.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_DISPLAY_NAME = 100
CONTENT_RETENTION_DAYS = (1, 3650)  # the range a subject may choose for the automatic deletion of generations
EMAIL_INDEX = "email"


@dataclass(frozen=True, slots=True)
class SignUp:
    email: str
    password: str
    birth_date: date
    country: str
    region: str | None
    accept_policy_version: int | str
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for: a signed-in subject and the session it came through."""

    account_id: UUID
    session_id: UUID


@dataclass(frozen=True, slots=True)
class Profile:
    id: UUID
    email: str
    display_name: str | None
    birth_date: date
    country: str
    region: str | None
    status: str
    created_at: datetime
    updated_at: datetime
    content_retention_days: int | None = None


@dataclass(frozen=True, slots=True)
class IdentityRules:
    """Tunables from configuration."""

    token_ttl: timedelta = timedelta(days=7)
    login_max_failures: int = 5
    login_window_seconds: int = 900


def hash_token(token: str) -> str:
    """Bearer tokens carry 256 random bits, so a plain SHA-256 is enough to make the stored value useless."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class Accounts:
    """The identity module's use cases. Each method is one unit of work that commits itself."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        vault: KeyVault,
        keyrings: Keyrings,
        passwords: PasswordHasher,
        mailer: Mailer,
        clock: Clock,
        attempts: AttemptCounter,
        jurisdictions: JurisdictionTable,
        generations: GenerationStopper,
        rules: IdentityRules | None = None,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._keyrings = keyrings
        self._passwords = passwords
        self._mailer = mailer
        self._clock = clock
        self._attempts = attempts
        self._jurisdictions = jurisdictions
        self._generations = generations
        self._filing = ReportFiling(vault, keyrings.cipher)
        self._rules = rules or IdentityRules()
        # A real hash to verify against when no account matches, so timing does not reveal registration.
        self._decoy_hash = passwords.hash(secrets.token_urlsafe(16))

    def _keyring(self, uow: UnitOfWork) -> SubjectKeyring:
        return self._keyrings(uow.subject_keys)

    def _email_index(self, email: str) -> str:
        return self._vault.blind_index(EMAIL_INDEX, email)

    # -- sign-up ------------------------------------------------------------------------------------------------

    async def sign_up(self, command: SignUp) -> UUID:
        """Create an account, or answer a taken email exactly as a new one (its owner is told by mail).

        Everything is validated, including the age gate, before anything is stored: a refused attempt leaves
        no trace (G8).
        """
        email = normalise_email(command.email)
        password = _check_password(command.password)
        display_name = _clean_display_name(command.display_name)
        country, region = normalise_location(command.country, command.region)
        now = self._clock.now()

        async with self._uow() as uow:
            policy = current_version(await uow.policies.list(), now)
        if policy is None:
            raise NotFound("no privacy policy is in effect")
        if not names_version(policy, command.accept_policy_version):
            raise PolicyVersionNotCurrent(
                f"accept_policy_version must name the current policy (version {policy.version}, "
                f"sha256 {policy.content_sha256})",
                current_version=policy.version,
                current_sha256=policy.content_sha256,
            )
        check_age(command.birth_date, now.date(), country, region, self._jurisdictions)

        password_hash = await asyncio.to_thread(self._passwords.hash, password)
        email_index = self._email_index(email)
        account_id = uuid.uuid4()
        async with self._uow() as uow:
            if await uow.accounts.get_by_email_index(email_index) is None:
                keyring = self._keyring(uow)
                await keyring.create(account_id)
                account = Account(
                    id=account_id,
                    email_index=email_index,
                    email_ciphertext=await keyring.seal(account_id, "email", email),
                    display_name_ciphertext=(
                        await keyring.seal(account_id, "display_name", display_name) if display_name else None
                    ),
                    birth_date_ciphertext=await keyring.seal(account_id, "birth_date", command.birth_date.isoformat()),
                    country=country,
                    region=region,
                    password_hash=password_hash,
                    status=AccountStatus.ACTIVE,
                    created_at=now,
                    updated_at=now,
                )
                try:
                    await uow.accounts.add(account)
                    await uow.acceptances.add(
                        PolicyAcceptance(
                            id=uuid.uuid4(),
                            subject_id=account_id,
                            policy_version=policy.version,
                            content_sha256=policy.content_sha256,
                            method="sign_up",
                            accepted_at=now,
                        )
                    )
                    await uow.commit()
                    created = True
                except Conflict:  # lost a race with a concurrent sign-up for the same email
                    await uow.rollback()
                    created = False
            else:
                created = False

        if created:
            await self._mailer.send(
                MailMessage(
                    to=email,
                    subject="Welcome to Dreamina",
                    body="Your Dreamina account is ready. You can sign in now.\n",
                    kind="welcome",
                )
            )
        else:
            await self._mailer.send(
                MailMessage(
                    to=email,
                    subject="Someone tried to sign up with your email",
                    body=(
                        "Somebody (perhaps you) tried to create a Dreamina account with this email address, "
                        "which already has an account. No new account was created. If it was you, sign in "
                        "instead; if it was not, you can ignore this message.\n"
                    ),
                    kind="duplicate_signup",
                )
            )
        # A taken email gets a fresh id that names nothing, so the answer has the same shape either way.
        return account_id

    # -- sign-in ------------------------------------------------------------------------------------------------

    async def issue_token(self, email: str, password: str) -> IssuedToken:
        """Sign in with email and password; failed attempts per account are throttled."""
        try:
            email = normalise_email(email)
        except InvalidInput as exc:
            raise AuthenticationFailed("email or password is wrong") from exc
        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            raise AuthenticationFailed("email or password is wrong")
        email_index = self._email_index(email)
        throttle_key = "login:" + self._vault.blind_index("login-throttle", email)
        if await self._attempts.count(throttle_key) >= self._rules.login_max_failures:
            raise TooManyAttempts(
                "too many failed sign-in attempts; try again later",
                retry_after_seconds=max(1, await self._attempts.retry_after(throttle_key)),
            )

        async with self._uow() as uow:
            account = await uow.accounts.get_by_email_index(email_index)
        # Argon2 runs off the event loop and outside any transaction: no connection is held while it works.
        if account is None:
            await asyncio.to_thread(self._passwords.verify, self._decoy_hash, password)
            await self._attempts.hit(throttle_key, self._rules.login_window_seconds)
            raise AuthenticationFailed("email or password is wrong")
        if not await asyncio.to_thread(self._passwords.verify, account.password_hash, password):
            await self._attempts.hit(throttle_key, self._rules.login_window_seconds)
            raise AuthenticationFailed("email or password is wrong")
        if not account.is_active:
            raise AuthenticationFailed("this account cannot sign in")
        rehashed = None
        if self._passwords.needs_rehash(account.password_hash):
            rehashed = await asyncio.to_thread(self._passwords.hash, password)
        now = self._clock.now()
        token = secrets.token_urlsafe(32)
        expires_at = now + self._rules.token_ttl
        async with self._uow() as uow:
            if rehashed is not None:
                current = await uow.accounts.get(account.id)
                if current is not None and current.password_hash == account.password_hash:
                    current.rehash_password(rehashed, now)
                    await uow.accounts.update(current)
            await uow.sessions.add(
                AuthSession(
                    id=uuid.uuid4(),
                    account_id=account.id,
                    token_hash=hash_token(token),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            await uow.commit()
        await self._attempts.reset(throttle_key)
        return IssuedToken(access_token=token, expires_at=expires_at)

    async def authenticate(self, token: str) -> Principal:
        """The principal behind a bearer token; raises AuthenticationFailed if unknown, expired or revoked."""
        if not token or len(token) > 512:
            raise AuthenticationFailed("missing or invalid access token")
        async with self._uow() as uow:
            session = await uow.sessions.get_by_token_hash(hash_token(token))
            if session is None or session.expires_at <= self._clock.now():
                raise AuthenticationFailed("missing or invalid access token")
            account = await uow.accounts.get(session.account_id)
            if account is None or not account.is_active:
                raise AuthenticationFailed("missing or invalid access token")
        return Principal(account_id=session.account_id, session_id=session.id)

    async def sign_out(self, principal: Principal) -> None:
        async with self._uow() as uow:
            await uow.sessions.delete(principal.session_id)
            await uow.commit()

    # -- the subject's own profile ------------------------------------------------------------------------------

    async def profile(self, account_id: UUID) -> Profile:
        async with self._uow() as uow:
            account = await uow.accounts.get(account_id)
            if account is None:
                raise NotFound("account not found")
            return await self._profile(self._keyring(uow), account)

    async def update_profile(self, principal: Principal, changes: dict[str, str | None]) -> Profile:
        """Correct the subject's own email, display name or birth date; every change is audited as a rectification
        (field names only).

        A birth date corrected to below the minimum age of the subject's jurisdiction is stored, and the account is
        suspended at once exactly as on a child report, with a report the system raises for staff to review (G8).
        """
        unknown = set(changes) - {"email", "display_name", "birth_date"}
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
        new_email = None
        if "email" in changes:
            if changes["email"] is None:
                raise InvalidInput("email cannot be removed", field="email")
            new_email = normalise_email(changes["email"])
        new_name: str | None = None
        if "display_name" in changes:
            new_name = _clean_display_name(changes["display_name"])
        new_birth = None
        if "birth_date" in changes:
            if changes["birth_date"] is None:
                raise InvalidInput("birth_date cannot be removed", field="birth_date")
            new_birth = parse_birth_date(changes["birth_date"])

        underage = False
        async with self._uow() as uow:
            account = await uow.accounts.get(principal.account_id)
            if account is None:
                raise NotFound("account not found")
            keyring = self._keyring(uow)
            now = self._clock.now()
            changed: list[str] = []
            if new_email is not None:
                current = await keyring.open(account.id, "email", account.email_ciphertext)
                if new_email != current:
                    sealed_email = await keyring.seal(account.id, "email", new_email)
                    account.correct_email(self._email_index(new_email), sealed_email, now)
                    changed.append("email")
            if "display_name" in changes:
                current_name = (
                    await keyring.open(account.id, "display_name", account.display_name_ciphertext)
                    if account.display_name_ciphertext
                    else None
                )
                if new_name != current_name:
                    sealed_name = await keyring.seal(account.id, "display_name", new_name) if new_name else None
                    account.correct_display_name(sealed_name, now)
                    changed.append("display_name")
            if new_birth is not None:
                underage = self._below_minimum_age(new_birth, account)
                current_birth = await keyring.open(account.id, "birth_date", account.birth_date_ciphertext)
                if new_birth.isoformat() != current_birth:
                    sealed_birth = await keyring.seal(account.id, "birth_date", new_birth.isoformat())
                    account.correct_birth_date(sealed_birth, now)
                    changed.append("birth_date")
                else:
                    underage = False  # nothing was corrected: no new report
            if changed:
                try:
                    await uow.accounts.update(account)
                except Conflict as exc:
                    raise Conflict("that email address cannot be used", field="email") from exc
                await uow.audit.append(
                    AuditEvent(
                        id=uuid.uuid4(),
                        subject_id=account.id,
                        actor_kind="subject",
                        actor_id=account.id,
                        action="rectification",
                        fields=tuple(changed),
                        reason="changed by the subject through their profile",
                        occurred_at=now,
                    )
                )
                if underage:
                    await self._filing.file(uow, account, ReportSource.BIRTH_DATE, now)
                await uow.commit()
            profile = await self._profile(keyring, account)
        if underage:
            await self._generations.stop_all(account.id)
        return profile

    def _below_minimum_age(self, birth_date: date, account: Account) -> bool:
        """The age gate's answer for a corrected birth date; impossible dates are refused like at sign-up."""
        try:
            check_age(birth_date, self._clock.now().date(), account.country, account.region, self._jurisdictions)
        except AgeRequirementNotMet:
            return True
        return False

    async def set_content_retention(self, principal: Principal, days: int | None) -> Profile:
        """The subject's choice of how long generations are kept: ``None`` until they delete them, else deleted
        automatically after ``days`` (enforced by the generation module's retention task). Audited by name."""
        days = check_content_retention(days)
        async with self._uow() as uow:
            account = await uow.accounts.get(principal.account_id)
            if account is None:
                raise NotFound("account not found")
            if account.content_retention_days != days:
                now = self._clock.now()
                account.choose_content_retention(days, now)
                await uow.accounts.update(account)
                await uow.audit.append(
                    AuditEvent(
                        id=uuid.uuid4(),
                        subject_id=account.id,
                        actor_kind="subject",
                        actor_id=account.id,
                        action="setting_changed",
                        fields=("content_retention_days",),
                        reason="changed by the subject through their profile",
                        occurred_at=now,
                    )
                )
                await uow.commit()
            return await self._profile(self._keyring(uow), account)

    async def _profile(self, keyring: SubjectKeyring, account: Account) -> Profile:
        try:
            email = await keyring.open(account.id, "email", account.email_ciphertext)
            name = (
                await keyring.open(account.id, "display_name", account.display_name_ciphertext)
                if account.display_name_ciphertext
                else None
            )
            birth = date.fromisoformat(await keyring.open(account.id, "birth_date", account.birth_date_ciphertext))
        except KeyDestroyed:
            raise
        except ValueError as exc:  # tampered ciphertext: fail closed, never serve garbage
            raise DomainError("stored data failed its integrity check") from exc
        return Profile(
            id=account.id,
            email=email,
            display_name=name,
            birth_date=birth,
            country=account.country,
            region=account.region,
            status=account.status.value,
            created_at=account.created_at,
            updated_at=account.updated_at,
            content_retention_days=account.content_retention_days,
        )


def check_content_retention(days: object) -> int | None:
    """``None`` (keep until deleted) or a whole number of days within :data:`CONTENT_RETENTION_DAYS`."""
    low, high = CONTENT_RETENTION_DAYS
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
        raise InvalidInput(
            f"content_retention_days must be null or a whole number from {low} to {high}",
            field="content_retention_days",
        )
    return days


def parse_birth_date(value: object) -> date:
    """A birth date given as a date or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput("birth_date must be a date (YYYY-MM-DD)", field="birth_date")


def _check_password(password: str) -> str:
    if not isinstance(password, str):
        raise InvalidInput("password must be a string", field="password")
    if "\x00" in password:
        raise InvalidInput("password contains a NUL character", field="password")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"password must be at most {MAX_PASSWORD} characters", field="password")
    return password


def _clean_display_name(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = clean_text(value, field="display_name", max_length=MAX_DISPLAY_NAME)
    return cleaned or None
