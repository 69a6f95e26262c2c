"""Where the time of a request goes, by layer: cProfile over in-process requests.

Run by `make bench` after the latency runs, in the harness's own process (the bench
settings, the bench database), through Django's test client with `secure=True` (as
behind the TLS proxy): the whole middleware stack, URL resolution, the view and the
response, without gunicorn. Every function's own time (cProfile's tottime) is added to
the layer its file belongs to. cProfile slows Python code more than waiting, so the
shares of Python layers are a little high; they show where to look, not exact costs.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import Counter
from collections.abc import Callable

# First match wins: (layer, fragments of the file path).
LAYERS = (
    ("PostgreSQL round trips (psycopg, waiting)", ("/psycopg/", "/psycopg_binary/")),
    ("ORM: building, compiling, model instances", ("/django/db/",)),
    ("Templates", ("/django/template/", "/django/templatetags/", "/templatetags/")),
    ("DRF", ("/rest_framework/",)),
    (
        "Sessions, auth, CSRF, messages, CSP, axes",
        (
            "/django/contrib/sessions/",
            "/django/contrib/auth/",
            "/django/contrib/messages/",
            "/django/middleware/csrf",
            "/csp/",
            "/axes/",
        ),
    ),
    ("Django request cycle, other middleware, URLs", ("/django/", "/whitenoise/")),
    (
        "Our code (rma, catalogue, policies, labels, returns_portal)",
        (
            "/rma/",
            "/catalogue/",
            "/policies/",
            "/labels/",
            "/returns_portal/",
        ),
    ),
    ("Test client and bench", ("/django/test/", "/bench/")),
)


def layer_of(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "Python built-ins (json, str, dict, …)"
    for layer, fragments in LAYERS:
        if any(fragment in filename for fragment in fragments):
            if layer.startswith("Django request") and "/django/test/" in filename:
                return "Test client and bench"
            return layer
    return "Other (stdlib, libraries)"


def breakdown(send: Callable[[], object], *, runs: int, warm_up: int = 20) -> dict:
    """{"ms": unprofiled median ms, "layers": {layer: share of profiled time}}."""
    for _ in range(warm_up):
        send()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        send()
        timings.append(time.perf_counter() - started)
    timings.sort()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        send()
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    layers: Counter = Counter()
    for (filename, _, _), (_, _, tottime, _, _) in stats.items():
        layers[layer_of(filename)] += tottime
    total = sum(layers.values()) or 1.0
    return {
        "ms": timings[len(timings) // 2] * 1000,
        "layers": {name: seconds / total for name, seconds in layers.most_common()},
    }
