"""Logging setup with one guarantee: a token in a URL or a message never reaches a log line."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC
from datetime import datetime
from typing import IO
from typing import Any

from opentelemetry import trace

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


class JsonLines(logging.Formatter):
    """One JSON object a line (`ACTIVATION_LOG_FORMAT=json`), for a log collector: time, level,
    logger, message (redacted before it gets here), the flow (workflow id, type, run), its
    Business and the activity a line comes from, the trace and span ids when tracing, and the
    exception's traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for context in ("temporal_workflow", "temporal_activity"):  # the SDK's loggers add these
            details = getattr(record, context, None)
            if isinstance(details, dict):
                line["flow_id"] = details.get("workflow_id")
                line["flow_type"] = details.get("workflow_type")
                line["run_id"] = details.get("run_id") or details.get("workflow_run_id")
                if context == "temporal_activity":
                    line["activity"] = details.get("activity_type")
        if (business := getattr(record, "business_id", None)) is not None:
            line["business_id"] = business  # the worker's (workers/business_context.py)
        if (span := trace.get_current_span().get_span_context()).is_valid:
            line["trace_id"] = trace.format_trace_id(span.trace_id)
            line["span_id"] = trace.format_span_id(span.span_id)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def configure_logging(
    level: str = "INFO",
    stream: IO[str] | None = None,
    *,
    json_lines: bool = False,
    filters: tuple[logging.Filter, ...] = (),
) -> None:
    """The root logger's one handler; `filters` add to each line (a worker's: its Business)."""
    handler = logging.StreamHandler(stream)
    text = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    handler.setFormatter(JsonLines() if json_lines else text)
    for extra in filters:
        handler.addFilter(extra)
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
