"""The ``dreamina`` command: run the API or a worker, migrate the database, show the settings."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from dreamina.settings import SettingsError, describe, load_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from dreamina.adapters.http.app import create_app
    from dreamina.adapters.logs import configure_logging, get_logger
    from dreamina.adapters.sql.database import upgrade

    settings = load_settings()
    configure_logging(settings.log_level)
    log = get_logger("dreamina.cli")
    os.umask(0o077)  # the data directory holds personal data and keys: owner-only files
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.resolved_auto_migrate:
        asyncio.run(upgrade(settings.resolved_database_url))
        log.info("database_migrated")
    log.info("starting", host=settings.host, port=settings.port, profile=settings.profile)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
    return 0


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


def _worker(args: argparse.Namespace) -> int:
    """Run generation jobs from the SAQ queue on Redis (``DREAMINA_QUEUE=saq``) until interrupted."""
    from dreamina.adapters.logs import configure_logging
    from dreamina.adapters.queue.saq_queue import SaqJobQueue, make_worker
    from dreamina.bootstrap import build_container

    settings = load_settings()
    if settings.queue != "saq":
        print(
            "dreamina: the worker needs DREAMINA_QUEUE=saq (the embedded profile runs jobs in the API)", file=sys.stderr
        )
        return 2
    configure_logging(settings.log_level)

    async def run() -> None:
        container = build_container(settings)
        try:
            await container.start()
            assert isinstance(container.job_queue, SaqJobQueue) and container.generations is not None
            concurrency = args.concurrency or settings.worker_concurrency
            options = {"burst": True, "dequeue_timeout": 1.0} if args.burst else {}
            worker = make_worker(container.job_queue, container.generations, concurrency, **options)
            await worker.start()
        finally:
            await container.aclose()

    asyncio.run(run())
    return 0


def _settings(args: argparse.Namespace) -> int:
    print(json.dumps(describe(load_settings()), indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dreamina", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the API (embedded profile by default)").set_defaults(run=_serve)
    db = commands.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?", help="target revision (upgrade: head, downgrade: -1)")
    db.set_defaults(run=_db)
    worker = commands.add_parser("worker", help="run generation jobs from the SAQ queue (production)")
    worker.add_argument("--concurrency", type=int, default=0, help="jobs at once (default DREAMINA_WORKER_CONCURRENCY)")
    worker.add_argument("--burst", action="store_true", help="stop once the queue is empty")
    worker.set_defaults(run=_worker)
    commands.add_parser("settings", help="print the effective settings, secrets masked").set_defaults(run=_settings)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as exc:
        print(f"dreamina: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
