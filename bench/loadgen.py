"""A small HTTP load generator: http.client, one connection per simulated client, threads.

Why not wrk or hey: the bench needs per-request state (a CSRF token and session cookie
from the portal, a fresh order and transactionId for every generateRMA, interleaving of
the real endpoint with its floor) that a native tool would need Lua scripting for, and
the rates here are low: gunicorn's 2 sync workers serve at most a few hundred requests
per second, while this client spends well under 0.1 ms of its own per request (see the
floor figures, which include it). Latency runs use one client, so the client never
competes with the server for the two cores while a request is in flight.
"""

from __future__ import annotations

import http.client
import math
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

QUERY_HEADER = "x-bench-queries"
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def queries(self) -> int | None:
        value = self.headers.get(QUERY_HEADER)
        return int(value) if value is not None else None


class Client:
    """One browser or API client: one connection (re-opened when the server closes it,
    which gunicorn's sync workers do after every response) and a cookie jar.

    Requests arrive as from a TLS-terminating proxy in front of production
    (`X-Forwarded-Proto: https`, which the production settings trust), and a POST carries
    its page's `Origin`, as a browser's does: production's CSRF check wants one over HTTPS.
    """

    def __init__(self, host: str, port: int, *, headers: dict[str, str] | None = None):
        self.connection = http.client.HTTPConnection(host, port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.origin = f"https://{host}:{port}"
        self.headers = {"X-Forwarded-Proto": "https", **(headers or {})}

    def request(self, method: str, path: str, *, body=None, headers=None) -> Response:
        headers = {**self.headers, **(headers or {})}
        if method == "POST":
            headers.setdefault("Origin", self.origin)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        seconds = time.perf_counter() - started
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        received = {name.lower(): value for name, value in response.getheaders()}
        return Response(response.status, received, data, seconds)

    def csrf_token(self, path: str = "/") -> str:
        """GET a form page: the CSRF cookie lands in the jar, the form's token is returned."""
        page = self.request("GET", path)
        match = CSRF_FIELD.search(page.body)
        if page.status != 200 or match is None:
            raise RuntimeError(f"GET {path}: {page.status}, no CSRF token in the form")
        return match[1].decode()


@dataclass
class Samples:
    """Timings of one case, with the statuses and query counts the responses reported."""

    expected_status: int
    seconds: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    queries: Counter = field(default_factory=Counter)
    wall_seconds: float = 0.0

    def add(self, response: Response) -> None:
        self.seconds.append(response.seconds)
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        if response.queries is not None:
            self.queries[response.queries] += 1

    @property
    def usual_queries(self) -> int | None:
        """The query count most responses reported."""
        return self.queries.most_common(1)[0][0] if self.queries else None

    @property
    def count(self) -> int:
        return len(self.seconds)

    @property
    def ok(self) -> int:
        return self.statuses.get(self.expected_status, 0)

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        ordered = sorted(self.seconds)
        rank = max(1, math.ceil(fraction * len(ordered)))
        return ordered[rank - 1] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p95(self) -> float:
        return self.percentile(0.95)

    @property
    def throughput(self) -> float:
        return self.count / self.wall_seconds if self.wall_seconds else 0.0


def interleaved(
    cases: dict[str, tuple[Callable[[], Response], int]], *, runs: int, warm_up: int
) -> dict[str, Samples]:
    """Time each case `runs` times, one request of each in turn, after `warm_up` rounds.

    Interleaving keeps a busy machine (or a slow minute) from favouring one case: every
    case sees the same conditions. `cases` maps a name to (request, expected status).
    """
    samples = {name: Samples(expected) for name, (_, expected) in cases.items()}
    for _ in range(warm_up):
        for send, _ in cases.values():
            send()
    for _ in range(runs):
        for name, (send, _) in cases.items():
            samples[name].add(send())
    return samples


def concurrent(
    send: Callable[[Client, int], Response],
    *,
    clients: Callable[[], Client],
    indexes: list[int],
    concurrency: int,
    expected_status: int,
) -> Samples:
    """Send one request per index from `concurrency` clients at once (closed loop)."""
    samples = Samples(expected_status)
    pending = iter(indexes)
    lock = threading.Lock()

    def worker(client: Client) -> None:
        while True:
            with lock:
                index = next(pending, None)
            if index is None:
                return
            response = send(client, index)
            with lock:
                samples.add(response)

    threads = [threading.Thread(target=worker, args=(clients(),)) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    samples.wall_seconds = time.perf_counter() - started
    return samples
