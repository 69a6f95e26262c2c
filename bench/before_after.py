"""Before and after, in one process: what this session's speedups moved.

Usage: .venv/bin/python bench/before_after.py [rounds]   (on `bench/run.py --keep`'s database;
Redis on 127.0.0.1:6379, db 13, for the session case)

Each case runs the current code and the code it replaced, request for request
(interleaved), through Django's test client with the production settings:

- **prepared statements** (`rma/prepared.py`): checkEligibility and the portal order page
  at 1 and 100 lines, against the querysets they replaced (`orders_for_eligibility()`
  `.filter(...).first()` with its prefetch, the API key's store query built each time);
- **sessions**: a portal session read with `cached_db` on Redis against the database
  engine (what every portal page does first).

Prints the medians. In-process: no gunicorn, no HTTP; the differences are what the
changes save per request.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The shared cache as production has it (Redis): the sessions case compares engines on it.
os.environ["CACHE_URL"] = "redis://127.0.0.1:6379/13"
_spec = importlib.util.spec_from_file_location("profile_request", ROOT / "bench/profile_request.py")
profile_request = importlib.util.module_from_spec(_spec)
sys.argv = sys.argv[:1] + sys.argv[2:] if len(sys.argv) > 2 else sys.argv[:1] + sys.argv[1:]
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
sys.argv = sys.argv[:1]
_spec.loader.exec_module(profile_request)

from django.http import Http404  # noqa: E402

import rma.api.operations as operations  # noqa: E402
import rma.api.views as api_views  # noqa: E402
import rma.portal.views.order as order_views  # noqa: E402
from rma import apikeys, selectors  # noqa: E402
from rma.portal import grants  # noqa: E402

CURRENT = {
    "store_and_key": api_views.CheckEligibilityView.store_and_key,
    "lines": operations.with_eligibility_lines,
    "grant": grants.granted_order_or_404,
}


def replaced_order_for_eligibility(*, store, order_id):
    return selectors.orders_for_eligibility().filter(store=store, order_id=order_id).first()


def replaced_store_and_key(view, *, store_code, raw_key):
    """The store and key, then the order with its lines prefetched: a query each."""
    store, api_key = apikeys.api_key_authenticate(store_code=store_code, raw_key=raw_key)
    order_id = view.kwargs["orderId"]
    view.order = store and replaced_order_for_eligibility(store=store, order_id=order_id)
    return store, api_key


def replaced_granted_order_or_404(request, *, store_code, order_id):
    order = (
        selectors.orders_for_eligibility()
        .filter(store__code=store_code, order_id=order_id, pk__in=grants.granted_order_ids(request))
        .first()
    )
    if order is None:
        raise Http404
    return order


def use_replaced(replaced: bool) -> None:
    api_views.CheckEligibilityView.store_and_key = (
        replaced_store_and_key if replaced else CURRENT["store_and_key"]
    )
    # The replaced order comes with its lines already.
    operations.with_eligibility_lines = (lambda order: order) if replaced else CURRENT["lines"]
    order_views.granted_order_or_404 = (
        replaced_granted_order_or_404 if replaced else CURRENT["grant"]
    )
    # None: "shaped by its values", so the store query is built every time, as before.
    apikeys._STORE_WITH_KEY._local.compiled = {"default": None} if replaced else {}


def session_loads(rounds: int) -> dict[str, list[float]]:
    """A portal session read by each engine (what a page does before anything else)."""
    from django.contrib.sessions.backends import cached_db, db

    stored = cached_db.SessionStore()
    stored.update({grants.ORDERS_KEY: [1, 2, 3], grants.LAST_LOOKUP_KEY: [3]})
    stored.save()
    engines = {
        "session read: cached_db on Redis": cached_db.SessionStore,
        "session read: database": db.SessionStore,
    }
    timings = {name: [] for name in engines}
    for round_number in range(rounds):
        for name, store in engines.items():
            started = time.perf_counter()
            store(stored.session_key).load()
            if round_number >= 20:
                timings[name].append(time.perf_counter() - started)
    return timings


def main() -> int:
    cases = {}
    for kind in ("eligibility", "portal"):
        for lines in (1, 100):
            send = profile_request.requests(kind, lines)
            cases[f"{kind}, {lines} line(s): prepared"] = (send, False)
            cases[f"{kind}, {lines} line(s): querysets as before"] = (send, True)
    timings = {name: [] for name in cases}
    for round_number in range(rounds):
        for name, (send, replaced) in cases.items():
            use_replaced(replaced)
            started = time.perf_counter()
            response = send()
            if round_number >= 20:
                timings[name].append(time.perf_counter() - started)
            assert response.status_code == 200, (name, response.status_code)
    use_replaced(False)
    timings |= session_loads(rounds * 3)
    for name, values in timings.items():
        print(f"{name:55s} {statistics.median(values) * 1000:7.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
