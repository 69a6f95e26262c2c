"""`LABEL_SERVICE=builtin`: a 4x6 in PDF return label rendered with WeasyPrint.

The label shows the store's name, the from and to addresses, the RMA number as a
Code 128 barcode and as text, a QR code of the RMA number, the package weight and a
tracking number of its own.

Rendering is kept fast and self-contained:

- the stylesheet (`templates/labels/label.css`) and the font configuration are built
  once per thread and reused;
- the barcode and the QR code are tiny PNG data URIs, one pixel per module, from the
  module patterns of python-barcode (Code 128) and segno (QR), scaled up without
  interpolation so they print as sharp as vectors. Measured with WeasyPrint 70 (see
  bench/label_render.py), inline SVG costs twice as much to draw: WeasyPrint parses
  every path coordinate in Python, while an image is one PDF object;
- only system fonts are used and the URL fetcher serves only the label's own
  `data:` images, so rendering never touches the network or the file system.

Tracking numbers are random (`RP` + 12 characters of the RMA number alphabet), not
derived from the RMA number: a re-issued label must not carry the voided one's number.
"""

from __future__ import annotations

import base64
import binascii
import io
import secrets
import threading
from dataclasses import dataclass

import segno
from barcode import Code128
from django.template.loader import render_to_string
from PIL import Image
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from rma.numbers import ALPHABET

from .base import IssuedLabel, LabelRequest, LabelService

CARRIER = "RETURNS-PORTAL"
TRACKING_PREFIX = "RP"
TRACKING_LENGTH = 12
PNG_DATA_PREFIX = "data:image/png;base64,"
# python-barcode's modules ("1" dark, "0" light) as module values.
_DIGIT_MODULES = bytes.maketrans(b"01", b"\x00\x01")
QR_QUIET_ZONE = 4  # modules of light margin around a QR code, as the standard asks
# Longer address lines are cut rather than wrapped: the label must stay one page.
LINE_LENGTH = {"from": 48, "to": 30}


class PngDataFetcher(URLFetcher):
    """Serves `data:image/png;base64,…` URLs, the label's only resources; refuses the rest.

    Decoding them here rather than through urllib's data: handler halves the cost of
    the label's two images. It keeps no state, so one instance serves every render.
    """

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if not url.startswith(PNG_DATA_PREFIX):
            raise ValueError(f"Label rendering fetches nothing: {url[:60]}")
        try:
            body = base64.b64decode(url[len(PNG_DATA_PREFIX) :], validate=True)
        except binascii.Error as error:
            raise ValueError("Invalid base64 in a data: URL") from error
        return URLFetcherResponse(url, body, {"Content-Type": "image/png"})


@dataclass(frozen=True)
class _Renderer:
    font_config: FontConfiguration
    stylesheet: CSS
    url_fetcher: URLFetcher


_local = threading.local()


def _renderer() -> _Renderer:
    """The font configuration, parsed stylesheet and URL fetcher, built once per thread.

    Celery's prefork workers each build them once. Per thread rather than per process
    because WeasyPrint does not promise that its objects may be shared across threads
    (a threaded server may render labels with eager tasks).
    """
    renderer = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = _new_renderer()
    return renderer


def _new_renderer() -> _Renderer:
    url_fetcher = PngDataFetcher()
    font_config = FontConfiguration()
    stylesheet = CSS(
        string=render_to_string("labels/label.css"),
        font_config=font_config,
        url_fetcher=url_fetcher,
    )
    return _Renderer(font_config=font_config, stylesheet=stylesheet, url_fetcher=url_fetcher)


def new_tracking_number() -> str:
    return TRACKING_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(TRACKING_LENGTH))


def address_lines(address: dict, *, width: int) -> list[str]:
    """An address as printed: name, street lines, then "City, ST 12345 CC".

    Each value becomes one line (inner line breaks and runs of spaces collapsed), cut
    at `width` characters: the label never grows a line it has no room for.
    """
    region = " ".join(
        part
        for part in (address.get("state"), address.get("postal_code"), address.get("country"))
        if part
    )
    locality = ", ".join(part for part in (address.get("city"), region) if part)
    lines = (address.get("name"), address.get("line1"), address.get("line2"), locality)
    cleaned = (" ".join(str(line or "").split()) for line in lines)
    return [line[:width] for line in cleaned if line]


# Module value (0 light, 1 dark) to grey pixel (255 white, 0 black).
_MODULE_PIXELS = bytes([255, 0]) + bytes(254)


def modules_png_uri(rows: list[bytes]) -> str:
    """A PNG data URI with one grey pixel per module (a row's bytes: 1 dark, 0 light); the
    stylesheet scales it.

    Drawn with `image-rendering: pixelated`, the PDF marks the image not to be
    interpolated, so every module prints as a sharp rectangle at any resolution.
    """
    width = len(rows[0])
    pixels = b"".join(rows).translate(_MODULE_PIXELS)
    image = Image.frombytes("L", (width, len(rows)), pixels)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return PNG_DATA_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def barcode_png_uri(text: str, *, quiet_zone: int = 10) -> str:
    """A Code 128 barcode of `text` (python-barcode's encoding), with quiet zones."""
    modules = Code128(text).build()[0]
    light = bytes(quiet_zone)
    return modules_png_uri([light + modules.encode().translate(_DIGIT_MODULES) + light])


def qr_png_uri(text: str) -> str:
    """A QR code of `text` with its 4-module quiet zone."""
    # A fixed mask pattern: choosing the "best" of eight costs a millisecond and buys
    # nothing a scanner notices on a version 1 code.
    code = segno.make_qr(text, error="m", mask=0)
    # segno's matrix rows are bytearrays of 0 and 1; the quiet zone is added around them.
    quiet = bytes(QR_QUIET_ZONE)
    rows = [quiet + bytes(row) + quiet for row in code.matrix]
    light_rows = [bytes(len(rows[0]))] * QR_QUIET_ZONE
    return modules_png_uri(light_rows + rows + light_rows)


def label_html(request: LabelRequest, *, carrier: str, tracking_number: str) -> str:
    from_lines = address_lines(request.from_address, width=LINE_LENGTH["from"])
    to_lines = address_lines(request.to_address, width=LINE_LENGTH["to"])
    return render_to_string(
        "labels/label.html",
        {
            "rma_number": request.rma_number,
            "store_name": request.store_name[: LINE_LENGTH["from"]],
            "order_id": request.order_id,
            "from_text": "\n".join(["FROM " + line for line in from_lines[:1]] + from_lines[1:]),
            "to_text": "\n".join(to_lines),
            # Scanners read the number without its hyphens; `normalise_rma_number` accepts both.
            "barcode_uri": barcode_png_uri(request.rma_number.replace("-", "")),
            "qr_uri": qr_png_uri(request.rma_number),
            "weight": request.package.get("weight", ""),
            "weight_unit": request.package.get("weightUnit", ""),
            "carrier": carrier,
            "tracking_number": tracking_number,
        },
    )


def render_pdf(html: str) -> bytes:
    """A PDF of label HTML with the cached stylesheet and fonts, fetching nothing.

    Its streams are left uncompressed: compressing them took about 4 % of a label's
    render (0.4 ms of 10.6, measured in random order) to save about 5 KB of 12 KB.
    """
    renderer = _renderer()
    document = HTML(string=html, url_fetcher=renderer.url_fetcher)
    return document.write_pdf(
        stylesheets=[renderer.stylesheet],
        font_config=renderer.font_config,
        uncompressed_pdf=True,
    )


class BuiltinLabelService(LabelService):
    name = "builtin"

    def issue(self, request: LabelRequest) -> IssuedLabel:
        tracking_number = new_tracking_number()
        html = label_html(request, carrier=CARRIER, tracking_number=tracking_number)
        return IssuedLabel(carrier=CARRIER, tracking_number=tracking_number, pdf=render_pdf(html))
