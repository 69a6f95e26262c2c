"""The builtin adapter: a one-page 4x6 in PDF with the addresses, codes and numbers."""

import base64
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
import segno
from barcode import Code128
from django.core.exceptions import ImproperlyConfigured
from PIL import Image
from pypdf import PdfReader

from labels.adapters import get_label_service
from labels.adapters.builtin import (
    CARRIER,
    PNG_DATA_PREFIX,
    BuiltinLabelService,
    PngDataFetcher,
    barcode_png_uri,
    qr_png_uri,
)
from labels.adapters.http import HttpLabelService
from labels.adapters.none import NoLabelService
from tests.labels.samples import label_request

POINTS_PER_INCH = 72


def pdf_text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_label_is_one_4x6_inch_page_with_everything_on_it():
    issued = BuiltinLabelService().issue(label_request())

    reader, text = pdf_text(issued.pdf)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == (4 * POINTS_PER_INCH, 6 * POINTS_PER_INCH)
    for expected in (
        "ABCD-EFGH-JKM2",
        "The Model Store",
        "Ada Lovelace",
        "12 Elm St",
        "Philadelphia, PA 19103 US",
        "TMS Returns",
        "1 Warehouse Way",
        "King of Prussia, PA 19406 US",
        "Weight 2.4 lb",
        "Order 3000179302",
        issued.tracking_number,
    ):
        assert expected in text
    assert issued.carrier == CARRIER == "RETURNS-PORTAL"


def test_barcode_and_qr_code_are_images_drawn_without_smoothing():
    pdf = BuiltinLabelService().issue(label_request()).pdf
    reader = PdfReader(io.BytesIO(pdf))
    images = reader.pages[0].images
    assert len(images) == 2
    for image in images:
        # Blurred module edges would make a printed code hard to scan.
        assert image.indirect_reference.get_object()["/Interpolate"].value is False


def decode_png_uri(uri: str) -> list[list[bool]]:
    assert uri.startswith(PNG_DATA_PREFIX)
    image = Image.open(io.BytesIO(base64.b64decode(uri[len(PNG_DATA_PREFIX) :])))
    width, height = image.size
    pixels = image.tobytes()
    return [[pixels[y * width + x] == 0 for x in range(width)] for y in range(height)]


def test_barcode_image_is_the_code_128_of_the_number_with_quiet_zones():
    (row,) = decode_png_uri(barcode_png_uri("ABCDEFGHJKM2"))
    modules = Code128("ABCDEFGHJKM2").build()[0]
    assert "".join("1" if dark else "0" for dark in row) == "0" * 10 + modules + "0" * 10


def test_qr_image_is_the_qr_code_of_the_number():
    rows = decode_png_uri(qr_png_uri("ABCD-EFGH-JKM2"))
    expected = segno.make_qr("ABCD-EFGH-JKM2", error="m", mask=0)
    assert rows == [[bool(module) for module in row] for row in expected.matrix_iter(border=4)]


def test_tracking_numbers_are_random_so_a_reissued_label_gets_a_new_one():
    service = BuiltinLabelService()
    first = service.issue(label_request()).tracking_number
    second = service.issue(label_request()).tracking_number
    assert first != second
    assert first.startswith("RP")
    assert len(first) == 14


def test_overlong_and_multiline_values_still_fit_one_page():
    long = "Wolfeschlegelsteinhausenbergerdorff " * 6
    address = {
        "name": long + "\n" + long,
        "line1": long,
        "line2": long,
        "city": long,
        "state": long,
        "postal_code": long,
        "country": long,
    }
    request = label_request(
        from_address=address, to_address=address, store_name=long, order_id="9" * 64
    )
    reader, text = pdf_text(BuiltinLabelService().issue(request).pdf)
    assert len(reader.pages) == 1
    assert "ABCD-EFGH-JKM2" in text


def test_markup_in_values_is_printed_as_text():
    request = label_request(
        from_address={"name": '<img src="http://127.0.0.1:9/x.png"> Eve', "line1": "<b>1</b> St"}
    )
    _, text = pdf_text(BuiltinLabelService().issue(request).pdf)
    assert '<img src="http://127.0.0.1:9/x.png"> Eve' in text
    assert "<b>1</b> St" in text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/logo.png",
        "https://example.com/logo.png",
        "file:///etc/passwd",
        "data:text/html;base64,PGgxPmhpPC9oMT4=",
        "data:image/png;base64,not base64!",
    ],
)
def test_renderer_fetches_nothing_but_its_own_png_data(url):
    with pytest.raises(ValueError):
        PngDataFetcher().fetch(url)


def test_renderer_serves_png_data_urls():
    uri = qr_png_uri("ABCD-EFGH-JKM2")
    response = PngDataFetcher().fetch(uri)
    assert response.content_type == "image/png"
    assert response.read().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("name", "service_class"),
    [
        ("builtin", BuiltinLabelService),
        ("BUILTIN", BuiltinLabelService),
        ("none", NoLabelService),
        ("http", HttpLabelService),
    ],
)
def test_service_is_chosen_by_settings(settings, name, service_class):
    settings.LABEL_SERVICE = name
    settings.LABEL_SERVICE_URL = "http://127.0.0.1:9/labels"
    assert type(get_label_service()) is service_class


@pytest.mark.parametrize(("name", "url"), [("fedex", ""), ("http", "")])
def test_misconfigured_service_is_refused(settings, name, url):
    settings.LABEL_SERVICE = name
    settings.LABEL_SERVICE_URL = url
    with pytest.raises(ImproperlyConfigured):
        get_label_service()


def test_none_service_issues_nothing():
    service = NoLabelService()
    assert service.issues_labels is False
    assert service.issue(label_request()) is None


def test_labels_render_in_parallel_threads():
    service = BuiltinLabelService()
    numbers = ["ABCD-EFGH-JKM2", "BCDE-FGHJ-KMN3", "CDEF-GHJK-MNP4", "DEFG-HJKM-NPQ5"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        pdfs = list(
            pool.map(lambda number: service.issue(label_request(rma_number=number)).pdf, numbers)
        )
    for number, pdf in zip(numbers, pdfs, strict=True):
        reader, text = pdf_text(pdf)
        assert len(reader.pages) == 1
        assert number in text
