"""The vendor's product backend, as provisioning calls it (docs/provisioning.md): an instance's
whole state is PUT (created or updated: its term, its add-ons, active or suspended) and DELETEd
on undo, each call signed per Standard Webhooks with the product's secrets and carrying an
idempotency key; the answer is read into what the flow does next."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from activities.metrics import count
from core.metric_names import PROVISIONING_CALLS
from core.outbound import AddressRefused
from core.outbound import Answer
from core.outbound import CallFailed
from core.outbound import Outbound
from core.settings import Settings
from core.signing import signed_headers
from models.catalog import Catalog
from models.contracts.provisioning import InstanceAnswer
from models.contracts.provisioning import InstanceStatus
from models.contracts.provisioning import PendingInstance
from models.errors import ProvisioningError
from models.errors import refuse
from models.records.domain import Business
from models.records.domain import License
from models.records.domain import ProductInstance

# Statuses that say "try again later", whatever the body: the call is retried with backoff
# (and the backend's Retry-After) until the step's deadline.
TRANSIENT = {408, 425, 429}
UNAVAILABLE = "provisioning_unavailable"  # a retryable failure's type
REASON_CHARS = 200
CALLS = "calls to the product backends, by product, method and answer"


@dataclass(frozen=True)
class InstanceCall:
    """One instance as its backend is called about it."""

    instance_id: str
    product_code: str
    base_url: str
    document: dict[str, Any]

    @property
    def url(self) -> str:
        return f"{self.base_url.rstrip('/')}/instances/{self.instance_id}"


class ProductBackend:
    """Calls each product's backend; built once per worker (it checks every product with a
    backend has a secret to sign with)."""

    def __init__(self, settings: Settings, catalog: Catalog, outbound: Outbound) -> None:
        self._catalog = catalog
        self._outbound = outbound
        self._secrets = settings.provisioning_secrets
        missing = [
            code
            for code, product in catalog.products.items()
            if product.provisioning is not None and not self._secrets.get(code)
        ]
        if missing:
            raise ValueError(
                f"ACTIVATION_PROVISIONING_SECRETS has no secret for {', '.join(missing)}"
            )

    def base_url(self, product_code: str, region: str) -> str | None:
        """Where the product's backend takes calls for the region; None: no backend."""
        product = self._catalog.products.get(product_code)
        if product is None or product.provisioning is None:
            return None
        return product.provisioning.url_for(region)

    async def call_for(
        self, session: AsyncSession, instance: ProductInstance
    ) -> InstanceCall | None:
        """The instance as its backend is to have it; None: its product has no backend."""
        base_url = self.base_url(instance.product_code, instance.region)
        if base_url is None:
            return None
        document = await instance_document(session, instance)
        return InstanceCall(instance.id, instance.product_code, base_url, document)

    async def put(self, call: InstanceCall) -> InstanceAnswer | PendingInstance:
        """Create or update the instance. Ready (200, 201, or 409: the same key was done
        before), or pending (202). A refusal raises the non-retryable `provisioning_refused`;
        anything transient a retryable failure (with the backend's Retry-After)."""
        body = _encoded(call.document)
        key = f"prov_{call.instance_id}_{hashlib.sha256(body).hexdigest()[:16]}"
        answer = await self._call("PUT", call.url, call.product_code, key, body)
        fields = _json(answer.excerpt)
        if answer.status == 202:
            status_url = fields.get("status_url")
            return PendingInstance(
                call.instance_id,
                call.product_code,
                status_url if isinstance(status_url, str) and self._usable(status_url) else None,
            )
        if answer.succeeded or answer.status == 409:
            return self._ready(call.instance_id, fields)
        raise _refused(call, answer)

    async def delete(self, call: InstanceCall) -> None:
        """Delete the instance (an activation undone). Gone already (404, 410) is done too; any
        other refusal is logged by the caller's error and not retried."""
        answer = await self._call(
            "DELETE", call.url, call.product_code, f"deprov_{call.instance_id}", b""
        )
        if answer.succeeded or answer.status in (404, 410):
            return
        raise _refused(call, answer)

    async def status(self, pending: PendingInstance) -> InstanceAnswer:
        """Ask at the instance's status URL: pending, ready or failed."""
        assert pending.status_url is not None
        answer = await self._call(
            "GET", pending.status_url, pending.product_code, f"status_{pending.instance_id}", b""
        )
        if not answer.succeeded:
            raise _transient(f"the status URL answered {answer.status}", answer.retry_after_seconds)
        fields = _json(answer.excerpt)
        if fields.get("status") == InstanceStatus.READY:
            return self._ready(pending.instance_id, fields)
        if fields.get("status") == InstanceStatus.FAILED:
            return failed(pending.instance_id, fields.get("reason"))
        return InstanceAnswer(pending.instance_id, InstanceStatus.PENDING)

    def answer_of(self, instance_id: str, fields: dict[str, Any]) -> InstanceAnswer:
        """A callback's body, read as the status URL's would be."""
        if fields.get("status") == InstanceStatus.FAILED:
            return failed(instance_id, fields.get("reason"))
        return self._ready(instance_id, fields)

    def _ready(self, instance_id: str, fields: dict[str, Any]) -> InstanceAnswer:
        console_url = fields.get("console_url")
        external_id = fields.get("external_id")
        return InstanceAnswer(
            instance_id,
            InstanceStatus.READY,
            console_url=console_url
            if isinstance(console_url, str) and self._usable(console_url)
            else None,
            external_id=str(external_id)[:200] if external_id is not None else None,
        )

    def _usable(self, url: str) -> bool:
        """A URL the backend gave us that we may show or call: http(s), https outside
        development (the address of a status URL is checked again when it is called)."""
        try:
            self._outbound.policy.check_url(url)
        except AddressRefused:
            return False
        return len(url) <= 2000

    async def _call(
        self, method: str, url: str, product_code: str, key: str, body: bytes
    ) -> Answer:
        at = datetime.now(UTC)
        headers = signed_headers(key, at, body, self._secrets.get(product_code, []))
        headers["idempotency-key"] = key
        labels = {"product": product_code, "method": method}
        try:
            answer = await self._outbound.request(method, url, headers, body)
        except AddressRefused as refused:
            count(PROVISIONING_CALLS, CALLS, labels | {"answer": "address_refused"})
            raise refuse(ProvisioningError.ADDRESS_REFUSED, f"{product_code}: {refused}") from None
        except CallFailed as failure:
            count(PROVISIONING_CALLS, CALLS, labels | {"answer": "no_answer"})
            raise _transient(f"{product_code}'s backend: {failure.reason}", None) from None
        count(PROVISIONING_CALLS, CALLS, labels | {"answer": f"{answer.status // 100}xx"})
        return answer


async def instance_document(session: AsyncSession, instance: ProductInstance) -> dict[str, Any]:
    """What the backend is told of an instance: the whole of it, so a repeated call says the
    same and a later one (a renewal, an add-on, an expiry) says what changed."""
    business = await session.get(Business, instance.business_id)
    licenses = list(
        await session.scalars(select(License).where(License.instance_id == instance.id))
    )
    service = next((row for row in licenses if row.id == instance.license_id), None)
    service = service or await session.get(License, instance.license_id or "")
    addons = [row for row in licenses if row.kind == "addon" and row.status != "expired"]
    return {
        "instance_id": instance.id,
        "product": instance.product_code,
        "region": instance.region,
        "business": {"id": instance.business_id, "name": business.name if business else None},
        "state": "suspended" if service is None or service.status == "expired" else "active",
        "license": _license(service) if service else None,
        "addons": [
            {"product": row.product_code, **_license(row)}
            for row in sorted(addons, key=lambda row: row.id)
        ],
    }


def _license(row: License) -> dict[str, Any]:
    return {
        "id": row.id,
        "units": row.units,
        "expires_on": row.expires_on.isoformat(),
        "trial": row.trial,
    }


def failed(instance_id: str, reason: object) -> InstanceAnswer:
    text = str(reason)[:REASON_CHARS] if reason else "no reason given"
    return InstanceAnswer(instance_id, InstanceStatus.FAILED, reason=text)


def _encoded(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _refused(call: InstanceCall, answer: Answer) -> ApplicationError:
    if answer.status in TRANSIENT or answer.status >= 500:
        return _transient(
            f"{call.product_code}'s backend answered {answer.status}", answer.retry_after_seconds
        )
    said = answer.excerpt[:REASON_CHARS].strip() or "no reason given"
    return refuse(
        ProvisioningError.REFUSED,
        f"{call.product_code}'s backend answered {answer.status} for instance "
        f"{call.instance_id}: {said}",
    )


def _transient(message: str, retry_after: float | None) -> ApplicationError:
    """Retried (backing off, or after the backend's Retry-After, at most an hour)."""
    delay = timedelta(seconds=min(retry_after, 3600)) if retry_after else None
    return ApplicationError(message, type=UNAVAILABLE, next_retry_delay=delay)
