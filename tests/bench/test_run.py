"""`make bench --quick` as a smoke test: the bench runs end to end and prints its summary line.
It asserts that the numbers exist, never how fast they are."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # runs the whole stack in processes of its own

SUMMARY = re.compile(
    r"^ratio=[\d.]+ flows_per_s=[\d.]+ baseline_per_s=[\d.]+ p50_inbox_ms=\d+ p99_inbox_ms=\d+ "
    r"activation_ratio=[\d.]+ start_ratio=[\d.]+ page_p99_ms=\d+ codec_cost=-?[\d.]+% "
    r"work_ratio=[\d.]+$"
)


def test_the_quick_bench_runs_and_prints_the_summary_line_last() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert SUMMARY.match(lines[-1]), lines[-1]
    assert any(line.startswith("baseline ") for line in lines)
    assert any(line.startswith("sqlite ") for line in lines)
    # The baselines run in the product's shape: per email verification, the same activities,
    # local activities and updates in their histories; the product alone publishes its state.
    per_flow = shapes(lines, "History events per email verification")
    for run in ("baseline ", "same work "):
        for column in ("acts", "local", "updates"):
            assert per_flow[run][column] == per_flow["sqlite "][column], (run, column)
        assert per_flow[run]["published"] == 0
    assert per_flow["sqlite "]["published"] > 0
    assert per_flow["sqlite "]["kB"] > 0
    # So does the license activation's, its child workflows included.
    per_activation = shapes(lines, "History events per license activation")
    for column in ("acts", "local", "updates", "children"):
        assert per_activation["baseline "][column] == per_activation["sqlite "][column], column
    assert per_activation["sqlite "]["children"] == 2  # the sign-up's verification, lifecycle
    reads = next(line for line in lines if line.startswith("status reads per activation"))
    assert float(reads.split()[4]) >= 1, reads
    # Where the CPU went, by process: every run spent some in the server and its worker.
    cpu = lines[lines.index(next(line for line in lines if line.startswith("CPU per flow"))) :]
    for run in ("baseline ", "same work ", "sqlite ", "plain ", "baseline acts", "sqlite acts"):
        server, worker = next(line for line in cpu if line.startswith(run)).split()[-5:-3]
        assert float(server) > 0 and float(worker) > 0, run
    # The budget for the target ratio is the baseline's CPU per flow over that ratio.
    for run, baseline in (
        ("sqlite ", "baseline "),
        ("sqlite ~ work", "same work "),
        ("sqlite acts", "baseline acts"),
    ):
        budget = next(line for line in cpu if line.startswith(run) and "may spend" in line)
        allowed, spent = map(float, re.findall(r"spends? ([\d.]+)", budget))
        baseline_total = float(next(line for line in cpu if line.startswith(baseline)).split()[-1])
        assert abs(allowed - baseline_total / 0.8) < 0.2, budget
        assert spent > 0, budget


def shapes(lines: list[str], title: str) -> dict[str, dict[str, float]]:
    """A history-shape table of the bench's output: each run's events per flow, by column."""
    first = lines.index(next(line for line in lines if line.startswith(title)))
    table = lines[first : lines.index("", first)]
    columns = table[1].split()
    return {
        run: dict(zip(columns[2:], map(float, line[len(run) :].split()[1:]), strict=True))
        for run in ("baseline ", "same work ", "sqlite ")
        for line in table
        if line.startswith(run)
    }
