"""The guarantee-breaking edits ``scripts/mutations`` applies one at a time, with the proofs that must catch each.

``old`` must occur exactly once in ``file`` (a refactoring that moves it makes the mutation stale, and the runner
says so). Names start with the guarantee (DESIGN.md G1-G12) or the README proof-table section they attack.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutation:
    name: str
    what: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    more: tuple[tuple[str, str, str], ...] = ()  # further (file, old, new) edits of the same mutation


D = "src/dreamina/"
RESIDUE = "tests/integration/test_erasure_residue.py"
JOBS = "tests/integration/test_generation_jobs.py"
GENERATION_API = "tests/e2e/test_generation_api.py"
CHILD_REPORTS = ("tests/e2e/test_child_reports_api.py", "tests/unit/test_child_reports.py")
POLICY_CHANGE = "tests/e2e/test_policy_change_and_staff.py"
IMPROVEMENT_HANDOFF = "tests/integration/test_improvement_at_the_handoff.py"

MUTATIONS: list[Mutation] = [
    Mutation(
        "G1-undeclared-column",
        "a new column nobody declared in the data map",
        D + "adapters/sql/models_consent.py",
        "    id: Mapped[UUID] = mapped_column(GUID, unique=True)\n",
        "    id: Mapped[UUID] = mapped_column(GUID, unique=True)\n"
        "    note: Mapped[str | None] = mapped_column(String, nullable=True)\n",
        ("tests/unit/test_data_map_declared.py",),
    ),
    Mutation(
        "G2-card-numbers-in-logs",
        "the log redaction no longer recognises card numbers",
        D + "adapters/logs.py",
        'return "[card]" if 13 <= len(digits) <= 19 and _luhn(digits) else match.group(0)',
        "return match.group(0)",
        ("tests/unit/test_logs.py",),
    ),
    Mutation(
        "G2-card-number-kept-from-events",
        "a payment event's text fields keep long digit runs (a card number in an id, brand or last4)",
        D + "adapters/payments/events.py",
        "    if not isinstance(value, str) or not pattern.match(value) or _LONG_DIGITS.search(value):",
        "    if not isinstance(value, str) or not pattern.match(value):",
        ("tests/unit/test_billing_settings_and_events.py", "tests/e2e/test_billing_no_card_data.py"),
    ),
    Mutation(
        "G3-analytics-without-consent",
        "analytics events are stored without an analytics consent",
        D + "domain/consent/analytics.py",
        '        if not state.analytics_allowed:\n            return IngestResult(0, len(events), "no_consent")\n',
        "",
        ("tests/e2e/test_consent_api.py",),
    ),
    Mutation(
        "objection-ignored",
        "an objection to analytics no longer stops analytics",
        D + "domain/consent/analytics.py",
        "        if requester.subject_id is not None and await self._objections.objects_to(",
        "        if False and await self._objections.objects_to(",
        ("tests/e2e/test_consent_api.py",),
    ),
    Mutation(
        "GPC-marketing-back-on",
        "a later choice can turn marketing back on after a GPC signal",
        D + "domain/consent/preferences.py",
        "                        marketing=choices.marketing and not gpc,\n",
        "                        marketing=choices.marketing,\n",
        ("tests/e2e/test_consent_api.py",),
    ),
    Mutation(
        "G11-consent-without-version",
        "a consent choice is recorded under policy version 1 whatever is in effect",
        D + "domain/consent/preferences.py",
        "                        method=method,\n                        policy_version=policy.version,\n",
        "                        method=method,\n                        policy_version=1,\n",
        ("tests/e2e/test_policy_change_and_staff.py", "tests/e2e/test_consent_api.py"),
    ),
    Mutation(
        "G4-restricted-subject-submits",
        "a restricted subject's generation is accepted",
        D + "domain/generation/generations.py",
        "            if await uow.restrictions.get(subject_id) is not None:",
        "            if False:",
        ("tests/e2e/test_generation_api.py", "tests/e2e/test_restriction_at_every_port.py"),
    ),
    Mutation(
        "G4-runner-ignores-restriction",
        "a job whose subject was restricted after submission is still sent",
        D + "domain/generation/runner.py",
        "            if await uow.restrictions.get(generation.subject_id) is not None:",
        "            if False:",
        (JOBS,),
    ),
    Mutation(
        "G5-export-isolation",
        "the export's analytics query without its pseudonym filter (every subject's events)",
        D + "adapters/sql/repositories_consent.py",
        "statement = select(AnalyticsEventRow.__table__).where(AnalyticsEventRow.pseudonym.in_(chunk))",
        "statement = select(AnalyticsEventRow.__table__)",
        (RESIDUE,),
    ),
    Mutation(
        "G5-export-isolation-memory",
        "the in-memory store's analytics lookup returns every subject's events",
        D + "adapters/memory/consent.py",
        "for _, e in self._table.rows() if e.pseudonym in wanted), key=lambda e: (e.day, e.id.bytes))",
        "for _, e in self._table.rows()), key=lambda e: (e.day, e.id.bytes))",
        (RESIDUE, "tests/e2e/test_data_rights_api.py"),
    ),
    Mutation(
        "G6-erasure-keeps-analytics",
        "erasure keeps the subject's analytics events",
        D + "domain/consent/personal_data.py",
        "            deleted += await uow.analytics_events.delete_pseudonyms(self._pseudonyms(subject_id))\n",
        "",
        (RESIDUE,),
    ),
    Mutation(
        "G6-erasure-keeps-the-data-key",
        "erasure keeps the subject's data key (neither destroyed nor deleted: every sealed copy stays readable)",
        D + "domain/data_rights/holders.py",
        "            await keyring.destroy(subject_id)\n"
        "            removed = await uow.subject_keys.delete(subject_id)\n",
        "            removed = False\n",
        (RESIDUE, "tests/e2e/test_data_rights_jobs.py"),
    ),
    Mutation(
        "G7-analytics-kept-too-long",
        "analytics events are purged after 200 days instead of 180",
        D + "domain/consent/retention.py",
        "delete_before(now.date() - timedelta(days=RETENTION_DAYS), limit)",
        "delete_before(now.date() - timedelta(days=RETENTION_DAYS + 20), limit)",
        ("tests/integration/test_retention_schedule_proofs.py",),
    ),
    Mutation(
        "G8-age-gate-off-by-one",
        "the age gate admits people one year under the minimum age",
        D + "domain/identity/age_gate.py",
        "    if age_on(birth_date, today) < minimum:",
        "    if age_on(birth_date, today) < minimum - 1:",
        ("tests/e2e/test_age_gate.py",),
    ),
    Mutation(
        "G9-extension-without-limit",
        "an extension is granted from the extended date again (no cap)",
        D + "domain/data_rights/clock.py",
        "    return due_date(current_due, rule.extension)",
        "    return due_date(current_due + timedelta(days=1), rule.extension)",
        ("tests/unit/test_data_rights_clock.py",),
    ),
    Mutation(
        "G10-disclosure-after-the-request",
        "the hand-off's ledger entry is written after the provider was called, in its own transaction",
        D + "domain/generation/handoff.py",
        "        if processor is not None:\n            await uow.disclosures.record(",
        "        if False:\n            await uow.disclosures.record(",
        (JOBS,),
        more=(
            (
                D + "domain/generation/runner.py",
                "                job = await provider.submit(request)\n",
                "                job = await provider.submit(request)\n"
                "                if provider.capabilities.processor is not None:\n"
                "                    import uuid as _uuid\n"
                "                    from dreamina.ports.disclosures import Disclosure as _Disclosure\n"
                "                    async with self._uow() as late:\n"
                "                        await late.disclosures.record(_Disclosure(_uuid.uuid4(),"
                " generation.subject_id, provider.capabilities.processor, ('content',), 'generate_content',"
                " str(generation.id), generation.updated_at))\n"
                "                        await late.commit()\n",
            ),
        ),
    ),
    Mutation(
        "7-mail-redelivered-after-a-kill",
        "a message the outbox folder already holds is written again after a worker died between send and forget",
        D + "adapters/mail/outbox.py",
        '        if once and any(self.directory.glob(f"[!.]*-{ident}.eml")):',
        "        if False:",
        ("tests/contract/test_mailer_contract.py", "tests/e2e/test_kill_inside_a_privacy_step.py"),
    ),
    Mutation(
        "G12-tokens-stored-in-clear",
        "bearer and link tokens are stored as issued instead of hashed",
        D + "domain/identity/sessions.py",
        '    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()',
        "    return token",
        ("tests/integration/test_tokens_at_rest.py",),
    ),
    Mutation(
        "G4-restricted-subject-uploads",
        "a subject who restricted processing can still upload (the image is decoded, re-encoded and stored)",
        D + "domain/generation/uploads.py",
        "            if await uow.restrictions.is_restricted(subject_id):"
        "  # G4: decoding and storing it is processing\n"
        '                raise ProcessingRestricted("your data may not be processed'
        ' while the restriction is in place")\n',
        "",
        ("tests/e2e/test_restriction_at_every_port.py",),
    ),
    Mutation(
        "section6-upload-deletion-keeps-the-image",
        "deleting an upload removes its row but leaves the image in the object store",
        D + "domain/generation/uploads.py",
        "            await self._store.delete(upload.object_key)\n",
        "",
        ("tests/e2e/test_uploads_api.py",),
    ),
    Mutation(
        "section10-notice-period-unchecked",
        "a new policy version may take effect with less than the minimum notice (35 minutes was accepted)",
        D + "domain/consent/policy_changes.py",
        "        if effective_at < self._clock.now() + self._min_notice:\n",
        "        if effective_at < self._clock.now():\n",
        ("tests/e2e/test_policy_change_and_staff.py",),
    ),
    Mutation(
        "G12-revoked-token-still-cached",
        "signing out everywhere (or a password/email change) no longer clears this process's cache of checked tokens",
        D + "adapters/sql/repositories_identity.py",
        "    async def delete_for_account(self, account_id: UUID, *, keep: UUID | None = None) -> int:\n"
        '        record_change(self._session.info, ("account", account_id))\n',
        "    async def delete_for_account(self, account_id: UUID, *, keep: UUID | None = None) -> int:\n",
        ("tests/e2e/test_passwords_and_sessions.py", "tests/e2e/test_email_verification_and_change.py"),
    ),
    Mutation(
        "G12-suspended-account-still-cached",
        "an account's status change (suspension while an erasure runs) does not end its cached tokens",
        D + "adapters/sql/repositories_identity.py",
        "        _check_account(account)\n"
        '        record_change(self._session.info, ("account", account.id))  # its status may end its sessions\n',
        "        _check_account(account)\n",
        ("tests/contract/test_repositories_contract.py",),
    ),
    Mutation(
        "G12-another-subjects-generation",
        "a generation of another subject is readable by id",
        D + "domain/generation/generations.py",
        "        if generation is None or generation.subject_id != subject_id:",
        "        if generation is None:",
        ("tests/e2e/test_generation_api.py",),
    ),
    Mutation(
        "G12-another-subjects-upload",
        "a generation may use another subject's upload as its reference image",
        D + "domain/generation/generations.py",
        "                    if upload is None or upload.subject_id != subject_id:",
        "                    if upload is None:",
        ("tests/e2e/test_generation_api.py",),
    ),
    Mutation(
        "G12-staff-read-unaudited",
        "a staff read of a subject's consent history is no longer audited",
        D + "domain/consent/preferences.py",
        '                    action="staff_read",\n                    fields=("consent_records",),',
        '                    action="other",\n                    fields=("consent_records",),',
        ("tests/e2e/test_policy_change_and_staff.py",),
    ),
    Mutation(
        "G12-expired-download-links",
        "a signed download link keeps working after it expired",
        D + "adapters/object_store.py",
        "        return valid and now.timestamp() < expires",
        "        return valid",
        ("tests/e2e/test_signed_downloads.py",),
    ),
    Mutation(
        "section8-metadata-kept",
        "uploads keep their metadata (EXIF, GPS, XMP)",
        D + "adapters/images.py",
        "        clean.info.clear()\n",
        "",
        ("tests/unit/test_image_sanitizer.py", "tests/e2e/test_generation_api.py"),
    ),
    Mutation(
        "section8-no-security-headers",
        "responses lose X-Content-Type-Options",
        D + "entrypoints/http/middleware.py",
        '    (b"x-content-type-options", b"nosniff"),\n',
        "",
        ("tests/e2e/test_security_hardening.py",),
    ),
    Mutation(
        "section8-emails-in-logs",
        "log redaction keeps email addresses",
        D + "adapters/logs.py",
        '_EMAIL = re.compile(r"[^\\s@<>\\"\'(),;:]+@[^\\s@<>\\"\'(),;:]+\\.[A-Za-z0-9-]{2,}")',
        '_EMAIL = re.compile(r"(?!x)x")',
        ("tests/unit/test_logs.py", "tests/e2e/test_logs_carry_no_personal_data.py"),
    ),
    # -- the rows of the README's proof table that no guarantee above covers ------------------------------------
    Mutation(
        "section5-stripe-email-unrecorded",
        "the email sent to Stripe to create the customer is no longer written to the disclosure ledger",
        D + "domain/billing/checkout.py",
        "                if self._processor.processor is not None and email is not None:\n"
        "                    await uow.disclosures.record(\n"
        "                        Disclosure(\n"
        "                            id=uuid.uuid4(),\n"
        "                            subject_id=subject_id,\n"
        "                            processor=self._processor.processor,\n"
        "                            categories=(DataCategory.ACCOUNT.value,),\n"
        "                            purpose=Purpose.PAYMENTS.value,\n"
        "                            reference=customer_id,\n"
        "                            occurred_at=now,\n"
        "                        )\n"
        "                    )\n",
        "",
        ("tests/e2e/test_billing_api.py",),
    ),
    Mutation(
        "section6-legal-hold-keeps-the-subject",
        "erasure rekeys the ledger's idempotency keys but leaves the subject id on the ledger entries (SQL)",
        D + "adapters/sql/repositories_billing.py",
        "                subject_id=tombstone,\n",
        "",
        ("tests/integration/test_billing_ledger_and_events.py",),
    ),
    Mutation(
        "section7-rectification-unaudited",
        "a profile correction is audited under a generic action, not as a rectification",
        D + "domain/identity/profiles.py",
        '                        action="rectification",\n',
        '                        action="profile_updated",\n',
        ("tests/e2e/test_identity_api.py",),
    ),
    Mutation(
        "section8-email-index-in-clear",
        "the email's blind index is replaced by the normalised address itself",
        D + "domain/identity/accounts.py",
        "    return vault.blind_index(EMAIL_INDEX, email)",
        "    return email",
        ("tests/integration/test_security_at_rest.py",),
    ),
    Mutation(
        "section8-passwords-not-argon2id",
        "passwords are hashed with Argon2i instead of Argon2id",
        D + "adapters/passwords.py",
        "            type=argon2.Type.ID,",
        "            type=argon2.Type.I,",
        ("tests/unit/test_passwords.py",),
    ),
    Mutation(
        "section8-sign-in-unthrottled",
        "sign-in no longer goes through the throttle (unlimited password guesses)",
        D + "domain/identity/sessions.py",
        "            try:\n"
        "                await self._checks.admit(SIGN_IN, email)\n"
        "            except TooManyAttempts:\n"
        "                await self._challenge(email)\n"
        "                raise SignInCodeRequired(\n"
        '                    "too many failed sign-ins for this address: sign in with the code we mailed to it"\n'
        "                ) from None\n",
        "",
        ("tests/e2e/test_sign_in_throttle.py",),
    ),
    Mutation(
        "G8-confirmed-child-report-waits",
        "a confirmed child report opens an erasure that waits the ordinary grace period instead of running at once",
        D + "domain/data_rights/queue.py",
        "            await self._fulfilment.carry_out(uow, request, {}, now, grace=timedelta(0))",
        "            await self._fulfilment.carry_out(uow, request, {}, now, grace=self.rules.erasure_grace)",
        CHILD_REPORTS,
    ),
    Mutation(
        "G8-age-review-lets-generations-through",
        "an account under age review can still start generations",
        D + "domain/generation/generations.py",
        "                await refuse_during_age_review(uow.accounts, subject_id)\n",
        "",
        ("tests/e2e/test_age_review_api.py",),
    ),
    Mutation(
        "G6-holder-not-wired",
        "the support module no longer contributes its personal-data holder (tickets neither exported nor erased)",
        D + "wiring/support.py",
        "            holders=(SupportPersonalData(uow=infra.uow, keyrings=infra.keyrings),),",
        "            holders=(),",
        ("tests/unit/test_data_rights_completeness.py",),
    ),
    Mutation(
        "section10-notices-without-mail",
        "policy-change notices are recorded (and continued use later deemed acceptance) but no mail is sent",
        D + "domain/consent/policy_changes.py",
        "                await self._mail.queue(uow, self._notice_mail(address, policy), subject_id=subject_id)\n",
        "                pass\n",
        (POLICY_CHANGE, "tests/e2e/test_policy_notices_job.py"),
    ),
    Mutation(
        "section6-deletion-keeps-outputs",
        "deleting a generation leaves its output objects in the object store",
        D + "domain/generation/removal.py",
        "        await self._store.delete_prefix(outputs)\n",
        "",
        (GENERATION_API,),
    ),
    Mutation(
        "section11-privacy-ticket-on-the-default-clock",
        "a signed-in subject's privacy ticket is due by the GDPR default, not by their own jurisdiction's clock",
        D + "domain/support/tickets.py",
        "                rule = self._jurisdictions.resolve(account.country, account.region)\n",
        "",
        ("tests/unit/test_support_tickets.py", "tests/e2e/test_support_api.py"),
    ),
    Mutation(
        "section10-stale-policy-accepted",
        "sign-up accepts any published policy version (a client's cached, outdated one) and records the current one",
        D + "domain/identity/registrations.py",
        "            policy = current_version(await uow.policies.list(), now)\n"
        "        if policy is None:\n"
        '            raise NotFound("no privacy policy is in effect")\n'
        "        if not names_version(policy, command.accept_policy_version):\n",
        "            published = await uow.policies.list()\n"
        "            policy = current_version(published, now)\n"
        "        if policy is None:\n"
        '            raise NotFound("no privacy policy is in effect")\n'
        "        if not any(names_version(v, command.accept_policy_version) for v in published):\n",
        ("tests/e2e/test_identity_api.py",),
    ),
    Mutation(
        "section5-registry-drops-a-provider",
        "Runway leaves the public record of processors (and the data map's provider list) while its adapter still"
        " sends it prompts and images",
        D + "domain/privacy/processors.py",
        "    ProcessorDeclaration(\n"
        '        id="runway",\n'
        '        name="Runway AI, Inc.",\n'
        '        role="AI model provider: generates videos from images and prompts",\n'
        '        location="US (Standard Contractual Clauses)",\n'
        '        retention="task outputs expire; tasks deleted on our request",\n'
        "        purposes=(Purpose.GENERATION,),\n"
        "    ),\n",
        "",
        ("tests/e2e/test_policy_facts.py",),
        more=((D + "domain/privacy/processors.py", '("openai", "replicate", "runway")', '("openai", "replicate")'),),
    ),
    Mutation(
        "section5-record-ignores-the-configuration",
        "the public record lists every declared processor whatever is configured",
        "src/dreamina/bootstrap.py",
        "            data_map=data_map.configured(",
        "            data_map=data_map or data_map.configured(",
        ("tests/e2e/test_policy_facts.py",),
    ),
    Mutation(
        "section11-contact-placeholder-served",
        "the served policy keeps the company document's placeholder instead of the operator's privacy contact",
        D + "domain/privacy/policy.py",
        "    for worded, slot in WORDED_SLOTS:\n        text = text.replace(worded, slot)\n",
        "",
        ("tests/e2e/test_policy_facts.py",),
    ),
    Mutation(
        "section4-full-address-to-the-lookup",
        "the country lookup of analytics ingest is given the full client address instead of its /24 or /48 network",
        D + "domain/consent/analytics.py",
        "        traits = self._classifier.classify(truncate_address(address), user_agent[:512])",
        "        traits = self._classifier.classify(address, user_agent[:512])",
        ("tests/e2e/test_consent_api.py",),
    ),
    Mutation(
        "section5-disclosures-one-per-processor",
        "GET /v1/me/disclosures shows one (the latest) hand-off per processor instead of every hand-off",
        D + "domain/privacy/disclosures.py",
        "            return await uow.disclosures.list_for_subject(subject_id)",
        "            found = await uow.disclosures.list_for_subject(subject_id)\n"
        "        return list({d.processor: d for d in found}.values())",
        (POLICY_CHANGE,),
    ),
    Mutation(
        "section6-expiry-keeps-the-provider-copy",
        "content expired by the owner's retention setting is deleted here but the provider is not asked to delete"
        " its copy (unlike DELETE /v1/generations/{id})",
        D + "domain/generation/expiry.py",
        "        for generation in batch:\n            await self._provider_jobs.forget_everywhere(generation)\n",
        "",
        ("tests/e2e/test_content_retention_api.py",),
    ),
    Mutation(
        "section5-improvement-objection-ignored",
        "an objection to product_improvement no longer wins over the subject's choice at the hand-off",
        D + "domain/privacy/improvement.py",
        "    if await uow.objections.objects_to(subject_id, Purpose.PRODUCT_IMPROVEMENT):\n        return False\n",
        "",
        (IMPROVEMENT_HANDOFF,),
    ),
    Mutation(
        "section5-disclosure-without-improvement-choice",
        "a hand-off's disclosure no longer records whether the subject allowed improvement use",
        D + "domain/generation/handoff.py",
        "                    improvement_allowed=allowed,\n",
        "",
        (IMPROVEMENT_HANDOFF, "tests/e2e/test_improvement_api.py"),
    ),
    Mutation(
        "section5-vendor-copy-kept-without-improvement",
        "Runway keeps the finished task although the subject did not allow improvement use",
        D + "domain/generation/runner.py",
        "            await self._provider_jobs.forget(current)\n",
        "            pass\n",
        (IMPROVEMENT_HANDOFF,),
    ),
]
