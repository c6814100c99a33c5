from __future__ import annotations

import io
import logging

from core.logging import RedactSecrets, redact
from core.tokens import new_token

TOKEN = new_token("a" * 24)


def test_tokens_in_urls_and_text_are_redacted() -> None:
    assert (
        redact(f"GET /verify-email?token={TOKEN}&x=1") == "GET /verify-email?token=[redacted]&x=1"
    )
    assert TOKEN not in redact(f"the token was {TOKEN}")


def test_the_filter_redacts_arguments_too() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("test.redact")
    logger.addHandler(handler)
    logger.warning('%s - "%s %s"', "127.0.0.1", "GET", f"/verify-email?token={TOKEN}")
    logger.removeHandler(handler)
    assert TOKEN not in stream.getvalue() and "[redacted]" in stream.getvalue()
