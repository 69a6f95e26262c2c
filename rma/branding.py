"""A store's brand colour, with a text colour that keeps at least 4.5:1 contrast.

Used by the portal pages and the emails alike.
"""

from __future__ import annotations

import re

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


def brand_colour(store) -> str:
    colour = (store.brand_colour or "").strip()
    return colour.lower() if HEX_COLOUR.match(colour) else ""


def brand_text_colour(colour: str) -> str:
    """Black or white, whichever reads better on `colour`."""
    return max((DARK_TEXT, LIGHT_TEXT), key=lambda candidate: contrast_ratio(colour, candidate))
