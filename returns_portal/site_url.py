"""The site's own address for absolute links when `SITE_URL` is not set (local runs)."""

from __future__ import annotations

# Addresses a server listens on that a browser cannot open: use the loopback instead.
_ANY_ADDRESS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104


def local_site_url(host: str, port: str | int) -> str:
    """`http://host:port` for the address `runserver` listens on (`make run HOST= PORT=`)."""
    host = _ANY_ADDRESS.get(host.strip(), host.strip())
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{int(port)}"
