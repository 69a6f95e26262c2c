"""`make bench`: measure the app under gunicorn against PostgreSQL; write bench/results.md.

Usage: .venv/bin/python bench/run.py [--quick] [--keep]

  --quick  fewer requests and no 1,000,000-order dataset (under 3 minutes)
  --keep   keep the bench databases afterwards (they are dropped by default)

Steps: (re)create the bench database, migrate it, load the data in bulk (dataset.py),
clone it and grow the clone to 1,000,000 orders, ANALYZE both, start gunicorn on each
(server.py), drive them with the load generator (loadgen.py), time the labels
(label_render.py), write results.md (report.py). See README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
SMALL_DB, LARGE_DB = "returns_bench", "returns_bench_1m"
SMALL_URL, LARGE_URL = f"{POSTGRES}/{SMALL_DB}", f"{POSTGRES}/{LARGE_DB}"
# Whatever the caller's environment says, the bench runs on its own database.
os.environ["DATABASE_URL"] = SMALL_URL
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from bench import budgets, dataset, diagnose, report, server  # noqa: E402
from bench.loadgen import Client, Response, Samples, concurrent, interleaved  # noqa: E402

SMALL_ORDERS, LARGE_ORDERS = 1_000, 1_000_000
STORE = dataset.STORE_CODE
API_BASE = f"/v1.0/seller/{STORE}/return-order/create"


@dataclass(frozen=True)
class Plan:
    name: str
    runs: int  # sequential requests per latency case
    warm_up: int
    generate_requests: int
    concurrency: int
    rounds: int  # generateRMA and its floor alternate this many times
    lookup_runs: int
    label_runs: int
    large: bool


FULL = Plan("full", 300, 20, 480, 4, 4, 300, 200, large=True)
QUICK = Plan("quick", 60, 8, 120, 4, 2, 80, 40, large=False)


@dataclass
class Results:
    plan: Plan
    api_key: str = ""
    phases: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    latency: dict[str, Samples] = field(default_factory=dict)
    query_sources: dict[str, list] = field(default_factory=dict)
    generate: dict[str, Samples] = field(default_factory=dict)
    lookup: dict[str, Samples] = field(default_factory=dict)
    lookup_plans: dict[str, str] = field(default_factory=dict)
    labels: dict[str, float] | None = None
    budgets: list[budgets.Budget] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)


@contextlib.contextmanager
def phase(results: Results, name: str):
    started = time.monotonic()
    print(f"[bench] {name} …", flush=True)
    try:
        yield
    finally:
        results.phases[name] = time.monotonic() - started


# ---- Database ------------------------------------------------------------------------


def admin(statement: sql.Composable) -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def drop_database(name: str) -> None:
    admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def prepare_databases(results: Results) -> dict[str, int]:
    """Migrate and load the 1,000-order database (and its 1,000,000-order clone);
    returns the number of plain orders in each, by database URL."""
    from django.core.management import call_command
    from django.db import connections

    plan = results.plan
    for name in (SMALL_DB, LARGE_DB):
        drop_database(name)
    admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SMALL_DB)))
    with phase(results, "migrate and collect static files"):
        call_command("migrate", verbosity=0, interactive=False)
        call_command("collectstatic", verbosity=0, interactive=False)
    with phase(results, f"load {SMALL_ORDERS:,} orders"):
        plain = {
            SMALL_URL: dataset.load_base(
                SMALL_URL,
                generate_orders=generate_orders_needed(plan),
                total_orders=SMALL_ORDERS,
            )
        }
        results.api_key = create_api_key()
        dataset.analyze(SMALL_URL)
    connections.close_all()
    if plan.large:
        with phase(results, f"load {LARGE_ORDERS:,} orders"):
            admin(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(LARGE_DB), sql.Identifier(SMALL_DB)
                )
            )
            plain[LARGE_URL] = dataset.grow(LARGE_URL, total_orders=LARGE_ORDERS)
            dataset.analyze(LARGE_URL)
    return plain


def generate_orders_needed(plan: Plan) -> int:
    return plan.generate_requests + plan.concurrency * 2


def create_api_key() -> str:
    from rma.apikeys import api_key_create
    from rma.models import Store

    _, raw_key = api_key_create(store=Store.objects.get(code=STORE), name="bench")
    return raw_key


def resolves(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


# ---- Requests ------------------------------------------------------------------------


def portal_path(order_id: str) -> str:
    return f"/order/{STORE}/{order_id}/"


def api_path(order_id: str, operation: str) -> str:
    return f"{API_BASE}/{order_id}/{operation}.json"


def floor_path(order_id: str, suffix: str) -> str:
    return f"/bench/floor/{STORE}/{order_id}{suffix}"


def lookup(client: Client, token: str, *, order_id: str, contact: str) -> Response:
    """POST the portal's lookup form, as a browser does after loading it."""
    form = {"csrfmiddlewaretoken": token, "order_number": order_id, "contact": contact}
    return client.request(
        "POST",
        "/",
        body=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def generate_body(order_id: str, transaction_id: str) -> str:
    return json.dumps(
        {
            "orderId": order_id,
            "store": STORE,
            "transactionId": transaction_id,
            "requestTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "sourceName": "bench",
            "returnType": "RETURN",
            "resolution": "REFUND",
            "items": [
                {
                    "lineNumber": 1,
                    "itemId": "SKU-1",
                    "returnQuantity": 1,
                    "returnReason": {"code": "TOO_SMALL", "category": "FIT", "description": ""},
                }
            ],
            "comments": "bench",
        }
    )


# ---- Measurements ----------------------------------------------------------------------


def getter(client: Client, path: str, headers: dict | None = None):
    return lambda: client.request("GET", path, headers=headers)


def per_line_cases(port: int, results: Results) -> dict:
    """Portal order page, checkEligibility and their floors at 1, 10 and 100 lines."""
    api_key = results.api_key
    api = Client("127.0.0.1", port)
    browser = Client("127.0.0.1", port)
    floor = Client("127.0.0.1", port)
    portal_ready = resolves(portal_path(dataset.per_line_order_id(1)))
    if not portal_ready:
        results.missing["portal"] = "the portal order page route does not resolve"
    else:
        token = browser.csrf_token("/")
    eligibility_ready = resolves(api_path(dataset.per_line_order_id(1), "checkEligibility"))
    if not eligibility_ready:
        results.missing["api"] = "the checkEligibility route does not resolve"
    cases = {}
    for lines in dataset.LINE_COUNTS:
        order_id = dataset.per_line_order_id(lines)
        if portal_ready:
            granted = lookup(browser, token, order_id=order_id, contact=dataset.lookup_email(1))
            location = granted.headers.get("location", "")
            if granted.status != 302 or location != portal_path(order_id):
                results.missing["portal"] = (
                    f"the lookup of {order_id} answered {granted.status} {location!r}"
                )
                portal_ready = False
            else:
                cases[f"portal/{lines}"] = (getter(browser, portal_path(order_id)), 200)
        cases[f"floor-html/{lines}"] = (getter(floor, floor_path(order_id, ".html")), 200)
        if eligibility_ready:
            path = api_path(order_id, "checkEligibility")
            cases[f"eligibility/{lines}"] = (getter(api, path, {"apikey": api_key}), 200)
        cases[f"floor-json/{lines}"] = (getter(floor, floor_path(order_id, ".json")), 200)
    # Drop the portal cases of line counts measured before a failed lookup: all or none.
    if not portal_ready:
        cases = {name: case for name, case in cases.items() if not name.startswith("portal/")}
    return cases


def measure_per_line(port: int, results: Results) -> None:
    plan = results.plan
    cases = per_line_cases(port, results)
    results.latency = interleaved(cases, runs=plan.runs, warm_up=plan.warm_up)
    for endpoint in ("portal", "eligibility"):
        series = [results.latency.get(f"{endpoint}/{n}") for n in dataset.LINE_COUNTS]
        if all(series) and len({samples.usual_queries for samples in series}) > 1:
            results.query_sources[endpoint] = diagnose.growing_queries(
                [in_process_request(endpoint, n, results.api_key) for n in (1, 100)]
            )


def in_process_request(endpoint: str, lines: int, api_key: str) -> tuple:
    """(prepare, send) for diagnose.growing_queries: the endpoint for the order of `lines`."""
    order_id = dataset.per_line_order_id(lines)
    if endpoint == "portal":
        contact = dataset.lookup_email(1)
        return (
            lambda client: client.post("/", {"order_number": order_id, "contact": contact}),
            lambda client: client.get(portal_path(order_id)),
        )
    return (
        lambda client: None,
        lambda client: client.get(
            api_path(order_id, "checkEligibility"), headers={"apikey": api_key}
        ),
    )


def measure_generate(port: int, results: Results) -> None:
    """generateRMA from concurrent clients, one fresh order each, against the write floor."""
    plan = results.plan
    if not resolves(api_path(dataset.generate_order_id(1), "generateRMA")):
        results.missing["generate"] = "the generateRMA route does not resolve"
    api_key = results.api_key
    run = uuid.uuid4().hex[:8]

    def generate(client: Client, index: int) -> Response:
        order_id = dataset.generate_order_id(index)
        return client.request(
            "POST",
            api_path(order_id, "generateRMA"),
            body=generate_body(order_id, f"bench-{run}-{index}"),
            headers={"apikey": api_key, "Content-Type": "application/json"},
        )

    def floor_write(client: Client, index: int) -> Response:
        return client.request("POST", floor_path(dataset.lookup_order_id(index), "/write.json"))

    def new_client() -> Client:
        return Client("127.0.0.1", port)

    cases = {"floor-write": floor_write}
    if "generate" not in results.missing:
        cases["generate"] = generate
    # Warm-up on orders of their own (past the measured ones), then alternate the cases.
    warm = list(range(plan.generate_requests + 1, generate_orders_needed(plan) + 1))
    batch = plan.generate_requests // plan.rounds
    totals = {name: Samples(201) for name in cases}
    for send in cases.values():
        concurrent(
            send,
            clients=new_client,
            indexes=warm,
            concurrency=plan.concurrency,
            expected_status=201,
        )
    for round_number in range(plan.rounds):
        indexes = list(range(round_number * batch + 1, (round_number + 1) * batch + 1))
        for name, send in cases.items():
            samples = concurrent(
                send,
                clients=new_client,
                indexes=indexes,
                concurrency=plan.concurrency,
                expected_status=201,
            )
            merged = totals[name]
            merged.seconds += samples.seconds
            merged.queries += samples.queries
            merged.wall_seconds += samples.wall_seconds
            for status, count in samples.statuses.items():
                merged.statuses[status] = merged.statuses.get(status, 0) + count
    results.generate = totals


def measure_lookup(ports: dict[str, int], plain: dict[str, int], results: Results) -> None:
    """The portal's lookup form (GET for the CSRF token once, then timed POSTs) on each
    dataset, interleaved; every lookup is a different, random, matching order."""
    if not resolves("/"):
        results.missing["lookup"] = "the portal lookup route does not resolve"
        return
    rng = random.Random(20261122)
    cases = {}
    for label, url in (("1,000", SMALL_URL), ("1,000,000", LARGE_URL)):
        if url not in ports:
            continue
        client = Client("127.0.0.1", ports[url])
        token = client.csrf_token("/")

        def send(client=client, token=token, count=plain[url]) -> Response:
            index = rng.randint(1, count)
            # Typed in lower case: the portal's match ignores letter case.
            return lookup(
                client,
                token,
                order_id=dataset.lookup_order_id(index).lower(),
                contact=dataset.lookup_email(index),
            )

        cases[label] = (send, 302)
        results.lookup_plans[label] = diagnose.lookup_plan(
            url, dataset.lookup_order_id(plain[url]).lower()
        )
    results.lookup = interleaved(cases, runs=results.plan.lookup_runs, warm_up=results.plan.warm_up)


def measure_labels(results: Results) -> None:
    results.labels = diagnose.label_timings(results.plan.label_runs)
    if results.labels is None:
        results.missing["labels"] = "bench/label_render.py is not there"


def measure_budgets(plain: dict[str, int], results: Results) -> None:
    """The time limits the tests leave to the bench (budgets.py). The broker-down budget
    requests returns of the last plain orders of the 1,000-order database."""
    last = plain[SMALL_URL]
    order_ids = [dataset.lookup_order_id(last - n) for n in range(budgets.RUNS)]
    results.budgets = [budgets.label_timeout(), budgets.broker_down(order_ids, store_code=STORE)]


def environment(broker: str | None) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "CELERY_BROKER_URL": broker or "memory://",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1,000,000-order dataset")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    options = parser.parse_args(argv)
    results = Results(QUICK if options.quick else FULL)
    server.DATA.mkdir(parents=True, exist_ok=True)
    django.setup()
    started = time.monotonic()
    results.facts.update(report.machine_facts(SMALL_URL))
    try:
        plain = prepare_databases(results)
        ready = floor_path(dataset.per_line_order_id(1), ".json")
        with server.redis_broker() as broker:
            results.facts["broker"] = "Redis (private instance)" if broker else "memory://"
            env = {**environment(broker), "DATABASE_URL": SMALL_URL}
            with server.gunicorn(name="1k", environment=env, ready_path=ready) as port:
                with phase(results, "per-line latency"):
                    measure_per_line(port, results)
                with phase(results, "generateRMA throughput"):
                    measure_generate(port, results)
                with phase(results, "lookup latency"), contextlib.ExitStack() as stack:
                    ports = {SMALL_URL: port}
                    if results.plan.large:
                        large_env = {**env, "DATABASE_URL": LARGE_URL}
                        ports[LARGE_URL] = stack.enter_context(
                            server.gunicorn(name="1m", environment=large_env, ready_path=ready)
                        )
                    measure_lookup(ports, plain, results)
        with phase(results, "label render"):
            measure_labels(results)
        with phase(results, "time budgets"):
            measure_budgets(plain, results)
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep:
            for name in (SMALL_DB, LARGE_DB):
                drop_database(name)
    results.facts["duration"] = f"{time.monotonic() - started:.0f} s"
    results.facts["load"] += " at start, {:.2f} {:.2f} {:.2f} at the end".format(*os.getloadavg())
    results.facts["load_averages"] += os.getloadavg()
    path = ROOT / "bench" / "results.md"
    path.write_text(report.render(results))
    print(f"[bench] wrote {path.relative_to(ROOT)} in {results.facts['duration']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
