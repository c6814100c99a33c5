"""What crosses the workflow boundary when an instance is provisioned in the vendor's product
(docs/provisioning.md): the backend's answer for each instance, the instances it is still
setting up, and how an expired license reaches its instance."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from enum import StrEnum

# The license activation's signal for a backend's callback (api/routes/provisioning.py).
INSTANCE_ANSWERED = "instance_answered"


class InstanceStatus(StrEnum):
    READY = "ready"
    FAILED = "failed"
    PENDING = "pending"


@dataclass
class InstanceAnswer:
    """The backend's word on one instance: ready (with its console) or failed (with why),
    synchronously, by its callback or at its status URL."""

    instance_id: str
    status: InstanceStatus
    console_url: str | None = None
    external_id: str | None = None
    reason: str | None = None  # a failure's, as the backend put it (shortened)


@dataclass
class PendingInstance:
    """An instance the backend accepted with a 202: it calls back, or is asked at `status_url`."""

    instance_id: str
    product_code: str
    status_url: str | None = None


@dataclass
class ProductAnswers:
    """What one provisioning step got: instances ready, instances still being set up, and
    (from the settings) how often to ask about those and how long they may take."""

    poll_seconds: int
    wait_seconds: int
    ready: list[InstanceAnswer] = field(default_factory=list)
    pending: list[PendingInstance] = field(default_factory=list)


@dataclass
class PollInput:
    pending: list[PendingInstance]


@dataclass
class RecordAnswersInput:
    answers: list[InstanceAnswer]


@dataclass
class LicenseInstanceInput:
    """A license whose term ended: its instance is told (suspended, or an add-on taken off)."""

    license_id: str
