"""The development product backend (`activation dev`, loopback only): it takes provisioning
calls as a vendor's product would (docs/provisioning.md), verifying their signatures, and
serves a placeholder console page per instance, so a newcomer sees the whole path. Under
`/sync` it answers at once (201, with the console URL); under `/async` it answers 202 and
calls back a second later, signed, as a product that takes its time does."""

from __future__ import annotations

import asyncio
import base64
import html
import json
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import Literal

from fastapi import FastAPI
from fastapi import Request
from fastapi import Response
from fastapi.responses import HTMLResponse
from fastapi.responses import JSONResponse

from core.outbound import Outbound
from core.outbound import OutboundPolicy
from core.signing import signed_headers
from core.signing import verifies
from models.catalog import DEFAULT_CATALOG

# Development only: the dev catalog's products sign with this, and the backend checks it.
DEV_PROVISIONING_SECRET = "whsec_" + base64.b64encode(b"development-provisioning-secret!").decode()
CALLBACK_AFTER_SECONDS = 1.0
ASYNC_REGIONS = ("au",)  # where the dev catalog's product takes its time


def dev_catalog(path: Path, base_url: str) -> Path:
    """The packaged catalog, its service products provisioned by this backend (at once, but
    in `ASYNC_REGIONS`), written to `path`."""
    catalog = json.loads(DEFAULT_CATALOG.read_text())
    for product in catalog["products"]:
        if product["kind"] == "service" and product["deployment"] == "cloud":
            urls = {"*": f"{base_url}/sync"} | {r: f"{base_url}/async" for r in ASYNC_REGIONS}
            product["provisioning"] = {"urls": urls}
    path.write_text(json.dumps(catalog, indent=2))
    return path


def dev_product_app(base_url: str, secret: str = DEV_PROVISIONING_SECRET) -> FastAPI:
    app = FastAPI(title="Development product backend", docs_url=None, redoc_url=None)
    instances: dict[str, dict[str, Any]] = {}
    outbound = Outbound(OutboundPolicy(development=True), 10)
    pending: set[asyncio.Task[None]] = set()

    def verified(body: bytes, request: Request) -> bool:
        return verifies([secret], body, request.headers)

    async def call_back(url: str, instance_id: str) -> None:
        await asyncio.sleep(CALLBACK_AFTER_SECONDS)
        instances[instance_id]["status"] = "ready"
        body = json.dumps({"instance_id": instance_id, **_ready(base_url, instance_id)}).encode()
        headers = signed_headers(f"cb_{instance_id}", datetime.now(UTC), body, [secret])
        await outbound.post(url, headers, body)

    @app.put("/{mode}/instances/{instance_id}")
    async def put_instance(
        mode: Literal["sync", "async"], instance_id: str, request: Request
    ) -> Response:
        body = await request.body()
        if not verified(body, request):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        document = json.loads(body)
        known = instances.get(instance_id)
        instances[instance_id] = document | {"status": known["status"] if known else "pending"}
        if mode == "sync":
            instances[instance_id]["status"] = "ready"
            return JSONResponse(_ready(base_url, instance_id), status_code=200 if known else 201)
        if known is None or known["status"] != "ready":
            task = asyncio.create_task(call_back(document["callback_url"], instance_id))
            pending.add(task)
            task.add_done_callback(pending.discard)
        status_url = f"{base_url}/async/status/{instance_id}"
        return JSONResponse({"status_url": status_url}, status_code=202)

    @app.delete("/{mode}/instances/{instance_id}")
    async def delete_instance(mode: str, instance_id: str, request: Request) -> Response:
        if not verified(b"", request):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        instances.pop(instance_id, None)
        return Response(status_code=204)

    @app.get("/async/status/{instance_id}")
    async def instance_status(instance_id: str) -> Response:
        instance = instances.get(instance_id)
        if instance is None:
            return JSONResponse({"error": "no such instance"}, status_code=404)
        if instance["status"] != "ready":
            return JSONResponse({"status": "pending"})
        return JSONResponse(_ready(base_url, instance_id))

    @app.get("/console/{instance_id}", response_class=HTMLResponse)
    async def console(instance_id: str) -> HTMLResponse:
        instance = instances.get(instance_id)
        if instance is None:
            return HTMLResponse("<h1>No such instance</h1>", status_code=404)
        company = html.escape(str(instance["business"]["name"]))
        license = instance["license"] or {}
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><meta name=viewport "
            "content='width=device-width'><title>Console</title>"
            f"<h1>{html.escape(instance['product'])} console</h1>"
            f"<p>{company}, region {html.escape(instance['region'])}: "
            f"{html.escape(instance['state'])}, {license.get('units')} units until "
            f"{license.get('expires_on')}.</p><p>This is the development product backend: a "
            "vendor's real console opens here.</p>"
        )

    return app


def _ready(base_url: str, instance_id: str) -> dict[str, str]:
    return {
        "status": "ready",
        "console_url": f"{base_url}/console/{instance_id}",
        "external_id": f"dev-{instance_id[:8]}",
    }
