from __future__ import annotations

import io
import json
import logging

from opentelemetry.sdk.trace import TracerProvider

from core.logging import RedactSecrets
from core.logging import configure_logging
from core.logging import redact
from core.tokens import new_token

TOKEN = new_token("a" * 24)


def test_tokens_in_urls_and_text_are_redacted() -> None:
    assert (
        redact(f"GET /verify-email?token={TOKEN}&x=1") == "GET /verify-email?token=[redacted]&x=1"
    )
    assert TOKEN not in redact(f"the token was {TOKEN}")


def test_secrets_are_redacted_by_place_whatever_they_look_like() -> None:
    code = new_token("b" * 24)
    mangled = f"x{code}"  # a mistyped code is still somebody's secret
    line = redact(f'"GET /v1/activations/{mangled}/account HTTP/1.1" 404')
    assert line == '"GET /v1/activations/[redacted]/account HTTP/1.1" 404'
    assert redact("GET /verify-email?token=short%0Aodd&x=1") == (
        "GET /verify-email?token=[redacted]&x=1"
    )
    assert redact('{"token": "not-shaped-like-one", "email": "a@b"}') == (
        '{"token": "[redacted]", "email": "a@b"}'
    )


def test_the_filter_redacts_arguments_too() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("test.redact")
    logger.addHandler(handler)
    logger.warning('%s - "%s %s"', "127.0.0.1", "GET", f"/verify-email?token={TOKEN}")
    logger.removeHandler(handler)
    assert TOKEN not in stream.getvalue() and "[redacted]" in stream.getvalue()


def test_the_operator_key_in_the_web_uis_codec_path_is_redacted() -> None:
    line = redact('"POST /codec/s3cret-operator-key/decode HTTP/1.1" 200')
    assert line == '"POST /codec/[redacted]/decode HTTP/1.1" 200'
    assert redact("POST /codec/decode") == "POST /codec/decode"


def test_json_lines_carry_the_flow_and_stay_redacted() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream, json_lines=True)
    activity = {
        "workflow_id": "license-activation-1",
        "workflow_type": "LicenseActivationWorkflow",
        "workflow_run_id": "run-1",
        "activity_type": "license_activation.send_link",
    }
    logging.getLogger("activities").info(
        "sent %s", "/verify-email?token=abc.def", extra={"temporal_activity": activity}
    )
    line = json.loads(stream.getvalue())
    assert line["message"] == "sent /verify-email?token=[redacted]"
    assert (line["flow_id"], line["run_id"], line["activity"]) == (
        "license-activation-1", "run-1", "license_activation.send_link")  # fmt: skip
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")
    configure_logging("INFO")


def test_json_lines_carry_the_trace_they_are_written_in() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream, json_lines=True)
    try:
        with TracerProvider().get_tracer("test").start_as_current_span("request") as span:
            logging.getLogger("api").info("inside")
        logging.getLogger("api").info("outside")
    finally:
        configure_logging("INFO")
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")
    assert "trace_id" not in outside
