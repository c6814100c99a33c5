"""Signing what the service sends out, per Standard Webhooks (github.com/standard-webhooks):
`webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256>` over
`<id>.<timestamp>.<body>`, one per secret, space-separated, while a rotation lets two sign).
The `standardwebhooks` library does the signing, so a receiver that verifies with it (or any
library of the specification) agrees with us by construction."""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from math import floor

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def signed_headers(
    message_id: str, at: datetime, body: bytes, secrets: Sequence[str]
) -> dict[str, str]:
    """The three headers of one message, signed with each secret."""
    signatures = " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": signatures,
    }


def verifies(
    secrets: Sequence[str], body: bytes, headers: Mapping[str, str], *, tolerance_seconds: int = 300
) -> bool:
    """Whether a signed message verifies with one of `secrets`, its timestamp within the
    tolerance. As the `standardwebhooks` library checks, for any body: its `verify` also reads
    the body as JSON, and a GET's or a DELETE's is empty."""
    message_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "").split()
    if not message_id or not timestamp.isdigit() or not given:
        return False
    at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs((datetime.now(UTC) - at).total_seconds()) > tolerance_seconds:
        return False
    for secret in secrets:
        expected = Webhook(secret).sign(message_id, at, body.decode("utf-8", "replace"))
        if any(hmac.compare_digest(expected, signature) for signature in given):
            return True
    return False
