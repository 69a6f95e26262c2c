"""Outbound HTTP that cannot be pointed at our own network (SSRF defence).

Every call this application makes to a URL that someone else chose (webhook endpoints,
the http label service and the label URL it answers with, carriers, payment providers)
goes through this module. It refuses loopback, private, link-local, carrier-grade NAT,
multicast and cloud metadata addresses (169.254.169.254, fd00:ec2::254, ...):

- The host name is resolved when the request is sent, the resolved address is checked,
  and the connection is made to that very address (the `Host` header and the TLS
  certificate check keep the name). A name that resolves to a public address when a URL
  is saved and to 127.0.0.1 later (DNS rebinding) is refused at send time.
- A refused address raises `AddressNotAllowed` before any connection is attempted, so
  an open and a closed private port look exactly the same to the caller.
- Redirects are never followed (a caller that wants one must check and send again).

`ALLOW_PRIVATE_OUTBOUND=1` turns the address check off, for local development and the
test suite, whose fake providers listen on 127.0.0.1. The setting is read for every
session, so tests can switch it.

The check is done by requests-hardened (see docs/decisions.md); this module is the one
place that configures it. Use:

    from returns_portal import outbound

    response = outbound.request("POST", url, json=payload, timeout=(5, 10))

    with outbound.session() as http:      # several calls on one connection pool
        http.get(url, timeout=10)

    except outbound.AddressNotAllowed:    # before requests.RequestException
        ...
    record(outbound.error_summary(exc))   # safe to store and show to staff
"""

from __future__ import annotations

import ipaddress

import requests
from django.conf import settings
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES, InvalidIPAddress

__all__ = [
    "NOT_ALLOWED_MESSAGE",
    "AddressNotAllowed",
    "address_allowed",
    "error_summary",
    "request",
    "session",
]

# requests-hardened's refusal; a `requests.RequestException` (and so an `OSError`), raised
# before connecting. Its text is the refused address: never store or show it, see
# `error_summary`.
AddressNotAllowed = InvalidIPAddress

# The one message for every refused address: it says nothing about the address, the port
# or whether anything listens there.
NOT_ALLOWED_MESSAGE = "Address not allowed: outbound calls may only reach public addresses."

# Used when a caller passes no timeout: (connect, read) seconds. Every caller should pass
# its own.
DEFAULT_TIMEOUT = (5.0, 30.0)


def private_outbound_allowed() -> bool:
    return bool(getattr(settings, "ALLOW_PRIVATE_OUTBOUND", False))


def session() -> requests.Session:
    """A `requests.Session` whose requests only reach public addresses; never redirects.

    Use it as a context manager. Unless `ALLOW_PRIVATE_OUTBOUND` is on, each request
    resolves its host, refuses a non-public address with `AddressNotAllowed`, and
    connects to the checked address.
    """
    check = not private_outbound_allowed()
    return HTTPSession(
        Config(
            ip_filter_enable=check,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=DEFAULT_TIMEOUT,
        )
    )


def request(method: str, url: str, *, timeout, **kwargs) -> requests.Response:
    """One request through a fresh `session()`; the same arguments as `requests.request`.

    With `stream=True` the caller reads and closes the response itself.
    """
    with session() as http:
        return http.request(method, url, timeout=timeout, **kwargs)


def address_allowed(address: str) -> bool:
    """Whether an IP address is one outbound calls may reach (ignores the setting).

    The same rule as the connection check: public unicast addresses only. An IPv6 form
    of an IPv4 address is judged as the IPv4 address.
    """
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or any(ip in network for network in EXTRA_BLOCKED_NET_RANGES)
    )


def error_summary(error: BaseException) -> str:
    """A short description of a failed call, safe to store (e.g. `last_error`) and show.

    A refused address gives `NOT_ALLOWED_MESSAGE` and nothing else.
    """
    if isinstance(error, AddressNotAllowed):
        return NOT_ALLOWED_MESSAGE
    return f"{type(error).__name__}: {error}"[:2000]
