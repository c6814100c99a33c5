"""Logging setup with one guarantee: a token in a URL or a message never reaches a log line."""

from __future__ import annotations

import logging
import re
from typing import IO
from typing import Any

# Redacted by where a secret goes, whatever it looks like (a mangled one is a secret too): the
# path segment after `/v1/activations/` (the activation code), any `token` parameter
# or JSON field; and by shape, a bare `<link id>.<secret>` token anywhere else.
_SECRET_PLACES = (
    re.compile(r"(/v1/activations/)[^/\s?#\"']+", re.IGNORECASE),
    # The customer's landing page /activate/<code> (its steps have plain names).
    re.compile(r"(/activate/)(?!(?:status|email|resend|agreements|instance)\b)[^/\s?#\"']+"),
    # The codec endpoint's credential, where the Web UI carries it in the path.
    re.compile(r"(/codec/)(?!(?:encode|decode)\b)[^/\s?#\"']+"),
    re.compile(r"(token=)[^&\s\"']*", re.IGNORECASE),
    re.compile(r"(\"token\"\s*:\s*\")[^\"]*", re.IGNORECASE),
    re.compile(r"()\b[a-z2-7]{24}\.[A-Za-z0-9_\-]{32,}"),
)


def redact(text: str) -> str:
    for pattern in _SECRET_PLACES:
        text = pattern.sub(lambda m: m.group(1) + "[redacted]", text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


# What a page, script or tool asks again and again: in development, one line each is noise.
REPEATED_REQUESTS = re.compile(r'"GET /(activate/status|assets/|dev/mailbox/latest)')


class SkipRepeatedRequests(logging.Filter):
    """Drops the access lines of polls and assets (`make dev`'s log then says what a person
    needs to see; ACTIVATION_LOG_EVERY_REQUEST=true keeps them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not REPEATED_REQUESTS.search(record.getMessage())


def quiet_development_logs() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # the SMTP sink's transcript
    logging.getLogger("uvicorn.access").addFilter(SkipRepeatedRequests())


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def uvicorn_log_config() -> dict[str, Any]:
    """Route uvicorn's loggers (the access log prints query strings) through the redacting root."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True},
        },
    }
