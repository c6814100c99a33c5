"""A vendor's product backend for the tests: a real HTTP server on loopback (the Receiver) that
verifies every call's signature, keeps the instances it was told of, and answers as the test
sets it: at once, "working on it" (202, with a status URL), refusing one instance, down."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from core.settings import Settings
from core.signing import new_secret
from core.signing import verifies
from models.catalog import DEFAULT_CATALOG
from tests.support.receiver import Receiver
from tests.support.receiver import Reply
from tests.support.receiver import Request

SECRET = new_secret()


@dataclass
class FakeBackend:
    receiver: Receiver
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: Counter[str] = field(default_factory=Counter)  # instance id -> times created
    deleted: Counter[str] = field(default_factory=Counter)
    later: bool = False  # answer 202, and "ready" at the status URL once `finish`ed
    finished: set[str] = field(default_factory=set)
    refuse_number: int | None = None  # refuse the nth distinct instance (1-based)
    drop_first_reply: bool = False  # do the work, then lose the answer (once)
    hang_first_reply: bool = False  # do the work, then never answer (once)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.receiver.port}/product"

    def calls(self, method: str) -> list[Request]:
        return [r for r in self.receiver.requests if r.method == method]

    def answer(self, request: Request) -> Reply:
        if not verifies([SECRET], request.body, request.headers):
            return Reply(401, body=b'{"error":"bad signature"}')
        instance_id = request.path.rsplit("/", 1)[-1]
        if request.method == "GET":
            return self._status(instance_id)
        if request.method == "DELETE":
            self.deleted[instance_id] += 1
            self.instances.pop(instance_id, None)
            return Reply(204, body=b"")
        order = list(dict.fromkeys([*self.instances, instance_id]))
        if self.refuse_number is not None and order.index(instance_id) + 1 == self.refuse_number:
            return Reply(422, body=b'{"error":"no capacity in this region"}')
        if instance_id not in self.instances:
            self.created[instance_id] += 1
        self.instances[instance_id] = request.json()
        if self.drop_first_reply or self.hang_first_reply:
            hang, self.drop_first_reply, self.hang_first_reply = self.hang_first_reply, False, False
            return Reply(drop=not hang, hang=hang)
        if self.later:
            status_url = f"{self.base_url}/status/{instance_id}"
            return _json(202, {"status_url": status_url})
        return _json(201, self.ready(instance_id))

    def ready(self, instance_id: str) -> dict[str, str]:
        return {
            "status": "ready",
            "console_url": f"https://console.example/{instance_id}",
            "external_id": f"ext-{instance_id[:8]}",
        }

    def _status(self, instance_id: str) -> Reply:
        if instance_id in self.finished:
            return _json(200, self.ready(instance_id))
        return _json(200, {"status": "pending"})


def _json(status: int, body: dict[str, Any]) -> Reply:
    return Reply(status, {"Content-Type": "application/json"}, json.dumps(body).encode())


def with_backend(settings: Settings, backend: FakeBackend, folder: Path) -> Settings:
    """The settings of a service whose Endpoint Protection is provisioned by `backend`, in
    development (the one environment that may call loopback)."""
    return settings.model_copy(
        update={
            "environment": "development",
            "catalog_file": catalog_with_backend(folder / "catalog.json", backend.base_url),
            "provisioning_secrets": {"endpoint-protection": [SECRET]},
            "provisioning_timeout_seconds": 2.0,
            "provisioning_poll_seconds": 30,
        }
    )


def catalog_with_backend(path: Path, base_url: str) -> Path:
    """The packaged catalog, Endpoint Protection provisioned by the backend at `base_url`."""
    catalog = json.loads(DEFAULT_CATALOG.read_text())
    for product in catalog["products"]:
        if product["code"] == "endpoint-protection":
            product["provisioning"] = {"urls": {"*": base_url}}
    path.write_text(json.dumps(catalog))
    return path
