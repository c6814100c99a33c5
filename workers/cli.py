"""`activation dev | worker | api | migrate | license`: the service's command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import uvicorn
import uvloop

from core import tracing
from core.logging import configure_logging
from core.logging import uvicorn_log_config
from core.settings import get_settings
from workers import license_cli
from workers.business_context import business_on_log_lines

log = logging.getLogger("activation")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="activation", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="run everything on the embedded default (development)")
    commands.add_parser("worker", help="run the Temporal worker")
    commands.add_parser("api", help="serve the HTTP API")
    commands.add_parser("migrate", help="apply database migrations")
    license_cli.add_commands(commands)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if args.command == "license":  # needs no settings: it runs where the product runs
        sys.exit(license_cli.run(args))

    configure_logging(args.log_level)
    # What the service writes (SQLite files and their logs, key files, the dev mailbox) holds
    # addresses, company names and mails: readable by its own user only, child processes included.
    os.umask(0o077)
    if args.command == "dev":  # the one command that is development unless told otherwise
        os.environ.setdefault("ACTIVATION_ENVIRONMENT", "development")
    settings = get_settings()
    tracing.configure_from_environment(args.command)
    if settings.log_format == "json":
        configure_logging(args.log_level, json_lines=True, filters=(business_on_log_lines(),))
    if args.command == "migrate":
        from models.records.migrate import upgrade

        upgrade(settings.database_url)
        log.info("database is at the latest migration")
    elif args.command == "worker":
        from workers.worker import run_worker

        # On uvloop, as uvicorn runs the API: in the bench it took 9% off the worker's CPU per
        # email verification (the activities' database and SMTP I/O). Workflow code does not
        # run on it: the SDK gives workflows an event loop of their own.
        uvloop.run(run_worker(settings))
    elif args.command == "api":
        from api.app import create_app
        from api.app import serve_api_metrics
        from api.app import warm_up

        app = create_app(settings)
        warm_up(app)
        serve_api_metrics(app, settings)
        uvicorn.run(
            app,
            host=settings.api_host,
            port=settings.api_port,
            log_config=uvicorn_log_config(),
        )
    elif args.command == "dev":
        from workers.dev import run_dev

        if not settings.is_development:
            parser.error("`activation dev` runs only with ACTIVATION_ENVIRONMENT=development")
        uvloop.run(run_dev(settings))


if __name__ == "__main__":
    main()
