"""Signing what the service sends out, per Standard Webhooks (github.com/standard-webhooks):
`webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256>` over
`<id>.<timestamp>.<body>`, one per secret, space-separated, while a rotation lets two sign).
The `standardwebhooks` library does the signing, so a receiver that verifies with it (or any
library of the specification) agrees with us by construction."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
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
