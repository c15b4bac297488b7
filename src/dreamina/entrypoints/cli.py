"""The ``dreamina`` command: run the API or a worker, migrate the database, show the settings."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

from dreamina.domain.privacy.errors import DomainError
from dreamina.entrypoints.startup_failed import StartupFailed
from dreamina.settings import SettingsError, describe, load_settings


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings()  # first: refused settings fail before the heavy imports
    from dreamina.adapters.logs import configure_logging, get_logger
    from dreamina.adapters.sql.database import upgrade
    from dreamina.entrypoints import serve
    from dreamina.settings import check_web_workers

    workers = args.workers or settings.web_workers
    check_web_workers(settings, workers)  # before anything starts: N processes need PostgreSQL, Redis and SAQ
    configure_logging(settings.log_level)
    _arm_failpoints(settings)
    log = get_logger("dreamina.cli")
    os.umask(0o077)  # the data directory holds personal data and keys: owner-only files (the children inherit it)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _preflight(settings)
    if settings.resolved_auto_migrate:
        asyncio.run(upgrade(settings.resolved_database_url))
        log.info("database_migrated")
    log.info("starting", host=settings.host, port=settings.port, profile=settings.profile, processes=workers)
    serve.run(settings, workers)
    return 0


def _arm_failpoints(settings: Any) -> None:
    """Tests only (refused in production): the failpoints ``DREAMINA_FAILPOINTS`` names kill this process there."""
    if not settings.failpoints:
        return
    from dreamina import failpoints
    from dreamina.adapters.logs import get_logger

    failpoints.arm(settings.failpoints)
    get_logger("dreamina.cli").warning("failpoints_armed", failpoints=sorted(failpoints.armed()))


def _preflight(settings: Any) -> None:
    """Wait for the database and check its schema before anything starts (see ``entrypoints/startup.py``)."""
    from dreamina.entrypoints.startup import check_database

    asyncio.run(check_database(settings))


def _db(args: argparse.Namespace) -> int:
    from dreamina.adapters.sql.database import downgrade, upgrade

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if args.action == "upgrade":
        asyncio.run(upgrade(settings.resolved_database_url, args.revision or "head"))
    else:
        asyncio.run(downgrade(settings.resolved_database_url, args.revision or "-1"))
    print(f"database {args.action}d to {args.revision or ('head' if args.action == 'upgrade' else '-1')}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from dreamina.adapters.logs import configure_logging
    from dreamina.adapters.retention_runs import per_category, sweep_and_log
    from dreamina.bootstrap import build_container
    from dreamina.domain.privacy.retention import RetentionSweep, SweepReport

    settings = load_settings()
    configure_logging(settings.log_level)
    _arm_failpoints(settings)
    if args.batch_size < 0:
        print("dreamina: --batch-size must be positive", file=sys.stderr)
        return 2

    async def run() -> list[SweepReport]:
        container = build_container(settings)
        try:
            sweep = container.privacy.retention
            if args.batch_size:
                sweep = RetentionSweep(sweep.tasks, container.infra.clock, batch_size=args.batch_size)
            with Progress(transient=True) as bar:
                ids = {t.name: bar.add_task(t.name, total=None) for t in sweep.tasks}
                return await sweep_and_log(
                    sweep, dry_run=args.dry_run, progress=lambda name, done: bar.advance(ids[name], done)
                )
        finally:
            await container.aclose()

    reports = asyncio.run(run())
    verb = "applied"  # a dry run applies nothing: "due" is what it found
    print(f"{'task':40} {'category':12} {'due':>9}  {verb:>11}")
    for report in reports:
        print(f"{report.task:40} {report.category:12} {report.due:>9}  {report.applied:>11}")
    print(f"\n{'category':53} {'due':>9}  {verb:>11}")
    for category, counts in per_category(reports).items():
        print(f"{category:53} {counts['due']:>9}  {counts['applied']:>11}")
    return 0


async def _with_container(work: Any) -> Any:
    from dreamina.bootstrap import build_container

    container = build_container(load_settings())
    try:
        await container.start(run_workers=False)  # one shot: what it queues is left to the server and the workers
        return await work(container)
    finally:
        await container.aclose()


def _staff(args: argparse.Namespace) -> int:
    """Staff roles are granted here, on the server, never through the public API."""

    async def work(container: Any) -> int:
        if args.action == "create":
            member = await container.identity.staff.grant(args.email, args.role)
            print(f"granted {member.role.value} to account {member.account_id}")
        elif args.action == "revoke":
            print("revoked" if await container.identity.staff.revoke(args.email) else "that account had no staff role")
        else:
            for member in await container.identity.staff.members():
                print(f"{member.account_id} {member.role.value} since {member.granted_at.isoformat()}")
        return 0

    try:
        return int(asyncio.run(_with_container(work)))
    except DomainError as exc:
        print(f"dreamina: {exc.detail}", file=sys.stderr)
        return 1


def _policy(args: argparse.Namespace) -> int:
    async def work(container: Any) -> int:
        sent = await container.consent.policy_changes.send_notices(args.version)
        print(f"sent {sent} notices of policy version {args.version}")
        return 0

    try:
        return int(asyncio.run(_with_container(work)))
    except DomainError as exc:
        print(f"dreamina: {exc.detail}", file=sys.stderr)
        return 1


def _privacy(args: argparse.Namespace) -> int:
    """Staff chores on privacy requests, on the server; the staff member is named so the decision is theirs."""
    from dreamina.ports.staff import StaffRole

    async def work(container: Any) -> int:
        member = await container.identity.staff.member(args.staff)
        # the same roles as the staff routes' DECIDERS guard
        if member is None or member.role not in (StaffRole.PRIVACY_OFFICER, StaffRole.ADMIN):
            print("dreamina: expediting an erasure needs the privacy_officer or admin role", file=sys.stderr)
            return 1
        request = await container.data_rights.queue.expedite_erasure(member.account_id, args.request_id, args.reason)
        print(f"erasure {request.id} is due now; the data-rights worker runs it on its next pass")
        return 0

    try:
        return int(asyncio.run(_with_container(work)))
    except DomainError as exc:
        print(f"dreamina: {exc.detail}", file=sys.stderr)
        return 1


def _read_text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _marketing(args: argparse.Namespace) -> int:
    """Marketing campaigns from the server: an admin is named, so the campaign is theirs (audited)."""
    from dreamina.ports.staff import StaffRole

    async def work(container: Any) -> int:
        marketing = container.consent.marketing
        if args.action == "send-due":
            print(f"queued {await marketing.send_due()} marketing mails")
            return 0
        if args.action == "status":
            c = await marketing.campaign(args.campaign_id)
            print(f"campaign {c.id} {c.status.value}: {c.sent} sent, {c.skipped} skipped")
            return 0
        member = await container.identity.staff.member(args.staff)
        if member is None or member.role is not StaffRole.ADMIN:  # the same role as the staff route's ADMINS guard
            print("dreamina: a marketing campaign needs the admin role", file=sys.stderr)
            return 1
        try:
            body = sys.stdin.read() if args.body_file == "-" else await asyncio.to_thread(_read_text, args.body_file)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"dreamina: cannot read the body: {type(exc).__name__}", file=sys.stderr)
            return 1
        campaign = await marketing.create(member.account_id, args.subject, body)
        print(f"campaign {campaign.id} created; the privacy worker sends it on its next pass")
        return 0

    return _staff_chore(work)


def _staff_chore(work: Any) -> int:
    """Run ``work`` with a container; a refusal of the domain is one line on stderr and exit status 1."""
    try:
        return int(asyncio.run(_with_container(work)))
    except DomainError as exc:
        print(f"dreamina: {exc.detail}", file=sys.stderr)
        return 1


def _privacy_worker(args: argparse.Namespace) -> int:
    settings = load_settings()  # first: refused settings fail before the heavy imports
    from dreamina.adapters.logs import configure_logging
    from dreamina.bootstrap import build_container
    from dreamina.entrypoints.workers.data_rights import DataRightsRunner, run_privacy_queue

    configure_logging(settings.log_level)
    _arm_failpoints(settings)
    os.umask(0o077)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _preflight(settings)

    async def run() -> None:
        if settings.resolved_auto_migrate:
            from dreamina.adapters.sql.database import upgrade

            await upgrade(settings.resolved_database_url)
        container = build_container(settings)
        try:
            await container.start()
            on_saq = settings.queue == "saq"
            runner = DataRightsRunner(
                container, interval_seconds=args.interval, queued=not args.once, monitor=args.once or not on_saq
            )
            if args.once:
                await runner.run_once()
            elif on_saq:
                await run_privacy_queue(container, runner)
            else:
                # SIGTERM (a deploy, `docker stop`) or Ctrl-C: the pass under way ends, then the process exits 0.
                loop = asyncio.get_running_loop()
                for stop_signal in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(stop_signal, runner.stop)
                await runner.run_forever()
        finally:
            await container.aclose()

    asyncio.run(run())
    return 0


def _worker(args: argparse.Namespace) -> int:
    """Run generation jobs from the SAQ queue on Redis (``DREAMINA_QUEUE=saq``) until interrupted."""
    settings = load_settings()  # first: refused settings fail before the heavy imports
    from dreamina.adapters.logs import configure_logging
    from dreamina.adapters.queue.saq_queue import SaqJobQueue
    from dreamina.adapters.queue.saq_worker import make_worker
    from dreamina.bootstrap import build_container

    if settings.queue != "saq":
        print(
            "dreamina: the worker needs DREAMINA_QUEUE=saq (the embedded profile runs jobs in the API)", file=sys.stderr
        )
        return 2
    configure_logging(settings.log_level)
    _arm_failpoints(settings)
    _preflight(settings)

    async def run() -> None:
        container = build_container(settings)
        try:
            await container.start()
            queue = container.generation.queue
            assert isinstance(queue, SaqJobQueue)
            concurrency = args.concurrency or settings.worker_concurrency
            options = {"burst": True, "dequeue_timeout": 1.0} if args.burst else {}
            worker = make_worker(
                queue,
                container.generation.runner,
                concurrency,
                retention=container.privacy.retention,
                retention_minutes=settings.retention_sweep_minutes,
                **options,
            )
            await worker.start()
        finally:
            await container.aclose()

    asyncio.run(run())
    return 0


def _provenance(args: argparse.Namespace) -> int:
    """Print a file's content credentials as JSON; exit 0 when its manifest's hashes and signature hold, 1 otherwise
    (no credentials, or tampered), whether or not the signer is trusted (``trusted`` says that)."""
    settings = load_settings()
    from dreamina.ports.provenance import NoCredentials
    from dreamina.wiring.provenance import verify_file

    path = Path(args.file)
    if not path.is_file():
        print(f"dreamina: {args.file} is not a readable file", file=sys.stderr)
        return 1
    try:
        summary = verify_file(settings, path)
    except NoCredentials as exc:
        print(json.dumps({"file": path.name, "error": str(exc)}))
        return 1
    print(json.dumps({"file": path.name, **summary}, indent=2))
    return 0 if summary["validation_state"] in ("Valid", "Trusted") else 1


def _settings(args: argparse.Namespace) -> int:
    print(json.dumps(describe(load_settings()), indent=2, default=str))
    return 0


def _moderation(args: argparse.Namespace) -> int:
    """``moderation hash``: one hashes-file line per image (its perceptual hash; the image itself is not kept)."""
    from dreamina.adapters.moderation.offline import hash_line

    for path in args.images:
        print(hash_line(Path(path).read_bytes(), args.category))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dreamina", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API (embedded profile by default)")
    serve.add_argument(
        "--workers",
        type=int,
        default=0,
        help="API processes sharing the port (default DREAMINA_WEB_WORKERS, 1; more need PostgreSQL, Redis and SAQ)",
    )
    serve.set_defaults(run=_serve)
    db = commands.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?", help="target revision (upgrade: head, downgrade: -1)")
    db.set_defaults(run=_db)
    sweep = commands.add_parser("sweep", help="enforce the retention schedule now (batched, idempotent)")
    sweep.add_argument("--dry-run", action="store_true", help="count what is past due, change nothing")
    sweep.add_argument("--batch-size", type=int, default=0, help="records per transaction (default 1000)")
    sweep.set_defaults(run=_sweep)
    worker = commands.add_parser("worker", help="run generation jobs from the SAQ queue (production)")
    worker.add_argument("--concurrency", type=int, default=0, help="jobs at once (default DREAMINA_WORKER_CONCURRENCY)")
    worker.add_argument("--burst", action="store_true", help="stop once the queue is empty")
    worker.set_defaults(run=_worker)
    commands.add_parser("settings", help="print the effective settings, secrets masked").set_defaults(run=_settings)
    provenance = commands.add_parser("provenance", help="content credentials (C2PA) of generated outputs")
    provenance_actions = provenance.add_subparsers(dest="action", required=True)
    verify = provenance_actions.add_parser("verify", help="print a file's content credentials and their validity")
    verify.add_argument("file", metavar="FILE")
    provenance.set_defaults(run=_provenance)
    staff = commands.add_parser("staff", help="grant, revoke or list staff roles (support, privacy_officer, admin)")
    staff_actions = staff.add_subparsers(dest="action", required=True)
    create = staff_actions.add_parser("create", help="give an existing account a staff role")
    create.add_argument("email")
    create.add_argument("role", choices=["support", "privacy_officer", "admin"])
    revoke = staff_actions.add_parser("revoke", help="take an account's staff role away")
    revoke.add_argument("email")
    staff_actions.add_parser("list", help="list staff members")
    staff.set_defaults(run=_staff)
    policy = commands.add_parser("policy", help="policy-change chores")
    policy_actions = policy.add_subparsers(dest="action", required=True)
    notices = policy_actions.add_parser("send-notices", help="(re)send notices of a version to accounts not notified")
    notices.add_argument("version", type=int)
    policy.set_defaults(run=_policy)
    privacy = commands.add_parser("privacy", help="staff chores on privacy requests")
    privacy_actions = privacy.add_subparsers(dest="action", required=True)
    expedite = privacy_actions.add_parser(
        "expedite", help="run a scheduled erasure now instead of after its grace period (the subject is told why)"
    )
    expedite.add_argument("request_id", type=uuid.UUID, metavar="REQUEST_ID")
    expedite.add_argument("--reason", required=True, help="why; the subject is told")
    expedite.add_argument("--staff", required=True, metavar="EMAIL", help="the privacy officer or admin deciding")
    privacy.set_defaults(run=_privacy)
    marketing = commands.add_parser("marketing", help="marketing campaigns (admin)")
    marketing_actions = marketing.add_subparsers(dest="action", required=True)
    create_campaign = marketing_actions.add_parser(
        "create", help="create a campaign; the worker mails it to subjects who consented and did not object"
    )
    create_campaign.add_argument("--staff", required=True, metavar="EMAIL", help="the admin sending it")
    create_campaign.add_argument("--subject", required=True, help="the subject line")
    create_campaign.add_argument("--body-file", required=True, metavar="PATH", help="plain-text body ('-': stdin)")
    campaign_status = marketing_actions.add_parser("status", help="how far a campaign has got")
    campaign_status.add_argument("campaign_id", type=uuid.UUID, metavar="CAMPAIGN_ID")
    marketing_actions.add_parser("send-due", help="send every campaign not done yet, now")
    marketing.set_defaults(run=_marketing)
    moderation = commands.add_parser("moderation", help="content moderation chores (offline lists)")
    moderation_actions = moderation.add_subparsers(dest="action", required=True)
    hashes = moderation_actions.add_parser("hash", help="print DREAMINA_MODERATION_HASHES_FILE lines for images")
    hashes.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, WebP)")
    hashes.add_argument("--category", default="known_image", help="the category a match is refused with")
    moderation.set_defaults(run=_moderation)
    worker = commands.add_parser(
        "privacy-worker", help="run data-rights jobs: exports, erasures, child reports, mail, sweeps, deadlines"
    )
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.add_argument("--interval", type=float, default=30.0, help="seconds between passes")
    worker.set_defaults(run=_privacy_worker)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except StartupFailed as exc:
        print(
            json.dumps({"event": "startup_failed", "level": "error", "error": str(exc), "hint": exc.hint}),
            file=sys.stderr,
        )
        return 3
    except SettingsError as exc:
        # One JSON line an operator's log pipeline can read, naming what to fix; the settings never hold personal
        # data, and the message names settings, not their (possibly secret) values.
        print(json.dumps({"event": "startup_refused", "level": "error", "error": str(exc)}), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
