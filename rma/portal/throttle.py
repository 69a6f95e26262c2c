"""Rate limits on failed order lookups, per order number and per client address.

Only failures count: the view asks `lookup_blocked` before looking up (which does not
count) and calls `lookup_failed` after a failed lookup. The counters live in the cache
(django-ratelimit); a cache that cannot be read blocks rather than lets through.
"""

from __future__ import annotations

import math
import re

from django.conf import settings
from django_ratelimit.core import get_usage

ORDER_GROUP = "portal.lookup.order-number"
ADDRESS_GROUP = "portal.lookup.client-address"


def _limits(order_number: str):
    number = order_number.strip().upper()
    return (
        (ORDER_GROUP, lambda group, request: number, settings.LOOKUP_RATE_LIMIT_PER_ORDER),
        (ADDRESS_GROUP, "ip", settings.LOOKUP_RATE_LIMIT_PER_ADDRESS),
    )


PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"^\d+/(\d*)([smhd])$")


def longest_wait_minutes() -> int:
    """The longest window of the two limits, in minutes: the most a blocked shopper waits."""
    seconds = []
    for rate in (settings.LOOKUP_RATE_LIMIT_PER_ORDER, settings.LOOKUP_RATE_LIMIT_PER_ADDRESS):
        if match := RATE.match(rate):
            seconds.append(int(match[1] or 1) * PERIOD_SECONDS[match[2]])
    return max(1, math.ceil(max(seconds, default=900) / 60))


def lookup_blocked(request, *, order_number: str) -> bool:
    """Whether earlier failures have used up the allowance of this number or this client."""
    for group, key, rate in _limits(order_number):
        usage = get_usage(request, group=group, key=key, rate=rate, increment=False)
        if usage is not None and usage["count"] >= usage["limit"]:
            return True
    return False


def lookup_failed(request, *, order_number: str) -> None:
    """Count one failed lookup against the number and the client address."""
    for group, key, rate in _limits(order_number):
        get_usage(request, group=group, key=key, rate=rate, increment=True)
