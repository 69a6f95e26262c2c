"""The client's address, as far as we can trust it (rate limits, admin login lockout).

`TRUSTED_PROXY_COUNT` says how many proxies of ours stand in front of the application:

- 0 (the default): the socket address (`REMOTE_ADDR`). `X-Forwarded-For` is ignored,
  since anyone can send it.
- N: each of our proxies appends the address it received the request from to
  `X-Forwarded-For`, so the Nth address from the right was written by our outermost
  proxy and is the client's. Addresses further left were sent by the client and are
  ignored. With fewer addresses than N, the leftmost is used.

A value that is not an IP address falls back to the socket address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """The address rate limits count against."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if trusted <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if not forwarded:
        return remote
    candidate = forwarded[-min(trusted, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
