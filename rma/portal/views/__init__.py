"""Portal views; `rate_limited` is also django-ratelimit's `RATELIMIT_VIEW`."""

from .lookup import choose, lookup, rate_limited
from .order import confirmation, estimate, order_detail
from .status import status, status_cancel

__all__ = [
    "choose",
    "confirmation",
    "estimate",
    "lookup",
    "order_detail",
    "rate_limited",
    "status",
    "status_cancel",
]
