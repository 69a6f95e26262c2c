"""Store branding under the Content Security Policy.

The brand colour goes into a small `<style>` element carrying the request's CSP nonce
(the page's only inline CSS), with a text colour chosen for at least 4.5:1 contrast.
Product images and logos live on the store's servers: their https origins are added to
`img-src` for the page that shows them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.constants import NONCE
from csp.decorators import csp_update

from rma.branding import brand_colour, brand_text_colour


def brand_context(store) -> dict:
    """Template variables for a store's brand colour and logo (left out when unusable)."""
    context = {"logo_url": secure_url(store.logo_url)}
    if colour := brand_colour(store):
        context["brand_colour"] = colour
        context["brand_text"] = brand_text_colour(colour)
    return context


def secure_url(url: str) -> str:
    """The URL if it is https (the only external images the page may load), else ""."""
    parts = urlsplit(url or "")
    return url if parts.scheme == "https" and parts.netloc else ""


def with_store_policy(response, *, store, image_urls=()):
    """Allow the store's brand style (by nonce) and its image origins on this response."""
    update = {}
    if brand_colour(store):
        update["style-src"] = [NONCE]
    urls = [secure_url(url) for url in (*image_urls, store.logo_url)]
    if origins := sorted({f"https://{urlsplit(url).netloc}" for url in urls if url}):
        update["img-src"] = origins
    if not update:
        return response
    return csp_update(update)(lambda: response)()
