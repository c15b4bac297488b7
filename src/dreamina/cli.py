"""The ``dreamina`` command: run the API, migrate the database, show the settings."""

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


def _privacy_worker(args: argparse.Namespace) -> int:
    from dreamina.adapters.data_rights_worker import DataRightsRunner
    from dreamina.adapters.logs import configure_logging
    from dreamina.bootstrap import build_container

    settings = load_settings()
    configure_logging(settings.log_level)
    os.umask(0o077)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        if settings.resolved_auto_migrate:
            from dreamina.adapters.sql.database import upgrade

            await upgrade(settings.resolved_database_url)
        container = build_container(settings)
        try:
            await container.start()
            runner = DataRightsRunner(container, interval_seconds=args.interval)
            if args.once:
                await runner.run_once()
            else:
                await runner.run_forever()
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
    commands.add_parser("settings", help="print the effective settings, secrets masked").set_defaults(run=_settings)
    worker = commands.add_parser("privacy-worker", help="run data-rights jobs: exports, erasures, sweeps, deadlines")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.add_argument("--interval", type=float, default=30.0, help="seconds between passes")
    worker.set_defaults(run=_privacy_worker)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as exc:
        print(f"dreamina: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
