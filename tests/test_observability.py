"""The alerting rules shipped in deploy/observability: valid for Prometheus, each alert firing on
the series that should fire it (`promtool`, Debian's `prometheus` package, which CI installs),
and naming only metrics the service exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core.metric_names import FLOW_STATUS
from core.metric_names import FLOW_TIME
from core.metric_names import MAILS
from core.metric_names import PROVISIONING_CALLS
from core.metric_names import WEBHOOK_ATTEMPTS

RULES = Path(__file__).parent.parent / "deploy" / "observability"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("ACTIVATION_REQUIRE_PROMTOOL"),
    reason="promtool is not installed (apt-get install prometheus)",
)


@needs_promtool
@pytest.mark.parametrize("check", [["check", "rules", "alerts.yml"],
                                   ["test", "rules", "alerts_test.yml"]])  # fmt: skip
def test_promtool_accepts_the_rules_and_their_tests(check: list[str]) -> None:
    assert PROMTOOL is not None, "CI installs promtool"
    done = subprocess.run([PROMTOOL, *check], cwd=RULES, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


OURS = {f"{FLOW_STATUS}_total", f"{FLOW_TIME}_bucket", f"{MAILS}_total",
        f"{WEBHOOK_ATTEMPTS}_total", f"{PROVISIONING_CALLS}_total",
        "activation_http_requests_total", "activation_http_request_seconds_bucket"}  # fmt: skip


@pytest.mark.parametrize("shipped", ["alerts.yml", "dashboard.json"])
def test_the_rules_and_the_dashboard_name_only_metrics_the_service_exports(shipped: str) -> None:
    named = set(re.findall(r"\b(activation_[a-z_]+)", (RULES / shipped).read_text()))
    assert named and named <= OURS, named - OURS


def test_every_dashboard_panel_queries_prometheus() -> None:
    dashboard = json.loads((RULES / "dashboard.json").read_text())
    assert dashboard["panels"] and all(
        panel["targets"] and panel["datasource"]["type"] == "prometheus"
        for panel in dashboard["panels"]
    )
