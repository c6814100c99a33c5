"""`make bench`: what the product costs on top of the Temporal server it runs on.

In one run, on one Temporal dev server started here:
1. throughput: N complete email verifications over HTTP by C concurrent clients (start -> the mail
   reaches a real SMTP server on loopback -> the token is confirmed -> verified), against the
   bare Temporal program of the same shape (bench/baseline.py), same N and C, and against that
   program with its activities doing the product's external work (mail, outbox and outcome rows);
2. license activation: A new customers over HTTP (order -> the Activation Link mail -> sign-up ->
   the verification mail, confirmed -> agreements -> provisioning -> the confirmation mail),
   against its same-shape baseline;
3. the customer's pages: p50/p99 of each page's GET at concurrency C;
4. parked flows: M pending verifications left waiting; worker and API peak RSS, worker CPU while
   idle, and p99 of `GET /v1/email-verifications/{id}` under that load;
5. the payload codec's cost: microseconds to seal and open one payload;
6. on SQLite, and (1 and 4) on PostgreSQL when 127.0.0.1:5432 answers;
7. the CPU each process spent per flow in 1 and 2 (server, worker, API, load generator), and
   what the product may spend per flow for a ratio of 0.8;
8. the history each flow leaves on the server: events, billable actions and kB, against the
   baselines'.
On SQLite, 1 and 2 run in R rounds, each run taking its turn in every round, so that a machine
whose speed drifts during the bench (a shared VM's does) moves the product and its baseline alike.
Everything goes to one JSON report (--report, by default .bench/report.json); the tables are
printed from it, and the last line is its summary (bench/README.md explains each figure).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload

from bench.doorbell import Doorbell
from bench.installations import baseline_installation_throughput
from bench.installations import installation_throughput
from bench.installations import per_installation
from bench.receiver import ProductBackend
from bench.receiver import WebhookReceiver
from bench.report import Report
from bench.report import print_tables
from bench.report import shape
from bench.report import summary
from bench.report import summary_line
from bench.report import timings
from bench.scenarios import Timings
from bench.scenarios import activation_throughput
from bench.scenarios import baseline_activation_throughput
from bench.scenarios import baseline_throughput
from bench.scenarios import page_latencies
from bench.scenarios import parked_flows
from bench.scenarios import pct
from bench.scenarios import product_throughput
from bench.scenarios import split
from bench.scenarios import with_cpu
from bench.shape import shape_of
from bench.stack import API_KEY
from bench.stack import AUTH
from bench.stack import Inbox
from bench.stack import Product
from bench.stack import http_client
from bench.stack import pg_admin
from bench.stack import progress
from bench.stack import until_exit
from bench.waits import customer_waits
from core.payload_codec import EncryptionCodec
from core.payload_codec import new_key_entry
from core.signing import new_secret
from models.contracts.search_attributes import ALL as SEARCH_ATTRIBUTES
from models.records.migrate import upgrade
from tests.support.net import free_port
from tests.support.net import postgres_reachable
from tests.support.product_backend import catalog_with_backend
from workers.dev_temporal import DevTemporalServer

# -- the mail server the flows send to ---------------------------------------------------------


# -- processes ---------------------------------------------------------------------------------


# -- drivers -----------------------------------------------------------------------------------


# -- stores ------------------------------------------------------------------------------------


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Bench:
    """What a run works with: the Temporal server, the mail server, the doorbell, the baselines'
    workers and the product's processes, and the numbers gathered so far."""

    args: argparse.Namespace
    work: Path
    temporal: DevTemporalServer
    inbox: Inbox
    doorbell: Doorbell
    env: dict[str, str]
    baselines: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    rounds: dict[str, Timings] = field(default_factory=dict)
    ratios: dict[str, list[float]] = field(default_factory=dict)

    async def measured(self, name: str, work: Awaitable[Timings]) -> Timings:
        """A run of `name` (a product or a baseline) with the CPU of the processes it works in;
        it fails at once if its worker dies."""
        pids = {"server": self.temporal.process.pid, "driver": os.getpid()}
        if name in self.baselines:
            worker = self.baselines[name]
        else:
            worker = self.products[name].worker
            pids["api"] = self.products[name].api.pid
        pids["worker"] = worker.pid
        return await until_exit(worker, with_cpu(pids, work))


async def main(args: argparse.Namespace) -> Report:
    work = Path(tempfile.mkdtemp(prefix="activation-bench-"))
    address = f"127.0.0.1:{free_port()}"
    temporal = await DevTemporalServer.start(
        address=address,
        namespace="default",
        ui_port=None,
        database_file=work / "temporal.db",
        search_attributes=SEARCH_ATTRIBUTES,
        log_file=work / "temporal.log",
    )
    inbox, doorbell = Inbox(asyncio.get_running_loop()), await Doorbell.open()
    env = os.environ | {
        "ACTIVATION_ENVIRONMENT": "test",
        "ACTIVATION_TEMPORAL_ADDRESS": address,
        "ACTIVATION_SMTP_PORT": str(inbox.port),
        "ACTIVATION_API_KEYS": API_KEY,
        "ACTIVATION_SECRET_KEY": "bench-secret-key-with-more-than-32-characters",
        "ACTIVATION_PAYLOAD_KEYS": new_key_entry("bench"),  # as in production
        "ACTIVATION_DATA_DIR": str(work),
    }
    bench = Bench(args, work, temporal, inbox, doorbell, env)
    report: Report = {
        "config": {
            "n": args.n,
            "c": args.concurrency,
            "rounds": args.rounds,
            "activations": args.activations,
            "parked": args.parked,
        }
    }
    try:
        await start_baselines(bench)
        bench.products["product"] = await start_product(bench, "sqlite")
        report |= await rounds_on_sqlite(bench)
        report |= await with_vendor_systems(bench)
        report |= await pages_and_parked(bench, "product")
        if postgres_reachable() and not args.sqlite_only:
            report["verification"]["postgres"], report["parked"]["postgres"] = await on_postgres(
                bench
            )
    finally:
        for product in bench.products.values():
            await product.stop()
        for process in bench.baselines.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()
        inbox.stop()
        doorbell.close()
        await temporal.stop()
        shutil.rmtree(work, ignore_errors=True)
    report["codec"] = await codec_cost()
    report["summary"] = summary(report)
    return report


async def start_baselines(bench: Bench) -> None:
    """The bare baseline (it rings the doorbell) and the one doing the product's work (it mails
    the inbox and writes a database of its own)."""
    address = bench.env["ACTIVATION_TEMPORAL_ADDRESS"]
    for name, options in (
        ("baseline", ("--doorbell-port", str(bench.doorbell.port))),
        (
            "same_work",
            ("--smtp-port", str(bench.inbox.port), "--database", str(bench.work / "w.db")),
        ),
    ):
        queue = bench.queues[name] = f"{name}-{uuid.uuid4().hex[:8]}"
        command = ("-m", "bench.baseline", "--address", address, "--task-queue", queue)
        bench.baselines[name] = await asyncio.create_subprocess_exec(
            sys.executable, *command, *options
        )


async def start_product(bench: Bench, store: str, url: str | None = None) -> Product:
    url = url or f"sqlite+aiosqlite:///{bench.work}/{store}.db"
    await asyncio.to_thread(upgrade, url)
    env = bench.env | {
        "ACTIVATION_DATABASE_URL": url,
        "ACTIVATION_TEMPORAL_TASK_QUEUE": f"bench-{store}-{uuid.uuid4().hex[:6]}",
    }
    return await Product.start(env, bench.work)


# The email verification runs; the others (`baseline_acts`, `product_installs`, …) are named
# after the process that serves them, and measure A activations each.
VERIFICATIONS = ("baseline", "same_work", "product")


def process_of(run: str) -> str:
    return run if run in VERIFICATIONS else run.partition("_")[0]


async def rounds_on_sqlite(bench: Bench) -> Report:
    """Email verifications and license activations, the product's and its baselines', in rounds
    that take turns, after an untimed warm-up alike for every run."""
    args, client, inbox = bench.args, bench.temporal.client, bench.inbox
    c, queues, doorbell = args.concurrency, bench.queues, bench.doorbell
    async with http_client(bench.products["product"]) as http:
        runs: dict[str, Callable[[str, int], Awaitable[Timings]]] = {
            "baseline": lambda _, n: baseline_throughput(
                client, queues["baseline"], n, c, doorbell
            ),
            "same_work": lambda _, n: baseline_throughput(client, queues["same_work"], n, c, inbox),
            "product": lambda label, n: product_throughput(http, inbox, label, n, c),
            "baseline_acts": lambda _, a: baseline_activation_throughput(
                client, queues["baseline"], a, c, doorbell
            ),
            "product_acts": lambda label, a: activation_throughput(http, inbox, label, a, c),
            "baseline_installs": lambda _, a: baseline_installation_throughput(
                client, queues["baseline"], a, c
            ),
            "product_installs": lambda label, a: installation_throughput(http, inbox, label, a, c),
        }
        for name, run in runs.items():  # the warm-up: workers poll, caches fill
            size = args.n if name in VERIFICATIONS else args.activations
            await bench.measured(process_of(name), run(f"{name}-w", max(2, size // 10)))
        for r, (n, a) in enumerate(
            zip(split(args.n, args.rounds), split(args.activations, args.rounds), strict=True)
        ):
            progress(f"round {r + 1}/{args.rounds}: {n} flows, {a} activations, concurrency {c}")
            for name, run in runs.items():
                count = n if name in VERIFICATIONS else a
                timed = await bench.measured(process_of(name), run(f"{name}-{r}", count))
                bench.rounds.setdefault(name, Timings()).add(timed)
                bench.ratios.setdefault(name, []).append(timed.per_s)
        waits = await customer_waits(
            http, bench.inbox, (client, queues["baseline"], doorbell), args.activations, c
        )
    for process in bench.baselines.values():
        process.send_signal(signal.SIGTERM)
        await process.wait()
    return await gathered(bench) | {"waits": waits}


async def with_vendor_systems(bench: Bench) -> Report:
    """License activations telling the vendor's systems, against the same runs without: with
    one webhook endpoint subscribed to every event, and on a product whose instances a product
    backend provisions (in turns, each on a product of its own), with how long each event
    took from its change to the receiver. The products run in development here: the one
    environment that may call loopback."""
    args, c = bench.args, bench.args.concurrency
    receiver, backend = await WebhookReceiver.open(), await ProductBackend.open()
    catalog = bench.work / "provisioned-catalog.json"
    catalog_with_backend(catalog, backend.url)
    env = bench.env | {"ACTIVATION_ENVIRONMENT": "development"}
    bench.products["webhooks"] = await _product_of_its_own(bench, env, "webhooks")
    bench.products["provisioned"] = await _product_of_its_own(
        bench,
        env
        | {
            "ACTIVATION_CATALOG_FILE": str(catalog),
            "ACTIVATION_PROVISIONING_SECRETS": json.dumps({"endpoint-protection": [new_secret()]}),
        },
        "provisioned",
    )
    runs: dict[str, Timings] = {"without": Timings(), "with": Timings(), "provisioned": Timings()}
    try:
        async with (
            http_client(bench.products["webhooks"]) as http,
            http_client(bench.products["provisioned"]) as provisioned,
        ):
            answer = await http.post(
                "/v1/webhook-endpoints", json={"url": receiver.url}, headers=AUTH
            )
            endpoint = f"/v1/webhook-endpoints/{answer.json()['id']}"
            for client, name in ((http, "webhooks"), (provisioned, "provisioned")):
                warm_up = activation_throughput(client, bench.inbox, f"{name}-w", 2, 1)
                await until_exit(bench.products[name].worker, warm_up)
            for r, a in enumerate(split(args.activations, args.rounds)):
                progress(f"vendor systems round {r + 1}/{args.rounds}: {a} activations each")
                for name, enabled in (("without", False), ("with", True)):
                    await http.request("PATCH", endpoint, json={"enabled": enabled}, headers=AUTH)
                    run = activation_throughput(http, bench.inbox, f"wh-{name}-{r}", a, c)
                    runs[name].add(await bench.measured("webhooks", run))
                run = activation_throughput(provisioned, bench.inbox, f"prov-{r}", a, c)
                runs["provisioned"].add(await bench.measured("provisioned", run))
            await receiver.quiet()
    finally:
        for name in ("webhooks", "provisioned"):
            await bench.products.pop(name).stop()
        await receiver.close()
        await backend.close()
    delays = receiver.delays  # seconds, as `pct` takes them
    return {
        "webhooks": {
            "without": timings(runs["without"]),
            "with": timings(runs["with"]),
            "deliveries": len(delays),
            "delivery_ms": {
                "p50": round(pct(delays, 0.5), 1),
                "p99": round(pct(delays, 0.99), 1),
            },
        },
        "provisioning": {"with": timings(runs["provisioned"]), "calls": backend.calls},
    }


async def _product_of_its_own(bench: Bench, env: dict[str, str], name: str) -> Product:
    url = f"sqlite+aiosqlite:///{bench.work}/{name}.db"
    await asyncio.to_thread(upgrade, url)
    queue = {"ACTIVATION_TEMPORAL_TASK_QUEUE": f"bench-{name}"}
    return await Product.start(env | {"ACTIVATION_DATABASE_URL": url} | queue, bench.work)


async def gathered(bench: Bench) -> Report:
    rounds, ratios, client = bench.rounds, bench.ratios, bench.temporal.client

    def by_round(run: str, against: str) -> list[float]:
        return [round(a / b, 2) for a, b in zip(ratios[run], ratios[against], strict=True)]

    return {
        "verification": {name: timings(rounds[name]) for name in VERIFICATIONS}
        | {
            "ratio_by_round": by_round("product", "baseline"),
            "work_ratio_by_round": by_round("product", "same_work"),
        },
        "activation": {
            "baseline": timings(rounds["baseline_acts"]),
            "product": timings(rounds["product_acts"]),
            "ratio_by_round": by_round("product_acts", "baseline_acts"),
        },
        # Online activations of an on-premises product: installations taking a code's seats.
        "installations": {
            "baseline": timings(rounds["baseline_installs"]),
            "product": timings(rounds["product_installs"]),
            "ratio_by_round": by_round("product_installs", "baseline_installs"),
        },
        "shapes": {
            "email verification": {
                name: shape(await shape_of(client, rounds[name].ids)) for name in VERIFICATIONS
            },
            "activation": {
                "baseline": shape(await shape_of(client, rounds["baseline_acts"].ids)),
                "product": shape(await shape_of(client, rounds["product_acts"].ids)),
            },
            # Per installation: its certificate's (or seats flow's) history shared among them.
            "installation": {
                "baseline": await per_installation(client, rounds["baseline_installs"]),
                "product": await per_installation(client, rounds["product_installs"]),
            },
        },
    }


async def pages_and_parked(bench: Bench, name: str) -> Report:
    args, product, c = bench.args, bench.products[name], bench.args.concurrency
    async with http_client(product) as http:
        progress(f"the customer's pages, concurrency {c}")
        pages = await until_exit(
            product.worker, page_latencies(http, bench.inbox, name, max(20, args.n // 5), c)
        )
        progress(f"parking {args.parked} flows")
        parked = await until_exit(
            product.worker,
            parked_flows(
                http, bench.inbox, product, name, args.parked, max(c, 20), args.idle_seconds
            ),
        )
    await bench.products.pop(name).stop()
    page_times = {
        page: {"p50": round(pct(times, 0.5), 1), "p99": round(pct(times, 0.99), 1)}
        for page, times in pages.items()
    }
    return {"pages": page_times, "parked": {"sqlite": dataclasses.asdict(parked)}}


async def on_postgres(bench: Bench) -> tuple[dict[str, Any], dict[str, Any]]:
    """The email verifications and the parked flows again, the product on PostgreSQL."""
    args, c = bench.args, bench.args.concurrency
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/bench_{uuid.uuid4().hex[:8]}"
    await pg_admin(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
    try:
        product = bench.products["postgres"] = await start_product(bench, "postgres", url)
        async with http_client(product) as http:
            await until_exit(product.worker, product_throughput(http, bench.inbox, "pg-w", 3, 1))
            progress(f"postgres: {args.n} flows, concurrency {c}")
            flows = await until_exit(
                product.worker, product_throughput(http, bench.inbox, "pg", args.n, c)
            )
            parked = await until_exit(
                product.worker,
                parked_flows(
                    http, bench.inbox, product, "pg", args.parked, max(c, 20), args.idle_seconds
                ),
            )
        await bench.products.pop("postgres").stop()
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    return timings(flows), dataclasses.asdict(parked)


async def codec_cost() -> dict[str, float]:
    """What sealing and opening one payload costs (every payload the service gives Temporal is
    encrypted; no deployment runs without it): an activation's state, 2,000 times."""
    codec = EncryptionCodec([new_key_entry("bench")])
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b"x" * 2000)
    began = time.perf_counter()
    for _ in range(2000):
        await codec.decode(await codec.encode([payload]))
    return {"us_per_payload": round((time.perf_counter() - began) / 2000 * 1e6, 1)}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=300, help="complete flows per run (default 300)")
    parser.add_argument("-c", "--concurrency", type=int, default=10, help="concurrent clients")
    parser.add_argument("-m", "--parked", type=int, default=10_000, help="parked flows")
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument(
        "-r", "--rounds", type=int, default=3, help="rounds the product and the baseline alternate"
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny N and M")
    parser.add_argument(
        "-a", "--activations", type=int, default=100, help="license activations (default 100)"
    )
    parser.add_argument(
        "--report", type=Path, default=Path(".bench/report.json"), help="where the JSON goes"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.concurrency, args.parked, args.idle_seconds = 10, 5, 20, 0.5
        args.activations, args.rounds = 5, 2
    return args


def run(argv: list[str] | None = None) -> None:
    args = parse(argv)
    report = asyncio.run(main(args))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=1))
    print_tables(report)
    print(f"\n{summary_line(report)}")  # the last line, for a glance


if __name__ == "__main__":
    run()
