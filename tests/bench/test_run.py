"""`make bench --quick` as a smoke test: the bench runs end to end, writes its JSON report and
prints the summary line last. It asserts that the numbers exist and what does not depend on the
machine's speed (the flows' shapes), never how fast they are."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.waits import STEPS

pytestmark = pytest.mark.slow  # runs the whole stack in processes of its own

SUMMARY = re.compile(
    r"^ratio=[\d.]+ flows_per_s=[\d.]+ baseline_per_s=[\d.]+ p50_inbox_ms=\d+ p99_inbox_ms=\d+ "
    r"activation_ratio=[\d.]+ installations_per_s=[\d.]+ installation_ratio=[\d.]+ "
    r"start_ratio=[\d.]+ page_p99_ms=\d+ codec_us_per_payload=[\d.]+ "
    r"work_ratio=[\d.]+ actions_per_activation=[\d.]+ history_kb_per_activation=[\d.]+ "
    r"actions_ratio=[\d.]+ bytes_ratio=[\d.]+ wait_p50_ms=\d+ "
    r"webhook_p50_ms=\d+ webhook_p99_ms=\d+ webhook_activation_ratio=[\d.]+ "
    r"provisioning_activation_ratio=[\d.]+$"
)


def test_the_quick_bench_writes_its_report_and_prints_the_summary_line_last(
    tmp_path: Path,
) -> None:
    report_file = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--report", str(report_file)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert SUMMARY.match(done.stdout.strip().splitlines()[-1]), done.stdout[-500:]
    report = json.loads(report_file.read_text())
    # The baselines run in the product's shape: per email verification, the same activities,
    # local activities and updates; the product alone publishes its state.
    shapes = report["shapes"]["email verification"]
    for run in ("baseline", "same_work"):
        for column in ("acts", "local", "updates"):
            assert shapes[run][column] == shapes["product"][column], (run, column)
        assert shapes[run]["published"] == 0
    assert shapes["product"]["published"] > 0 and shapes["product"]["kB"] > 0
    # So does the license activation's, its child workflows included.
    activation = report["shapes"]["activation"]
    for column in ("acts", "local", "updates", "children"):
        assert activation["baseline"][column] == activation["product"][column], column
    assert activation["product"]["children"] == 2  # the sign-up's verification, a lifecycle
    assert activation["product"]["actions"] >= activation["baseline"]["actions"] > 0
    # The product's client follows its activations; every run spent CPU in the server and worker.
    assert report["activation"]["product"]["reads_per_flow"] >= 1
    runs = [report["verification"][name] for name in ("baseline", "same_work", "product")]
    for run in runs + [report["activation"][name] for name in ("baseline", "product")]:
        if isinstance(run, dict):
            assert run["cpu_ms_per_flow"]["server"] > 0 and run["cpu_ms_per_flow"]["worker"] > 0
    assert report["summary"]["codec_us_per_payload"] > 0
    # A customer's four waits, the product's and its floor's, alone and C at a time.
    assert set(report["waits"]) == {"c1", f"c{report['config']['c']}"}
    for steps in report["waits"].values():
        assert list(steps) == list(STEPS)
        assert all(wait["p50_ms"] > 0 and wait["floor_p50_ms"] > 0 for wait in steps.values())
    # With an endpoint subscribed to everything, each activation's events reached it (at least
    # the order, the account, the activation and the instance).
    webhooks = report["webhooks"]
    assert webhooks["deliveries"] >= 4 * webhooks["with"]["flows"]
    provisioning = report["provisioning"]  # one instance an activation, made in the product
    assert provisioning["calls"] >= provisioning["with"]["flows"] > 0
