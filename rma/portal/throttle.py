"""Rate limits on failed order lookups, per order number and per client address.

Only failures count, and the count is atomic: the view calls `lookup_attempt` before
looking up, which takes one attempt from both allowances at once (cache `add` then
`incr`: each caller gets its own number, so a burst of simultaneous requests cannot
all pass a check made before any of them counted). An attempt past a limit is refused
and given back; a lookup that finds the order gives its attempt back too
(`Attempt.succeeded`). What stays counted are the failures.

The client address is `client_address` (`TRUSTED_PROXY_COUNT` behind proxies).

When the shared cache cannot be reached, lookups keep working: the counting moves to
a counter in this process's memory (logged, at most once a minute), so the limits still
hold per web process instead of failing every lookup or dropping the limits.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

from returns_portal.client_address import client_address

logger = logging.getLogger(__name__)

ORDER_GROUP = "portal.lookup.order-number"
ADDRESS_GROUP = "portal.lookup.client-address"

PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")

# Used while the shared cache is unreachable; per process.
_local_counters = LocMemCache("portal-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
_last_warning = 0.0
_warning_lock = threading.Lock()
WARNING_INTERVAL_SECONDS = 60


def parse_rate(rate: str) -> tuple[int, int]:
    """`"5/15m"` → (5, 900): attempts per window of seconds."""
    match = RATE.match(rate)
    if not match:
        raise ValueError(f"Invalid rate limit {rate!r}; use e.g. 5/15m")
    return int(match[1]), int(match[2] or 1) * PERIOD_SECONDS[match[3]]


def longest_wait_minutes() -> int:
    """The longest window of the two limits, in minutes: the most a blocked shopper waits."""
    seconds = []
    for rate in (settings.LOOKUP_RATE_LIMIT_PER_ORDER, settings.LOOKUP_RATE_LIMIT_PER_ADDRESS):
        if RATE.match(rate):
            seconds.append(parse_rate(rate)[1])
    return max(1, math.ceil(max(seconds, default=900) / 60))


@dataclass(frozen=True)
class Counter:
    key: str
    limit: int
    timeout: int


def _counters(request, order_number: str) -> list[Counter]:
    counters = []
    for group, value, rate in (
        (ORDER_GROUP, order_number.strip().upper(), settings.LOOKUP_RATE_LIMIT_PER_ORDER),
        (ADDRESS_GROUP, client_address(request), settings.LOOKUP_RATE_LIMIT_PER_ADDRESS),
    ):
        limit, period = parse_rate(rate)
        window = int(time.time()) // period
        digest = hashlib.sha256(value.encode()).hexdigest()[:32]
        counters.append(Counter(f"throttle:{group}:{period}:{window}:{digest}", limit, period + 60))
    return counters


def _warn_cache_down(error: Exception) -> None:
    global _last_warning
    with _warning_lock:
        now = time.monotonic()
        if now - _last_warning < WARNING_INTERVAL_SECONDS:
            return
        _last_warning = now
    logger.warning(
        "Lookup rate limits: the cache is unreachable (%s: %s); counting in this "
        "process's memory until it is back",
        type(error).__name__,
        error,
    )


def _add(backend, counter: Counter, delta: int) -> int:
    if delta > 0:
        backend.add(counter.key, 0, counter.timeout)
    try:
        return backend.incr(counter.key, delta)
    except ValueError:  # expired between add and incr, or nothing to give back
        if delta < 0:
            return 0
        backend.add(counter.key, 0, counter.timeout)
        return backend.incr(counter.key, delta)


def _change(counter: Counter, delta: int) -> int:
    try:
        return _add(cache, counter, delta)
    except Exception as error:  # any failure of the shared cache (connection, timeout)
        _warn_cache_down(error)
        return _add(_local_counters, counter, delta)


@dataclass(frozen=True)
class Attempt:
    """One counted lookup attempt; false when a limit refused it."""

    allowed: bool
    counters: tuple[Counter, ...]

    def __bool__(self) -> bool:
        return self.allowed

    def succeeded(self) -> None:
        """The lookup found the order: give the attempt back (only failures count)."""
        for counter in self.counters:
            _change(counter, -1)


def lookup_attempt(request, *, order_number: str) -> Attempt:
    """Take one attempt from the number's and the client's allowances, atomically.

    A refused attempt is not counted. Call `succeeded()` on an allowed attempt that
    found the order.
    """
    counters = _counters(request, order_number)
    counts = [_change(counter, 1) for counter in counters]
    if all(count <= counter.limit for count, counter in zip(counts, counters, strict=True)):
        return Attempt(True, tuple(counters))
    for counter in counters:
        _change(counter, -1)
    return Attempt(False, ())
