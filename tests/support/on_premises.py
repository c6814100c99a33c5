"""On-premises orders in the tests: a certificate ordered over the API, and its code from the
mail."""

from __future__ import annotations

import re
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from models.contracts.on_premises import certificate_flow_id
from tests.support.activations import NEXT_YEAR
from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.mail import MailSink
from tests.support.mail import text_of
from tests.support.temporal import STARTED_FLOWS

SENSOR = {"product": "network-sensor", "units": 2, "expires_on": NEXT_YEAR.isoformat()}
BSA = {"id": "business-software-agreement", "version": "2026-01"}


async def certificate(
    api: httpx.AsyncClient, env: WorkflowEnvironment, smtp: MailSink, *items: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """Order on-premises products; the answer and the Activation Code from the mail."""
    ordered = await api.post("/v1/orders", json=order_body(list(items)), headers=AUTH)
    assert ordered.status_code == 201, ordered.text
    answer = ordered.json()
    order_id = answer["id"] if "codes" in answer else answer["order_id"]
    STARTED_FLOWS.append(env.client.get_workflow_handle(certificate_flow_id(order_id)))
    mails = await smtp.wait_for(1, to="buyer@acme.example")
    code = re.search(r"Activation Code: ([A-Z0-9-]{29})", text_of(mails[-1]))
    assert code is not None
    return answer, code[1]
