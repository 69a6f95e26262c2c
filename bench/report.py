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
# Against the bare floor (bench/bare), p50 at 100 lines; generateRMA against the bare
# write floor; the lookup at 1,000,000 orders against 1,000; the label against a minimal
# WeasyPrint document.
ELIGIBILITY_TARGET, PAGE_TARGET, GENERATE_TARGET = 2.5, 3.0, 3.0
LOOKUP_TARGET, LABEL_TARGET = 1.1, 1.3


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


def _font_subsetter() -> str:
    """Which library WeasyPrint subsets fonts with: fontTools makes a label ten times slower."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    if harfbuzz_subset and harfbuzz.hb_version_atleast(4, 1, 0):
        return "fonts subset by HarfBuzz"
    return "fonts subset by fontTools: install libharfbuzz-subset0"


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
            f"({WORKERS} sync workers per server), psycopg {psycopg.__version__}, "
            f"WeasyPrint {weasyprint.__version__} ({_font_subsetter()})"
        ),
        "commit": f"{_git('rev-parse', '--short', 'HEAD')} "
        + (
            f"({dirty} uncommitted paths in the shared working tree, which is what ran)"
            if dirty
            else "(clean working tree)"
        ),
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
    for endpoint, name, floor, limit in (
        ("portal", "Portal order page", "bare-html", PAGE_TARGET),
        ("eligibility", "checkEligibility", "bare-json", ELIGIBILITY_TARGET),
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
                f"{name}: p50 at 100 lines ≤ {limit}x the bare floor",
                ratio(value),
                _verdict(value, limit, samples=(real, base), missing=missing),
            ]
        )
    real, base = results.generate.get("generate"), results.generate.get("bare-write")
    value = real.p50 / base.p50 if real and base else None
    rows.append(
        [
            f"generateRMA: p50 ≤ {GENERATE_TARGET}x the bare write floor",
            ratio(value),
            _verdict(
                value,
                GENERATE_TARGET,
                samples=(real, base),
                missing=results.missing.get("generate", ""),
            ),
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
    load = results.load_test
    if load is not None:
        failures = sum(step.total.failures for step in load.steps)
        requests = sum(step.total.requests for step in load.steps)
        rows.append(
            [
                "Load test: no errors",
                f"{failures} failed of {requests:,}",
                ("not measured: " + load.problem)
                if load.problem and not load.steps
                else ("met" if failures == 0 else "**MISSED**"),
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
    for endpoint, name, bare, floor in (
        ("portal", "Portal order page (HTML)", "bare-html", "floor-html"),
        ("eligibility", "checkEligibility (JSON, GET)", "bare-json", "floor-json"),
    ):
        for n in LINES:
            real = results.latency.get(f"{endpoint}/{n}")
            base = results.latency.get(f"{bare}/{n}")
            inner = results.latency.get(f"{floor}/{n}")
            if base is None:
                continue
            cells = [name, str(n)]
            if real is None:
                cells += ["not measured", "", ""]
            else:
                cells += [queries(real), ms(real.p50), ms(real.p95)]
            cells += [ms(base.p50), ms(base.p95)]
            cells += [ms(inner.p50) if inner else "-"]
            cells += [
                ratio(real.p50 / base.p50) if real else "-",
                ratio(real.p95 / base.p95) if real else "-",
                ratio(real.p50 / inner.p50) if real and inner else "-",
                ok(real) if real else "-",
            ]
            rows.append(cells)
    header = [
        "Endpoint",
        "Lines",
        "Queries",
        "p50 ms",
        "p95 ms",
        "Bare p50 ms",
        "Bare p95 ms",
        "In-project floor p50 ms",
        "p50 x bare",
        "p95 x bare",
        "p50 x in-project",
        "OK",
    ]
    return [
        "## Per-line endpoints: queries and latency",
        "",
        f"One client, requests one after another ({results.plan.runs} per case after "
        f"{results.plan.warm_up} warm-up rounds), every case interleaved with the others (one "
        "request to the app, one to each floor, …) so they all see the same machine. "
        "Queries: the `X-Bench-Queries` header of every response (counting every query of "
        "the request, session included): the usual count, then any other count with how many "
        "responses had it (the API key's `last_used_at` is written at most once a minute). "
        "**Bare floor**: bench/bare, a separate Django project with no middleware and no "
        "apps, one SQL statement for the order and its lines, the JSON or HTML written by "
        "hand, a persistent connection. **In-project floor**: bench/floor.py on the "
        "production settings and middleware (2 ORM queries, a Django template or "
        "JsonResponse): what the middleware and the ORM cost before any of our code.",
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
    bare = results.generate.get("bare-write")
    rows = []
    for name, label in (
        ("generate", "generateRMA (JSON, POST)"),
        ("bare-write", "Bare write floor"),
        ("floor-write", "In-project write floor"),
    ):
        samples = results.generate.get(name)
        if samples is None:
            rows.append([label, "not measured", "", "", "", ""])
            continue
        rows.append(
            [
                label,
                ok(samples),
                queries(samples),
                ms(samples.p50),
                ms(samples.p95),
                ratio(samples.p50 / bare.p50 if bare else None),
            ]
        )
    return [
        "## generateRMA",
        "",
        f"One client, {results.plan.generate_requests} requests per case, interleaved; each "
        "generateRMA is for a fresh one-line order with its own transactionId (so each should "
        "answer 201). Follow-up work (label, email, webhooks) is published to the broker "
        f"({results.facts.get('broker', '?')}) and not consumed here, as in production where "
        "Celery workers do it (the load test runs a worker). Bare write floor (bench/bare): "
        "in one transaction, the order and its lines read with `FOR UPDATE OF` in one "
        "statement, one `UPDATE`, commit. In-project write floor: the same through the ORM "
        "and production middleware (bench/floor.py).",
        "",
        *table(["Case", "201", "Queries", "p50 ms", "p95 ms", "p50 x bare"], rows),
    ]


def layers_section(results) -> list[str]:
    if not results.layers:
        return []
    names = list(results.layers)
    layers: list[str] = []
    for figures in results.layers.values():
        layers += [layer for layer in figures["layers"] if layer not in layers]
    rows = [
        [layer] + [f"{results.layers[name]['layers'].get(layer, 0) * 100:.0f} %" for name in names]
        for layer in layers
    ]
    rows.append(
        ["In-process median, unprofiled"] + [ms(results.layers[n]["ms"]) + " ms" for n in names]
    )
    return [
        "## Where the time goes",
        "",
        f"bench/breakdown.py: {results.plan.profile_runs} in-process requests each (Django's "
        "test client, production settings and middleware, the bench database, no gunicorn), "
        "under cProfile; each function's own time added to its layer, as a share of the "
        "profiled time. cProfile slows Python more than waiting, so Python layers read a "
        "little high.",
        "",
        *table(["Layer", *names], rows),
    ]


def connections_section(results) -> list[str]:
    if not results.connections:
        return []
    bare = results.connections.get("bare floor")
    rows = [
        [
            label,
            queries(samples),
            ms(samples.p50),
            ms(samples.p95),
            ratio(samples.p50 / bare.p50 if bare else None),
            ok(samples),
        ]
        for label, samples in results.connections.items()
    ]
    return [
        "## Database connections",
        "",
        f"checkEligibility at 1 line (where a fixed cost weighs most), {results.plan.name} "
        f"run: {results.plan.connection_runs} requests per case, one gunicorn per set-up, "
        "interleaved with the bare floor. The set-ups differ only by environment "
        "(`CONN_MAX_AGE`, `CONN_HEALTH_CHECKS`) or, for the pool, by bench/settings_pool.py.",
        "",
        *table(["Set-up", "Queries", "p50 ms", "p95 ms", "p50 x bare", "OK"], rows),
    ]


def first_label_section(results) -> list[str]:
    if not results.first_label:
        return []
    rows = [
        [name, "-" if warm == 0 else f"{warm:.2f} s", f"{first * 1000:.0f} ms"]
        for name, (warm, first) in results.first_label.items()
    ]
    return [
        "## First label after a process starts",
        "",
        "bench/first_label.py: a fresh Python process per run (5 each, median), Django set "
        "up, then one label rendered as a task or an eager request renders it. The warm-up "
        "(labels/warmup.py) is paid at process start, outside any request or task. On a "
        "machine whose font cache is cold (a new container), the first label without it "
        "takes seconds; here the system's font cache is warm.",
        "",
        *table(["Process", "Warm-up at start", "First label"], rows),
    ]


def load_test_section(results) -> list[str]:
    load = results.load_test
    if load is None:
        return []
    plan = load.plan
    lines = [
        "## Load test (Locust)",
        "",
        f"bench/loadtest.py, bench/locustfile.py: headless Locust on 127.0.0.1, "
        f"{plan.step_seconds} s per step, all users started at once, no think time. Half "
        "the users are shoppers (lookup page, lookup, order page, request a return: 4 "
        "requests), half API clients (checkEligibility then generateRMA: 2 requests). "
        f"Stack as docker-compose.yml ships it: gunicorn with {plan.web_workers} sync "
        f"workers, a Celery worker with {plan.celery_concurrency} processes (labels, "
        "emails), Redis (broker and cache), PostgreSQL, all on this machine with Locust. "
        "**Lookup rate limit**: every iteration uses an order of its own (`LT…`) and every "
        "shopper its own address (`X-Forwarded-For` with `TRUSTED_PROXY_COUNT=1`, as "
        "behind one proxy), so the shipped limits stay on and no look-up fails; the "
        "settings are production's. Celery queued = tasks waiting in Redis when the step "
        "ended; RMAs and labels issued so far are counted in the database then (the worker "
        "shares the cores with everything else, so follow-up work lags under load).",
        "",
        "![Throughput and latency against users](loadtest.svg)",
        "",
    ]
    rows = [
        [
            str(step.users),
            f"{step.total.requests:,}",
            str(step.total.failures),
            f"{step.total.rps:.1f}",
            f"{step.total.rps / load.cores:.1f}",
            f"{step.total.p50:.0f}",
            f"{step.total.p95:.0f}",
            f"{step.total.p99:.0f}",
            "-" if step.queued_after is None else str(step.queued_after),
            f"{step.rmas:,}",
            f"{step.labels:,}",
        ]
        for step in load.steps
    ]
    lines += table(
        [
            "Users",
            "Requests",
            "Failures",
            "Requests/s",
            "Per core",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "Celery queued",
            "RMAs so far",
            "Labels issued so far",
        ],
        rows,
    )
    top = load.saturation
    if top is not None:
        lines += [
            "",
            f"Saturation: {top.total.rps:.1f} requests/s at {top.users} users = "
            f"**{top.total.rps / load.cores:.1f} requests/s per core** ({load.cores} cores, "
            "shared with PostgreSQL, Redis, the Celery worker and Locust itself); by request "
            "at that step:",
            "",
        ]
        lines += table(
            ["Request", "Count", "Failures", "Requests/s", "p50 ms", "p95 ms", "p99 ms"],
            [
                [
                    row.name,
                    f"{row.requests:,}",
                    str(row.failures),
                    f"{row.rps:.1f}",
                    f"{row.p50:.0f}",
                    f"{row.p95:.0f}",
                    f"{row.p99:.0f}",
                ]
                for row in top.rows
            ],
        )
    if load.problem:
        lines += ["", f"Problem: {load.problem}"]
    return lines


def lookup_section(results) -> list[str]:
    small = results.lookup.get("1,000")
    bare = results.lookup.get("bare floor, 1,000")
    rows = []
    for label in ("1,000", "1,000,000", "bare floor, 1,000"):
        samples = results.lookup.get(label)
        if samples is None:
            rows.append(
                [label, "skipped (--quick)" if label == "1,000,000" else "not measured"] + [""] * 6
            )
            continue
        rows.append(
            [
                label,
                ok(samples),
                queries(samples),
                ms(samples.p50),
                ms(samples.p95),
                ratio(samples.p50 / small.p50) if small else "-",
                ratio(samples.p95 / small.p95) if small else "-",
                ratio(samples.p50 / bare.p50) if bare else "-",
            ]
        )
    lines = [
        "## Portal lookup: 1,000 vs 1,000,000 orders",
        "",
        "POST of the lookup form with its CSRF token (cookie and field from one GET of `/`), "
        "a different random order each time, its number typed in lower case and its email; a "
        "match answers 302 to the order page. Each dataset on its own gunicorn, requests "
        f"interleaved ({results.plan.lookup_runs} each) with the bare floor's lookup (one "
        "statement on the same expression index, a redirect; no CSRF, session or rate limit).",
        "",
        *table(
            [
                "Orders",
                "302",
                "Queries",
                "p50 ms",
                "p95 ms",
                "p50 x 1,000",
                "p95 x 1,000",
                "p50 x bare",
            ],
            rows,
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


# Sections written by hand for figures `make bench` does not produce (e.g. the policy
# simulator, bench/simulator.py): carried over from the previous results.md as they are.
KEPT_SECTIONS = ("## Policy simulator",)


def kept_sections(previous: str) -> list[str]:
    lines, keeping = [], False
    for line in previous.splitlines():
        if line.startswith("## "):
            keeping = line.strip() in KEPT_SECTIONS
        if keeping:
            lines.append(line)
    while lines and not lines[-1].strip():
        lines.pop()
    return [*lines, ""] if lines else []


def render(results, previous: str = "") -> str:
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
        layers_section,
        lookup_section,
        connections_section,
        labels_section,
        first_label_section,
        load_test_section,
    ):
        part = section(results)
        if part:
            lines += [*part, ""]
    lines += kept_sections(previous)
    lines += ["## Phases", ""]
    lines += table(
        ["Phase", "Seconds"], [[name, f"{seconds:.0f}"] for name, seconds in results.phases.items()]
    )
    return "\n".join(lines) + "\n"
