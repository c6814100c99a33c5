"""The bench's report: one JSON document (`--report`, by default `.bench/report.json`) that the
tables, the summary line and the tests all read; and the tables themselves, printed from it."""

from __future__ import annotations

from typing import Any

from bench.scenarios import CPU_PROCESSES
from bench.scenarios import Timings
from bench.scenarios import pct
from bench.shape import COLUMNS
from bench.shape import Shape

Report = dict[str, Any]
TARGET_RATIO = 0.8


def timings(t: Timings) -> dict[str, Any]:
    """A run's numbers: flows, flows/s, latencies (ms, p50 and p99) and CPU per flow (ms)."""
    cpu = {process: round(t.cpu_ms_per_flow(process), 2) for process in CPU_PROCESSES}
    return {
        "flows": t.count,
        "per_s": round(t.per_s, 2),
        **{
            step: {"p50": round(pct(values, 0.5), 1), "p99": round(pct(values, 0.99), 1)}
            for step, values in (("start", t.start), ("inbox", t.inbox), ("confirm", t.confirm))
        },
        "cpu_ms_per_flow": cpu | {"total": round(sum(cpu.values()), 2)},
        "reads_per_flow": round(t.reads / t.count, 2) if t.count else 0.0,
    }


def shape(s: Shape) -> dict[str, Any]:
    return {"flows": s.flows, **{column: round(value, 2) for column, value in s.per_flow.items()}}


def summary(report: Report) -> dict[str, Any]:
    """The figures the last line gives, from the report."""
    verification, activation = report["verification"], report["activation"]
    product, baseline = verification["product"], verification["baseline"]
    shapes = report["shapes"]["activation"]
    return {
        "ratio": round(product["per_s"] / baseline["per_s"], 2),
        "flows_per_s": product["per_s"],
        "baseline_per_s": baseline["per_s"],
        "p50_inbox_ms": round(product["inbox"]["p50"]),
        "p99_inbox_ms": round(product["inbox"]["p99"]),
        "activation_ratio": round(
            activation["product"]["per_s"] / activation["baseline"]["per_s"], 2
        ),
        "installations_per_s": report["installations"]["product"]["per_s"],
        "installation_ratio": round(
            report["installations"]["product"]["per_s"]
            / report["installations"]["baseline"]["per_s"],
            2,
        ),
        "start_ratio": round(product["start"]["p50"] / baseline["start"]["p50"], 2),
        "page_p99_ms": round(max(page["p99"] for page in report["pages"].values())),
        "codec_us_per_payload": report["codec"]["us_per_payload"],
        "work_ratio": round(product["per_s"] / verification["same_work"]["per_s"], 2),
        "actions_per_activation": shapes["product"]["actions"],
        "history_kb_per_activation": shapes["product"]["kB"],
        "actions_ratio": round(shapes["product"]["actions"] / shapes["baseline"]["actions"], 2),
        "bytes_ratio": round(shapes["product"]["kB"] / shapes["baseline"]["kB"], 2),
        # The slowest of a customer's waits, alone on the machine (p50).
        "wait_p50_ms": round(max(step["p50_ms"] for step in report["waits"]["c1"].values())),
        "webhook_p50_ms": round(report["webhooks"]["delivery_ms"]["p50"]),
        "webhook_p99_ms": round(report["webhooks"]["delivery_ms"]["p99"]),
        "webhook_activation_ratio": round(
            report["webhooks"]["with"]["per_s"] / report["webhooks"]["without"]["per_s"], 2
        ),
        "provisioning_activation_ratio": round(
            report["provisioning"]["with"]["per_s"] / report["webhooks"]["without"]["per_s"], 2
        ),
    }


def summary_line(report: Report) -> str:
    return " ".join(f"{name}={value}" for name, value in report["summary"].items())


def cpu_budget(product: dict[str, Any], baseline: dict[str, Any]) -> str:
    """What the product may spend per flow for the target ratio (a CPU-bound run's throughput
    follows its CPU per flow), what it spends, and where it spends more than the baseline."""
    allowed = baseline["cpu_ms_per_flow"]["total"] / TARGET_RATIO
    cpu, base = product["cpu_ms_per_flow"], baseline["cpu_ms_per_flow"]
    extra = ", ".join(f"{process} {cpu[process] - base[process]:+.1f}" for process in CPU_PROCESSES)
    spent = product["cpu_ms_per_flow"]["total"]
    return f"may spend {allowed:.1f} for ratio {TARGET_RATIO}, spends {spent:.1f} ({extra})"


def print_tables(report: Report) -> None:
    """The report as tables, for a person (the JSON is for programs)."""
    config, verification = report["config"], report["verification"]
    print(f"Email verifications: N={config['n']} in {config['rounds']} rounds, C={config['c']}")
    print(f"{'run':<12} {'flows/s':>8} {'start p50/99':>15} {'inbox p50/99':>15} {'cpu ms':>8}")
    for name in ("baseline", "same_work", "product", "postgres"):
        if name in verification:
            run = verification[name]
            print(
                f"{name:<12} {run['per_s']:>8.1f} "
                f"{run['start']['p50']:>7.1f}/{run['start']['p99']:<7.1f} "
                f"{run['inbox']['p50']:>7.1f}/{run['inbox']['p99']:<7.1f} "
                f"{run['cpu_ms_per_flow']['total']:>8.1f}"
            )
    print("ratio by round: " + " ".join(f"{r:.2f}" for r in verification["ratio_by_round"]))
    print(f"product, CPU per flow: {cpu_budget(verification['product'], verification['baseline'])}")
    activation = report["activation"]
    print(f"\nLicense activations: A={config['activations']}")
    for name in ("baseline", "product"):
        run = activation[name]
        print(f"{name:<12} {run['per_s']:>8.2f}/s  activated p50 {run['confirm']['p50']:.0f} ms")
    print(f"\nOn-premises installations activated online: A={config['activations']} per run")
    for name in ("baseline", "product"):
        run = report["installations"][name]
        start = run["start"]
        print(
            f"{name:<12} {run['per_s']:>8.2f}/s  p50/p99 {start['p50']:.0f}/{start['p99']:.0f} ms"
        )
    for concurrency, steps in report["waits"].items():
        print(f"\nA customer's waits, {concurrency} (ms, p50/p99; the floor: the bare program)")
        for step, wait in steps.items():
            print(
                f"{step:<24} {wait['p50_ms']:>7.0f}/{wait['p99_ms']:<7.0f} floor "
                f"{wait['floor_p50_ms']:>5.0f}/{wait['floor_p99_ms']:<5.0f} "
                + ("within 1.5x + 50 ms" if wait["within_target"] else "over 1.5x + 50 ms")
            )
    for flow, shapes in report["shapes"].items():
        print(f"\nHistory per {flow} (its children included):")
        print(f"{'run':<12}" + "".join(f"{column:>10}" for column in (*COLUMNS, "kB")))
        for name, row in shapes.items():
            columns = (*COLUMNS, "kB")
            print(f"{name:<12}" + "".join(f"{row[column]:>10.2f}" for column in columns))
    webhooks = report["webhooks"]
    print(
        f"\nWebhooks: {webhooks['deliveries']} deliveries, change to receiver p50/p99 "
        f"{webhooks['delivery_ms']['p50']:.0f}/{webhooks['delivery_ms']['p99']:.0f} ms; "
        f"activations/s without {webhooks['without']['per_s']:.2f}, "
        f"with an endpoint {webhooks['with']['per_s']:.2f}"
    )
    provisioning = report["provisioning"]
    print(
        f"Provisioning: {provisioning['calls']} calls to the product backend; activations/s "
        f"{provisioning['with']['per_s']:.2f}, CPU per activation "
        f"{provisioning['with']['cpu_ms_per_flow']['total']:.0f} ms (without a backend "
        f"{webhooks['without']['cpu_ms_per_flow']['total']:.0f} ms)"
    )
    print(
        "\nCustomer pages (ms): "
        + ", ".join(
            f"{page} {times['p50']:.1f}/{times['p99']:.1f}"
            for page, times in report["pages"].items()
        )
    )
    for store, parked in report["parked"].items():
        print(
            f"Parked ({store}): {parked['count']} flows, worker {parked['worker_rss_mb']:.0f} MB, "
            f"status p50/p99 {parked['status_p50_ms']:.1f}/{parked['status_p99_ms']:.1f} ms"
        )
    print(f"Payload codec: {report['codec']['us_per_payload']} µs to seal and open a payload")
