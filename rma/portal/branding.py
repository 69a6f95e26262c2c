"""Store branding under the Content Security Policy.

The brand colour goes into a small `<style>` element carrying the request's CSP nonce
(the page's only inline CSS), with a text colour chosen for at least 4.5:1 contrast.
Product images and logos live on the store's servers: their https origins are added to
`img-src` for the page that shows them.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from csp.constants import NONCE
from csp.decorators import csp_update

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DARK_TEXT = "#000000"
LIGHT_TEXT = "#ffffff"


def _luminance(colour: str) -> float:
    channels = []
    for index in (1, 3, 5):
        value = int(colour[index : index + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _brand_colour(store) -> str:
    colour = (store.brand_colour or "").strip()
    return colour.lower() if HEX_COLOUR.match(colour) else ""


def brand_context(store) -> dict:
    """Template variables for a store's brand colour and logo (left out when unusable)."""
    context = {"logo_url": secure_url(store.logo_url)}
    if colour := _brand_colour(store):
        context["brand_colour"] = colour
        context["brand_text"] = max(
            (DARK_TEXT, LIGHT_TEXT), key=lambda candidate: contrast_ratio(colour, candidate)
        )
    return context


def secure_url(url: str) -> str:
    """The URL if it is https (the only external images the page may load), else ""."""
    parts = urlsplit(url or "")
    return url if parts.scheme == "https" and parts.netloc else ""


def with_store_policy(response, *, store, image_urls=()):
    """Allow the store's brand style (by nonce) and its image origins on this response."""
    update = {}
    if _brand_colour(store):
        update["style-src"] = [NONCE]
    urls = [secure_url(url) for url in (*image_urls, store.logo_url)]
    if origins := sorted({f"https://{urlsplit(url).netloc}" for url in urls if url}):
        update["img-src"] = origins
    if not update:
        return response
    return csp_update(update)(lambda: response)()
