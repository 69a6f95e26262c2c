"""bench/results.md: the machine, the targets, the figures and their ratios."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path

import django
import gunicorn
import psycopg
import weasyprint

from bench import dataset
from bench.server import WORKERS

ROOT = Path(__file__).resolve().parent.parent
LINES = dataset.LINE_COUNTS
PAGE_TARGET, LOOKUP_TARGET, LABEL_TARGET = 2.0, 1.3, 1.5


def _first_line(path: str, prefix: str) -> str:
    try:
        with open(path) as lines:
            for line in lines:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()


def machine_facts(url: str) -> dict[str, object]:
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres") as connection:
        version = connection.execute("SHOW server_version").fetchone()[0]
        shared_buffers = connection.execute("SHOW shared_buffers").fetchone()[0]
    dirty = len(_git("status", "--porcelain").splitlines())
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": f"{os.cpu_count()} ({_first_line('/proc/cpuinfo', 'model name')})",
        "memory": _first_line("/proc/meminfo", "MemTotal"),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": f"{version} (shared_buffers {shared_buffers}, same machine)",
        "software": (
            f"Django {django.get_version()}, gunicorn {gunicorn.__version__} "
            f"({WORKERS} sync workers), psycopg {psycopg.__version__}, "
            f"WeasyPrint {weasyprint.__version__}"
        ),
        "commit": f"{_git('rev-parse', '--short', 'HEAD')} "
        f"({dirty} uncommitted paths in the working tree, which is what ran)",
        "load": "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
        "load_averages": list(os.getloadavg()),
    }


# ---- Formatting -------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def queries(samples) -> str:
    """The usual count, and any other with how many responses reported it."""
    if samples is None or not samples.queries:
        return "-"
    usual = samples.usual_queries
    others = [
        f"{count} in {times}/{samples.count}"
        for count, times in sorted(samples.queries.items())
        if count != usual
    ]
    return f"{usual} ({', '.join(others)})" if others else str(usual)


def ok(samples) -> str:
    return f"{samples.ok}/{samples.count}"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def valid(samples) -> bool:
    return samples is not None and samples.count > 0 and samples.ok == samples.count


# ---- Targets ----------------------------------------------------------------------------


def _verdict(value: float | None, limit: float, *, samples=(), missing: str = "") -> str:
    if missing:
        return f"not measured: {missing}"
    if any(not valid(item) for item in samples):
        return "INVALID: some responses had an unexpected status (see below)"
    if value is None:
        return "not measured"
    return "met" if value <= limit else "**MISSED**"


def targets(results) -> list[list[str]]:
    rows = []
    latency = results.latency
    for endpoint, name, floor in (
        ("portal", "Portal order page", "floor-html"),
        ("eligibility", "checkEligibility", "floor-json"),
    ):
        series = [latency.get(f"{endpoint}/{n}") for n in LINES]
        missing = results.missing.get("api" if endpoint == "eligibility" else endpoint, "")
        if not missing and not all(series):
            missing = "no figures"
        counts = {item.usual_queries for item in series if item is not None}
        constant = (
            f"not measured: {missing}"
            if missing
            else ("met" if len(counts) == 1 and None not in counts else "**MISSED**")
        )
        rows.append(
            [
                f"{name}: queries constant from 1 to 100 lines",
                " → ".join(map(queries, series)),
                constant,
            ]
        )
        real, base = latency.get(f"{endpoint}/100"), latency.get(f"{floor}/100")
        value = real.p50 / base.p50 if real and base else None
        rows.append(
            [
                f"{name}: p50 at 100 lines ≤ {PAGE_TARGET}x its floor",
                ratio(value),
                _verdict(value, PAGE_TARGET, samples=(real, base), missing=missing),
            ]
        )
    small, large = results.lookup.get("1,000"), results.lookup.get("1,000,000")
    value = large.p50 / small.p50 if small and large else None
    missing = results.missing.get("lookup", "")
    if not missing and large is None:
        missing = "the 1,000,000-order dataset is skipped by --quick"
    rows.append(
        [
            f"Portal lookup p50 at 1,000,000 orders ≤ {LOOKUP_TARGET}x at 1,000",
            ratio(value),
            _verdict(value, LOOKUP_TARGET, samples=(small, large), missing=missing),
        ]
    )
    labels = results.labels or {}
    value = labels["label"] / labels["minimal"] if "label" in labels else None
    rows.append(
        [
            f"Label render ≤ {LABEL_TARGET}x a minimal WeasyPrint document",
            ratio(value),
            _verdict(value, LABEL_TARGET, missing=results.missing.get("labels", "")),
        ]
    )
    return rows


# ---- Sections ---------------------------------------------------------------------------


def budgets_section(results) -> list[str]:
    """The time limits the tests leave to the bench (bench/budgets.py), slowest run each."""
    from bench.budgets import verdict

    if not results.budgets:
        return []
    rows = [
        [
            f"{budget.name} {budget.limit:g} s",
            "-" if budget.slowest is None else f"{budget.slowest:.2f} s",
            verdict(budget),
        ]
        for budget in results.budgets
    ]
    return [
        "## Time budgets",
        "",
        "Limits the tests do not assert (a busy machine would fail them); the slowest of "
        "a few runs each (bench/budgets.py).",
        "",
        *table(["Budget", "Slowest", "Status"], rows),
    ]


def per_line_section(results) -> list[str]:
    rows = []
    for endpoint, name, floor in (
        ("portal", "Portal order page (HTML)", "floor-html"),
        ("eligibility", "checkEligibility (JSON, GET)", "floor-json"),
    ):
        for n in LINES:
            real, base = results.latency.get(f"{endpoint}/{n}"), results.latency.get(f"{floor}/{n}")
            if base is None:
                continue
            if real is None:
                rows.append(
                    [
                        name,
                        str(n),
                        "not measured",
                        "",
                        "",
                        queries(base),
                        ms(base.p50),
                        ms(base.p95),
                        "-",
                        "-",
                        "-",
                    ]
                )
                continue
            rows.append(
                [
                    name,
                    str(n),
                    queries(real),
                    ms(real.p50),
                    ms(real.p95),
                    queries(base),
                    ms(base.p50),
                    ms(base.p95),
                    ratio(real.p50 / base.p50),
                    ratio(real.p95 / base.p95),
                    ok(real),
                ]
            )
    header = [
        "Endpoint",
        "Lines",
        "Queries",
        "p50 ms",
        "p95 ms",
        "Floor queries",
        "Floor p50 ms",
        "Floor p95 ms",
        "p50 x floor",
        "p95 x floor",
        "OK",
    ]
    return [
        "## Per-line endpoints: queries and latency",
        "",
        f"One client, requests one after another ({results.plan.runs} per case after "
        f"{results.plan.warm_up} warm-up rounds), every case interleaved with the others so "
        "they all see the same machine. Queries: the `X-Bench-Queries` header of every "
        "response (bench middleware, counting every query of the request, session included): "
        "the usual count, then any other count with how many responses had it (the API key's "
        "`last_used_at` is written at most once a minute, for one). Floors: bench/floor.py (the "
        "same order and lines, 2 queries, minimal HTML or JSON).",
        "",
        *table(header, rows),
    ]


def query_sources_section(results) -> list[str]:
    if not results.query_sources:
        return []
    lines = ["## Queries that grow with the number of lines", ""]
    for endpoint, rows in results.query_sources.items():
        lines += [
            f"{endpoint}: statements run more often at 100 lines than at 1 line "
            "(in-process, one request each):",
            "",
        ]
        lines += table(
            ["At 1 line", "At 100 lines", "Run from", "Statement"],
            [
                [str(first), str(last), f"`{source}`", f"`{statement[:300]}`"]
                for statement, source, first, last in rows
            ],
        )
        lines.append("")
    return lines


def generate_section(results) -> list[str]:
    plan = results.plan
    floor = results.generate.get("floor-write")
    rows = []
    for name, label in (("generate", "generateRMA (JSON, POST)"), ("floor-write", "Write floor")):
        samples = results.generate.get(name)
        if samples is None:
            rows.append([label, "not measured", "", "", "", "", "", ""])
            continue
        cost = floor.throughput / samples.throughput if floor and samples.throughput else None
        rows.append(
            [
                label,
                str(plan.concurrency),
                ok(samples),
                f"{samples.throughput:.1f}",
                ms(samples.p50),
                ms(samples.p95),
                queries(samples),
                ratio(cost),
            ]
        )
    return [
        "## generateRMA throughput",
        "",
        f"{plan.concurrency} concurrent clients (closed loop), {plan.generate_requests} requests "
        f"per case in {plan.rounds} rounds alternating with the floor; each generateRMA is for "
        "a fresh one-line order with its own transactionId, so each should answer 201. "
        f"Follow-up work (label, email, webhooks) is published to the broker "
        f"({results.facts.get('broker', '?')}) and not consumed, as in production where "
        "Celery workers do it. Write floor: lock the order, read its lines, update the order, "
        "commit (bench/floor.py). Cost x floor = floor requests/s ÷ generateRMA requests/s.",
        "",
        *table(
            ["Case", "Clients", "201", "Requests/s", "p50 ms", "p95 ms", "Queries", "Cost x floor"],
            rows,
        ),
    ]


def lookup_section(results) -> list[str]:
    small = results.lookup.get("1,000")
    rows = []
    for label in ("1,000", "1,000,000"):
        samples = results.lookup.get(label)
        if samples is None:
            rows.append(
                [
                    label,
                    "not measured" if label == "1,000" else "skipped (--quick)",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
            continue
        rows.append(
            [
                label,
                ok(samples),
                queries(samples),
                ms(samples.p50),
                ms(samples.p95),
                ratio(samples.p50 / small.p50),
                ratio(samples.p95 / small.p95),
            ]
        )
    lines = [
        "## Portal lookup: 1,000 vs 1,000,000 orders",
        "",
        "POST of the lookup form with its CSRF token (cookie and field from one GET of `/`), "
        "a different random order each time, its number typed in lower case and its email; a "
        "match answers 302 to the order page. Each dataset on its own gunicorn, requests "
        f"interleaved ({results.plan.lookup_runs} each).",
        "",
        *table(
            ["Orders", "302", "Queries", "p50 ms", "p95 ms", "p50 x 1,000", "p95 x 1,000"], rows
        ),
    ]
    for label, plan in results.lookup_plans.items():
        lines += [
            "",
            f"Query plan of `orders_matching_number` at {label} orders:",
            "",
            "```",
            plan,
            "```",
        ]
    return lines


def labels_section(results) -> list[str]:
    if not results.labels:
        return ["## Labels", "", "Not measured: " + results.missing.get("labels", "?")]
    minimal = results.labels.get("minimal")
    rows = [
        [name, ms(value), ratio(value / minimal if minimal else None)]
        for name, value in results.labels.items()
    ]
    return [
        "## Labels",
        "",
        f"bench/label_render.py ({results.plan.label_runs} renders each, interleaved, "
        "median): the builtin label (`BuiltinLabelService().issue()`: template, barcode, QR "
        "code, PDF) against a one-paragraph WeasyPrint document.",
        "",
        *table(["Document", "Median ms", "x minimal"], rows),
    ]


def render(results) -> str:
    facts = results.facts
    lines = [
        "# Benchmark results",
        "",
        f"`make bench` ({results.plan.name} run), {facts['date']}, {facts['duration']}. "
        "Generated by bench/run.py; see bench/README.md for how to read it.",
        "",
        *table(
            ["Machine", ""],
            [
                ["Cores", facts["cores"]],
                ["Memory", facts["memory"]],
                ["OS", facts["os"]],
                ["Python", facts["python"]],
                ["PostgreSQL", facts["postgresql"]],
                ["Software", facts["software"]],
                ["Commit", facts["commit"]],
                ["Load average (1, 5, 15 min)", facts["load"]],
            ],
        ),
        "",
        "## Targets",
        "",
        *table(["Target", "Figure", "Status"], targets(results)),
        "",
    ]
    if max(facts["load_averages"]) > (os.cpu_count() or 1):
        lines += [
            "The machine was busy during this run (load average above its core count): the "
            "absolute milliseconds are inflated, mostly by the wait for each database round "
            "trip; the ratios hold better, since every comparison is interleaved.",
            "",
        ]
    if results.missing:
        lines += ["Not measured:", ""]
        lines += [f"- {name}: {reason}" for name, reason in results.missing.items()]
        lines.append("")
    for section in (
        budgets_section,
        per_line_section,
        query_sources_section,
        generate_section,
        lookup_section,
        labels_section,
    ):
        part = section(results)
        if part:
            lines += [*part, ""]
    lines += ["## Phases", ""]
    lines += table(
        ["Phase", "Seconds"], [[name, f"{seconds:.0f}"] for name, seconds in results.phases.items()]
    )
    return "\n".join(lines) + "\n"
