"""Load test: Locust (headless, loopback only) against gunicorn + PostgreSQL + Redis + a
Celery worker, stepping the number of simulated users up to saturation.

Run by `make bench` (bench/run.py) after the latency runs, on the bench's 1,000-order
database with its own `LT…` orders added; the users are in bench/locustfile.py. Each
step is a separate headless Locust run of `step_seconds` with every user started at
once; the figures are Locust's own (its CSV statistics: counts, failures, requests/s,
percentiles rounded as Locust rounds them). The plot (bench/loadtest.svg) is written
by hand as SVG: no plotting library to install.

The stack is configured as docker-compose.yml ships it: 3 gunicorn sync workers, a
Celery prefork worker with 2 processes (labels, emails), Redis as broker and cache,
`TRUSTED_PROXY_COUNT=1` so that each simulated shopper has its own address
(`X-Forwarded-For`). Locust itself runs on the same two cores: it takes a share of the
CPU the server would otherwise have, so throughput per core is a lower bound.
"""

from __future__ import annotations

import csv
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench import dataset, server

ROOT = Path(__file__).resolve().parent.parent
LOCUST = ROOT / ".venv" / "bin" / "locust"


@dataclass(frozen=True)
class Plan:
    users: tuple[int, ...]
    step_seconds: int
    orders_per_step: int
    web_workers: int = 3
    celery_concurrency: int = 2


FULL = Plan(users=(1, 2, 4, 8, 16, 32, 64), step_seconds=20, orders_per_step=8_000)
QUICK = Plan(users=(2, 8), step_seconds=10, orders_per_step=4_000)


@dataclass
class Row:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


@dataclass
class Step:
    users: int
    total: Row
    rows: list[Row]
    queued_after: int | None  # Celery tasks waiting in Redis when the step ended
    rmas: int = 0  # RMAs in the database when the step ended (all steps so far)
    labels: int = 0  # of which with their label issued by the worker


@dataclass
class Result:
    plan: Plan
    cores: int
    steps: list[Step] = field(default_factory=list)
    problem: str = ""

    @property
    def saturation(self) -> Step | None:
        return max(self.steps, key=lambda step: step.total.rps) if self.steps else None


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


def parse_stats(path: Path) -> tuple[Row, list[Row]]:
    rows, total = [], None
    with path.open() as stats:
        for record in csv.DictReader(stats):
            row = Row(
                name=record["Name"],
                requests=int(record["Request Count"]),
                failures=int(record["Failure Count"]),
                rps=_number(record["Requests/s"]),
                p50=_number(record["50%"]),
                p95=_number(record["95%"]),
                p99=_number(record["99%"]),
            )
            if record["Name"] == "Aggregated":
                total = row
            else:
                rows.append(row)
    if total is None:
        raise RuntimeError(f"no Aggregated row in {path}")
    return total, rows


def _queued(broker: str) -> int | None:
    if not broker.startswith("redis://"):
        return None
    import redis

    client = redis.Redis.from_url(broker)
    try:
        return int(client.llen("celery"))
    finally:
        client.close()


def _rmas_and_labels(database_url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE label_status = 'ISSUED') FROM rma_rma"
        ).fetchone()


def run(plan: Plan, *, environment: dict[str, str], api_key: str, database_url: str) -> Result:
    """The stepped load test; the bench database must hold the store and its API key."""
    result = Result(plan, os.cpu_count() or 1)
    dataset.add_load_test_orders(database_url, count=plan.orders_per_step * len(plan.users))
    env = {**environment, "DATABASE_URL": database_url, "TRUSTED_PROXY_COUNT": "1"}
    ready = f"/v1.0/seller/{dataset.STORE_CODE}/return-order/create/LT0000001/checkEligibility.json"
    with (
        server.gunicorn(
            name="load",
            environment=env,
            ready_path=ready,
            workers=plan.web_workers,
            ready_headers={"X-Forwarded-Proto": "https", "apikey": api_key},
        ) as port,
        server.celery_worker(environment=env, concurrency=plan.celery_concurrency),
    ):
        for number, users in enumerate(plan.users):
            prefix = server.DATA / f"locust-{users}"
            first = number * plan.orders_per_step + 1
            completed = subprocess.run(
                [
                    str(LOCUST),
                    "-f",
                    str(ROOT / "bench" / "locustfile.py"),
                    "--headless",
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--users",
                    str(users),
                    "--spawn-rate",
                    str(users),
                    "--run-time",
                    f"{plan.step_seconds}s",
                    "--stop-timeout",
                    "10",
                    "--csv",
                    str(prefix),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                ],
                env={
                    **os.environ,
                    "LOADTEST_API_KEY": api_key,
                    "LOADTEST_STORE": dataset.STORE_CODE,
                    "LOADTEST_FIRST": str(first),
                    "LOADTEST_LAST": str(first + plan.orders_per_step - 1),
                },
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=plan.step_seconds + 120,
                check=False,
            )
            (server.DATA / f"locust-{users}.log").write_text(completed.stdout + completed.stderr)
            stats = Path(f"{prefix}_stats.csv")
            if not stats.exists():
                result.problem = f"Locust wrote no statistics at {users} users; see {prefix}.log"
                break
            total, rows = parse_stats(stats)
            queued = _queued(env.get("CELERY_BROKER_URL", ""))
            rmas, labels = _rmas_and_labels(database_url)
            result.steps.append(Step(users, total, rows, queued, rmas, labels))
            print(
                f"[bench] load test: {users} users, {total.rps:.1f} req/s, "
                f"p95 {total.p95:.0f} ms, {total.failures} failures, "
                f"{rmas} RMAs, {labels} labels issued",
                flush=True,
            )
    return result


# ---- Plot ---------------------------------------------------------------------------------


def write_plot(result: Result, path: Path) -> None:
    """Throughput and p50/p95/p99 against users, two panels, as a hand-written SVG."""
    if not result.steps:
        return
    width, height, margin = 760, 330, 60
    panel = (width - 3 * margin) / 2
    top, bottom = 40, height - 50
    users = [step.users for step in result.steps]
    xs = {u: i for i, u in enumerate(users)}  # one slot per step (users double each step)

    def x_of(offset: float, u: int) -> float:
        return offset + (panel * xs[u] / max(1, len(users) - 1))

    def y_of(value: float, top_value: float) -> float:
        return bottom - (bottom - top) * value / top_value if top_value else bottom

    def nice(value: float) -> float:
        step = 10 ** (len(str(int(max(value, 1)))) - 1)
        return (int(value / step) + 1) * step

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]

    def axes(offset: float, title: str, top_value: float, unit: str) -> None:
        parts.append(
            f'<text x="{offset + panel / 2}" y="22" text-anchor="middle" '
            f'font-weight="bold">{title}</text>'
        )
        parts.append(
            f'<line x1="{offset}" y1="{bottom}" x2="{offset + panel}" y2="{bottom}" '
            'stroke="black"/>'
        )
        parts.append(f'<line x1="{offset}" y1="{top}" x2="{offset}" y2="{bottom}" stroke="black"/>')
        for fraction in (0, 0.25, 0.5, 0.75, 1):
            value, y = top_value * fraction, y_of(top_value * fraction, top_value)
            parts.append(
                f'<line x1="{offset}" y1="{y:.1f}" x2="{offset + panel}" y2="{y:.1f}" '
                'stroke="#ddd"/>'
            )
            parts.append(
                f'<text x="{offset - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>'
            )
        for u in users:
            parts.append(
                f'<text x="{x_of(offset, u):.1f}" y="{bottom + 16}" text-anchor="middle">{u}</text>'
            )
        parts.append(
            f'<text x="{offset + panel / 2}" y="{bottom + 34}" text-anchor="middle">'
            f"users (doubling each step; no think time) — {unit}</text>"
        )

    def series(
        offset: float, values: list[float], top_value: float, colour: str, label: str, row: int
    ) -> None:
        points = " ".join(
            f"{x_of(offset, u):.1f},{y_of(v, top_value):.1f}"
            for u, v in zip(users, values, strict=True)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for u, v in zip(users, values, strict=True):
            parts.append(
                f'<circle cx="{x_of(offset, u):.1f}" cy="{y_of(v, top_value):.1f}" r="3" '
                f'fill="{colour}"/>'
            )
        parts.append(f'<text x="{offset + 8}" y="{top + 14 * row}" fill="{colour}">{label}</text>')

    rps = [step.total.rps for step in result.steps]
    left = margin
    top_rps = nice(max(rps))
    axes(left, "Throughput (requests/s, all kinds)", top_rps, "requests/s")
    series(left, rps, top_rps, "#1f5fa8", "requests/s", 1)
    right = 2 * margin + panel
    latencies = {
        "p50": [s.total.p50 for s in result.steps],
        "p95": [s.total.p95 for s in result.steps],
        "p99": [s.total.p99 for s in result.steps],
    }
    top_ms = nice(max(latencies["p99"]))
    axes(right, "Latency (ms, all requests)", top_ms, "ms")
    for row, ((label, values), colour) in enumerate(
        zip(latencies.items(), ("#2a8a2a", "#d08a00", "#c03030"), strict=True), start=1
    ):
        series(right, values, top_ms, colour, label, row)
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
