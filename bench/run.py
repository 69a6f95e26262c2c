"""`make bench`: the shipped production settings under gunicorn on PostgreSQL, against a
bare floor; write bench/results.md.

Usage: .venv/bin/python bench/run.py [--quick] [--keep] [--no-load-test]

  --quick         fewer requests, no 1,000,000-order dataset, a short load test
  --keep          keep the bench databases afterwards (they are dropped by default)
  --no-load-test  skip the Locust load test (bench/loadtest.py)

Steps: (re)create the bench database, migrate it, load the data in bulk (dataset.py),
clone it and grow the clone to 1,000,000 orders, ANALYZE both, start gunicorn for the
app (production settings), the bare floor (bench/bare) and the in-project floor
(server.py), drive them interleaved (loadgen.py), compare database connection set-ups,
time the labels (label_render.py), run the load test (loadtest.py), write results.md
(report.py). See README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
SMALL_DB, LARGE_DB = "returns_bench", "returns_bench_1m"
SMALL_URL, LARGE_URL = f"{POSTGRES}/{SMALL_DB}", f"{POSTGRES}/{LARGE_DB}"
# Whatever the caller's environment says, the bench runs on its own database, with the
# production settings configured as docs/operations.md says (a fresh random key).
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": SMALL_URL,
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "LOG_LEVEL": "WARNING",
    "MEDIA_ROOT": str(ROOT / "bench" / ".data" / "media"),
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "PYTHONDONTWRITEBYTECODE": "1",
}
for _name in ("CACHE_URL", "CELERY_BROKER_URL", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
    os.environ.pop(_name, None)
os.environ.update(BENCH_ENV)

import django  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from bench import (  # noqa: E402
    breakdown,
    budgets,
    dataset,
    diagnose,
    first_label,
    loadtest,
    report,
    server,
)
from bench.loadgen import Client, Response, Samples, interleaved  # noqa: E402

SMALL_ORDERS, LARGE_ORDERS = 1_000, 1_000_000
STORE = dataset.STORE_CODE
API_BASE = f"/v1.0/seller/{STORE}/return-order/create"


@dataclass(frozen=True)
class Plan:
    name: str
    runs: int  # sequential requests per latency case
    warm_up: int
    generate_requests: int  # generateRMA requests (one fresh order each), after warm_up
    lookup_runs: int
    connection_runs: int
    profile_runs: int
    label_runs: int
    large: bool
    load_test: loadtest.Plan


FULL = Plan("full", 300, 20, 300, 300, 200, 100, 200, large=True, load_test=loadtest.FULL)
QUICK = Plan("quick", 60, 8, 60, 80, 40, 20, 40, large=False, load_test=loadtest.QUICK)
PROFILE_WARM_UP = 10


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
    connections: dict[str, Samples] = field(default_factory=dict)
    layers: dict[str, dict] = field(default_factory=dict)
    load_test: loadtest.Result | None = None
    labels: dict[str, float] | None = None
    first_label: dict[str, tuple[float, float]] = field(default_factory=dict)
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
    with phase(results, "migrate (and collect static files if changed)"):
        call_command("migrate", verbosity=0, interactive=False)
        if static_files_stale():
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


def static_files_stale() -> bool:
    """Whether bench/.data/static must be collected again: no manifest yet, or a file of
    the project's own static directories is newer (the packages' files do not change
    without a new install, which touches the venv's marker). Collecting compresses every
    file (about 40 s here), so an unchanged tree is not collected twice."""
    from django.conf import settings

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return True
    collected = manifest.stat().st_mtime
    sources = [ROOT / "static", ROOT / ".venv" / ".installed"]
    sources += [path for path in ROOT.glob("*/static") if path.is_dir()]
    for source in sources:
        paths = [source] if source.is_file() else source.rglob("*")
        if any(path.stat().st_mtime > collected for path in paths if path.exists()):
            return True
    return False


def generate_orders_needed(plan: Plan) -> int:
    """Latency runs (warm-up included), then the in-process breakdown's own orders."""
    return plan.generate_requests + plan.warm_up + PROFILE_WARM_UP + 2 * plan.profile_runs


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
    """The in-project floor (bench/floor.py, production middleware)."""
    return f"/bench/floor/{STORE}/{order_id}{suffix}"


def bare_path(order_id: str, suffix: str) -> str:
    """The bare floor (bench/bare: no middleware, one statement)."""
    return f"/floor/{STORE}/{order_id}{suffix}"


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


@dataclass(frozen=True)
class Ports:
    app: int  # production settings (+ the query-count middleware)
    bare: int  # bench/bare
    floor: int  # production settings + bench/floor.py


def getter(client: Client, path: str, headers: dict | None = None):
    return lambda: client.request("GET", path, headers=headers)


def per_line_cases(ports: Ports, results: Results) -> dict:
    """Portal order page, checkEligibility and their floors at 1, 10 and 100 lines."""
    api_key = results.api_key
    api = Client("127.0.0.1", ports.app)
    browser = Client("127.0.0.1", ports.app)
    bare = Client("127.0.0.1", ports.bare)
    floor = Client("127.0.0.1", ports.floor)
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
        cases[f"bare-html/{lines}"] = (getter(bare, bare_path(order_id, ".html")), 200)
        cases[f"floor-html/{lines}"] = (getter(floor, floor_path(order_id, ".html")), 200)
        if eligibility_ready:
            path = api_path(order_id, "checkEligibility")
            cases[f"eligibility/{lines}"] = (getter(api, path, {"apikey": api_key}), 200)
        cases[f"bare-json/{lines}"] = (getter(bare, bare_path(order_id, ".json")), 200)
        cases[f"floor-json/{lines}"] = (getter(floor, floor_path(order_id, ".json")), 200)
    # Drop the portal cases of line counts measured before a failed lookup: all or none.
    if not portal_ready:
        cases = {name: case for name, case in cases.items() if not name.startswith("portal/")}
    return cases


def measure_per_line(ports: Ports, results: Results) -> None:
    plan = results.plan
    cases = per_line_cases(ports, results)
    results.latency = interleaved(cases, runs=plan.runs, warm_up=plan.warm_up)
    for endpoint in ("portal", "eligibility"):
        series = [results.latency.get(f"{endpoint}/{n}") for n in dataset.LINE_COUNTS]
        if all(series) and len({samples.usual_queries for samples in series}) > 1:
            results.query_sources[endpoint] = diagnose.growing_queries(
                [in_process_request(endpoint, n, results.api_key) for n in (1, 100)]
            )


def in_process_request(endpoint: str, lines: int, api_key: str) -> tuple:
    """(prepare, send) for diagnose.growing_queries: the endpoint for the order of `lines`.
    `secure=True`: as through the TLS proxy (production redirects plain HTTP)."""
    order_id = dataset.per_line_order_id(lines)
    if endpoint == "portal":
        contact = dataset.lookup_email(1)
        return (
            lambda client: client.post(
                "/", {"order_number": order_id, "contact": contact}, secure=True
            ),
            lambda client: client.get(portal_path(order_id), secure=True),
        )
    return (
        lambda client: None,
        lambda client: client.get(
            api_path(order_id, "checkEligibility"), headers={"apikey": api_key}, secure=True
        ),
    )


def measure_generate(ports: Ports, results: Results) -> None:
    """generateRMA (one fresh one-line order each, its own transactionId) from one client,
    interleaved with the bare write floor and the in-project write floor."""
    plan = results.plan
    if not resolves(api_path(dataset.generate_order_id(1), "generateRMA")):
        results.missing["generate"] = "the generateRMA route does not resolve"
        return
    api_key = results.api_key
    run = uuid.uuid4().hex[:8]
    api = Client("127.0.0.1", ports.app)
    bare = Client("127.0.0.1", ports.bare)
    floor = Client("127.0.0.1", ports.floor)
    counters = {"generate": 0, "bare": 0, "floor": 0}

    def following(name: str) -> int:
        counters[name] += 1
        return counters[name]

    def generate() -> Response:
        index = following("generate")
        order_id = dataset.generate_order_id(index)
        return api.request(
            "POST",
            api_path(order_id, "generateRMA"),
            body=generate_body(order_id, f"bench-{run}-{index}"),
            headers={"apikey": api_key, "Content-Type": "application/json"},
        )

    def bare_write() -> Response:
        order_id = dataset.lookup_order_id(following("bare"))
        return bare.request("POST", bare_path(order_id, "/write.json"))

    def floor_write() -> Response:
        order_id = dataset.lookup_order_id(following("floor"))
        return floor.request("POST", floor_path(order_id, "/write.json"))

    cases = {
        "generate": (generate, 201),
        "bare-write": (bare_write, 201),
        "floor-write": (floor_write, 201),
    }
    results.generate = interleaved(cases, runs=plan.generate_requests, warm_up=plan.warm_up)


def measure_lookup(
    ports: dict[str, int], plain: dict[str, int], results: Results, *, bare: int
) -> None:
    """The portal's lookup form (GET for the CSRF token once, then timed POSTs) on each
    dataset, and the bare floor's lookup on the 1,000 orders, interleaved; every lookup
    is a different, random, matching order."""
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
    floor = Client("127.0.0.1", bare)

    def bare_lookup() -> Response:
        index = rng.randint(1, plain[SMALL_URL])
        form = {
            "order_number": dataset.lookup_order_id(index).lower(),
            "contact": dataset.lookup_email(index),
        }
        return floor.request(
            "POST",
            "/floor/lookup",
            body=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    cases["bare floor, 1,000"] = (bare_lookup, 302)
    results.lookup = interleaved(cases, runs=results.plan.lookup_runs, warm_up=results.plan.warm_up)


@contextlib.contextmanager
def publishing_to(broker: str):
    """The harness's own Celery app publishes to `broker` instead of running tasks eagerly
    (the harness process started without a broker), as the web processes do."""
    from returns_portal.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager, app.conf.broker_url = False, broker
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        app._pool = None
        app.amqp._producer_pool = None


def measure_layers(results: Results, broker: str) -> None:
    """In-process, by layer (breakdown.py): checkEligibility and the portal order page at
    100 lines, generateRMA on orders of its own (its tasks published to `broker`)."""
    from django.test import Client as TestClient

    plan = results.plan
    order_id = dataset.per_line_order_id(100)
    api = TestClient()
    eligibility = api_path(order_id, "checkEligibility")
    cases = {
        "checkEligibility, 100 lines": lambda: api.get(
            eligibility, headers={"apikey": results.api_key}, secure=True
        ),
    }
    browser = TestClient()
    found = browser.post(
        "/", {"order_number": order_id, "contact": dataset.lookup_email(1)}, secure=True
    )
    if found.status_code == 302:
        cases["Portal order page, 100 lines"] = lambda: browser.get(
            portal_path(order_id), secure=True
        )
    first = plan.generate_requests + plan.warm_up + 1
    indexes = iter(range(first, generate_orders_needed(plan) + 1))
    run = uuid.uuid4().hex[:8]

    def generate():
        index = next(indexes)
        order = dataset.generate_order_id(index)
        return api.post(
            api_path(order, "generateRMA"),
            generate_body(order, f"layers-{run}-{index}"),
            content_type="application/json",
            headers={"apikey": results.api_key},
            secure=True,
        )

    if "generate" not in results.missing:
        cases["generateRMA, 1 line"] = generate
    with publishing_to(broker):
        for name, send in cases.items():
            results.layers[name] = breakdown.breakdown(
                send, runs=plan.profile_runs, warm_up=PROFILE_WARM_UP
            )


# Database connection set-ups compared on checkEligibility (1 line), by environment.
CONNECTION_SETUPS = {
    "new connection per request (CONN_MAX_AGE=0)": {"CONN_MAX_AGE": "0"},
    "persistent, health-checked (shipped: CONN_MAX_AGE=60)": {},
    "persistent, no health check": {"CONN_HEALTH_CHECKS": "false"},
    "psycopg pool (min 1, max 2 per process)": {"DJANGO_SETTINGS_MODULE": "bench.settings_pool"},
}


def measure_connections(env: dict[str, str], ready: str, results: Results) -> None:
    """checkEligibility at 1 line (where fixed costs weigh most) on one gunicorn per
    connection set-up, interleaved with the bare floor."""
    order_id = dataset.per_line_order_id(1)
    path = api_path(order_id, "checkEligibility")
    headers = {"apikey": results.api_key}
    with contextlib.ExitStack() as stack:
        cases = {}
        for index, (label, extra) in enumerate(CONNECTION_SETUPS.items()):
            port = stack.enter_context(
                server.gunicorn(
                    name=f"connections-{index}",
                    environment={**env, **extra},
                    ready_path=ready,
                    ready_headers={**headers, "X-Forwarded-Proto": "https"},
                )
            )
            cases[label] = (getter(Client("127.0.0.1", port), path, headers), 200)
        bare = stack.enter_context(bare_floor(SMALL_URL))
        cases["bare floor"] = (getter(Client("127.0.0.1", bare), bare_path(order_id, ".json")), 200)
        plan = results.plan
        results.connections = interleaved(cases, runs=plan.connection_runs, warm_up=plan.warm_up)


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


def services_environment(redis: str | None) -> dict[str, str]:
    """Broker and cache of the processes under test: the private Redis (db 0 for Celery,
    db 1 for the cache, as in docker-compose.yml), or in-memory without redis-server."""
    if redis is None:
        return {"CELERY_BROKER_URL": "memory://localhost/", "CACHE_URL": "locmemcache://bench"}
    base = redis.rsplit("/", 1)[0]
    return {"CELERY_BROKER_URL": f"{base}/0", "CACHE_URL": f"{base}/1"}


def bare_environment(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {
        "BARE_DATABASE_NAME": parts.path.lstrip("/"),
        "BARE_DATABASE_USER": parts.username or "postgres",
        "BARE_DATABASE_PASSWORD": parts.password or "",
        "BARE_DATABASE_HOST": parts.hostname or "127.0.0.1",
        "BARE_DATABASE_PORT": str(parts.port or 5432),
    }


def bare_floor(url: str):
    return server.gunicorn(
        name="bare",
        app="bench.bare.wsgi:application",
        environment=bare_environment(url),
        ready_path=bare_path(dataset.per_line_order_id(1), ".json"),
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run, no 1,000,000 orders")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument("--no-load-test", action="store_true", help="skip the Locust load test")
    options = parser.parse_args(argv)
    results = Results(QUICK if options.quick else FULL)
    server.DATA.mkdir(parents=True, exist_ok=True)
    django.setup()
    started = time.monotonic()
    results.facts.update(report.machine_facts(SMALL_URL))
    https = {"X-Forwarded-Proto": "https"}
    try:
        plain = prepare_databases(results)
        ready = api_path(dataset.per_line_order_id(1), "checkEligibility")
        floor_ready = floor_path(dataset.per_line_order_id(1), ".json")
        with server.redis_broker() as redis:
            results.facts["broker"] = "Redis (private instance)" if redis else "memory://"
            env = {**BENCH_ENV, **services_environment(redis), "DATABASE_URL": SMALL_URL}
            ready_headers = {**https, "apikey": results.api_key}
            with contextlib.ExitStack() as stack:
                ports = Ports(
                    app=stack.enter_context(
                        server.gunicorn(
                            name="app",
                            environment=env,
                            ready_path=ready,
                            ready_headers=ready_headers,
                        )
                    ),
                    bare=stack.enter_context(bare_floor(SMALL_URL)),
                    floor=stack.enter_context(
                        server.gunicorn(
                            name="floor",
                            environment={**env, "DJANGO_SETTINGS_MODULE": "bench.settings_floor"},
                            ready_path=floor_ready,
                            ready_headers=https,
                        )
                    ),
                )
                with phase(results, "per-line latency"):
                    measure_per_line(ports, results)
                with phase(results, "generateRMA latency"):
                    measure_generate(ports, results)
                with phase(results, "lookup latency"):
                    lookup_ports = {SMALL_URL: ports.app}
                    if results.plan.large:
                        large_env = {**env, "DATABASE_URL": LARGE_URL}
                        lookup_ports[LARGE_URL] = stack.enter_context(
                            server.gunicorn(
                                name="1m",
                                environment=large_env,
                                ready_path=ready,
                                ready_headers=ready_headers,
                            )
                        )
                    measure_lookup(lookup_ports, plain, results, bare=ports.bare)
            with phase(results, "where the time goes (in-process)"):
                measure_layers(results, env["CELERY_BROKER_URL"])
            with phase(results, "database connections"):
                measure_connections(env, ready, results)
            with phase(results, "label render"):
                measure_labels(results)
            with phase(results, "first label of a process"):
                results.first_label = first_label.measure()
            with phase(results, "time budgets"):
                measure_budgets(plain, results)
            # Last: it leaves PostgreSQL with writes to catch up on and a Celery backlog.
            if not options.no_load_test:
                with phase(results, "load test"):
                    results.load_test = loadtest.run(
                        results.plan.load_test,
                        environment=env,
                        api_key=results.api_key,
                        database_url=SMALL_URL,
                    )
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
    previous = path.read_text() if path.exists() else ""
    path.write_text(report.render(results, previous))
    if results.load_test is not None:
        loadtest.write_plot(results.load_test, ROOT / "bench" / "loadtest.svg")
    print(f"[bench] wrote {path.relative_to(ROOT)} in {results.facts['duration']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
