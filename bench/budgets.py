"""Time budgets: limits worth keeping that a test must not assert.

The tests assert what these paths do (the label service's timeout ends the wait with a
transient error; a refused publish leaves the request committed and the work in its
outbox row). How long they take depends on the machine, so it is measured here and
reported in results.md; a missed budget is reported, it never fails the run.

- Label service timeout: `HttpLabelService` with a 0.2 s timeout, against a local
  service that takes the request and never answers, gives up within 0.9 s.
- Request while the broker is down: `rma_request` on the bench database, with Celery
  publishing to a port where nothing listens, returns within 3 s (the publish retry
  policy, `CELERY_TASK_PUBLISH_RETRY_POLICY`, bounds the wait).

Each budget is run a few times and judged on the slowest run.
Run alone: .venv/bin/python bench/budgets.py (the label budget: it needs no database).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RUNS = 5
LABEL_TIMEOUT, LABEL_BUDGET = 0.2, 0.9
BROKER_DOWN_BUDGET = 3.0
UNREACHABLE_BROKER_URL = "redis://127.0.0.1:1/0"


@dataclass
class Budget:
    name: str
    limit: float  # seconds, for the slowest run
    runs: list[float]
    problem: str = ""  # why it was not measured (or measured something else)

    @property
    def slowest(self) -> float | None:
        return max(self.runs) if self.runs else None


def _timed(name: str, limit: float, runs: int, once: Callable[[int], None]) -> Budget:
    budget = Budget(name, limit, [])
    for index in range(runs):
        started = time.perf_counter()
        try:
            once(index)
        except Exception as error:  # reported, never raised: the bench must finish
            budget.problem = f"{type(error).__name__}: {error}"
            return budget
        budget.runs.append(time.perf_counter() - started)
    return budget


@contextlib.contextmanager
def _silent_service():
    """A TCP service on 127.0.0.1 that reads requests and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    held = []

    def serve():
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                connection, _ = listener.accept()
                held.append(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/labels"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def label_timeout(runs: int = RUNS) -> Budget:
    from django.test import override_settings

    from labels.adapters import TransientLabelError
    from labels.adapters.http import HttpLabelService
    from tests.labels.samples import label_request

    request = label_request()
    name = f"Label service silent: gives up with a {LABEL_TIMEOUT} s timeout within"

    # The service is on loopback, which outbound calls refuse unless allowed.
    with _silent_service() as url, override_settings(ALLOW_PRIVATE_OUTBOUND=True):
        service = HttpLabelService(url=url, api_key="bench", timeout=LABEL_TIMEOUT)

        def once(index: int) -> None:
            try:
                service.issue(request)
            except TransientLabelError:
                return
            raise AssertionError("the silent service's call did not fail as transient")

        return _timed(name, LABEL_BUDGET, runs, once)


@contextlib.contextmanager
def _publishing_to(url: str):
    """The project's Celery app publishes to `url` (fresh connection pools), then back."""
    from returns_portal.celery import app

    def publish_to(target: str | None) -> None:
        app.conf.broker_write_url = target
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.get("broker_write_url")
    publish_to(url)
    try:
        yield
    finally:
        publish_to(previous)


def broker_down(order_ids: list[str], *, store_code: str) -> Budget:
    """`rma_request` for each of `order_ids` (one-line orders without an RMA yet)."""
    from rma.models import Order
    from rma.services.actors import Actor
    from rma.services.rma_request import RequestedLine, rma_request

    name = "Return requested while the broker is down: returns within"
    orders = list(
        Order.objects.select_related("store").filter(store__code=store_code, order_id__in=order_ids)
    )
    if len(orders) != len(order_ids):
        return Budget(name, BROKER_DOWN_BUDGET, [], f"orders {order_ids} are not all there")

    def once(index: int) -> None:
        rma_request(
            order=orders[index],
            lines=[RequestedLine(line_number=1, quantity=1, reason_code="TOO_SMALL")],
            resolution="REFUND",
            actor=Actor.system("bench budget"),
            channel="API",
        )

    with _publishing_to(UNREACHABLE_BROKER_URL):
        return _timed(name, BROKER_DOWN_BUDGET, len(orders), once)


def verdict(budget: Budget) -> str:
    if budget.problem:
        return f"not measured: {budget.problem}"
    return "met" if budget.slowest <= budget.limit else "**MISSED**"


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "returns_portal.settings.test")
    import django

    django.setup()
    budget = label_timeout()
    slowest = "-" if budget.slowest is None else f"{budget.slowest:.2f} s"
    print(f"{budget.name} {budget.limit} s: slowest {slowest} ({verdict(budget)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
