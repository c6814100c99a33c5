"""`make dev`'s development product backend answers provisioning calls as a vendor's would:
signed calls only, at once under /sync, later (a signed callback) under /async, and a console
page per instance."""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from pathlib import Path

import httpx

from core.signing import signed_headers
from core.signing import verifies
from models.catalog import load_catalog
from tests.support.receiver import Receiver
from workers.dev_product import DEV_PROVISIONING_SECRET
from workers.dev_product import dev_catalog
from workers.dev_product import dev_product_app

BASE = "http://product.test"


def document(callback_url: str) -> bytes:
    return json.dumps(
        {
            "instance_id": "i-1",
            "product": "endpoint-protection",
            "region": "au",
            "business": {"id": "b-1", "name": "Acme <Corp>"},
            "state": "active",
            "license": {"id": "l-1", "units": 5, "expires_on": "2027-01-01", "trial": False},
            "addons": [],
            "callback_url": callback_url,
        }  # fmt: skip
    ).encode()


def signed(body: bytes, secret: str = DEV_PROVISIONING_SECRET) -> dict[str, str]:
    return signed_headers("prov_1", datetime.now(UTC), body, [secret])


async def test_it_answers_at_once_and_serves_a_console() -> None:
    app = dev_product_app(BASE)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        body = document("http://127.0.0.1:9/unused")
        forged = await http.put(
            "/sync/instances/i-1", content=body, headers=signed(body, "whsec_" + "A" * 44)
        )
        assert forged.status_code == 401
        created = await http.put("/sync/instances/i-1", content=body, headers=signed(body))
        assert created.status_code == 201
        assert created.json()["console_url"] == f"{BASE}/console/i-1"
        again = await http.put("/sync/instances/i-1", content=body, headers=signed(body))
        assert again.status_code == 200  # the same instance, not a second one
        console = await http.get("/console/i-1")
        assert console.status_code == 200 and "Acme &lt;Corp&gt;" in console.text


async def test_it_takes_its_time_and_calls_back_signed() -> None:
    receiver = await Receiver().start()
    try:
        app = dev_product_app(BASE)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
            body = document(receiver.url)
            accepted = await http.put("/async/instances/i-1", content=body, headers=signed(body))
            assert accepted.status_code == 202
            status_url = accepted.json()["status_url"].removeprefix(BASE)
            assert (await http.get(status_url)).json() == {"status": "pending"}
            (callback,) = await receiver.wait_for(1)
            assert verifies([DEV_PROVISIONING_SECRET], callback.body, callback.headers)
            assert callback.json()["status"] == "ready"
            assert (await http.get(status_url)).json()["status"] == "ready"
    finally:
        await receiver.stop()


def test_the_dev_catalog_provisions_endpoint_protection_through_it(tmp_path: Path) -> None:
    catalog = load_catalog(dev_catalog(tmp_path / "catalog.json", "http://127.0.0.1:8026"))
    provisioning = catalog.product("endpoint-protection").provisioning
    assert provisioning is not None
    assert provisioning.url_for("us") == "http://127.0.0.1:8026/sync"
    assert provisioning.url_for("au") == "http://127.0.0.1:8026/async"
    assert catalog.product("edr-addon").provisioning is None
