"""Request bodies are refused (413) past their limit before they are read; photo pixels capped.

The gunicorn tests (real server, real sockets) are in `test_request_size_gunicorn.py`.
"""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.test import RequestFactory
from PIL import Image

from returns_portal.middleware import RequestSizeLimitMiddleware
from rma.models import Rma, RmaPhoto
from rma.portal.photos import PhotoField
from tests.rma.portal.conftest import (  # noqa: F401 (fixtures)
    _fresh_rate_limits,
    _language_restored,
    granted_client,
    image_bytes,
    order,
    order_path,
    store,
)

pytestmark = pytest.mark.django_db

FORM = {
    "line-1-selected": "on",
    "line-1-quantity": "1",
    "line-1-reason": "DEFECTIVE",
    "resolution": "REFUND",
}


def test_an_oversized_form_gets_the_friendly_413_page(client, settings):
    settings.MAX_REQUEST_BYTES = 1024
    response = client.post("/", {"order_number": "1" * 2000, "contact": "a@example.com"})
    assert response.status_code == 413
    html = response.content.decode()
    assert "That was too much to send at once" in html
    assert "1.0\xa0KB in all" in html
    # It went through the other middleware on the way out: hardened headers, CSP.
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_oversized_photo_upload_is_refused_before_anything_is_stored(
    granted_client,  # noqa: F811
    order,  # noqa: F811
    settings,
):
    settings.MAX_REQUEST_BYTES = 64 * 1024
    photo = SimpleUploadedFile("big.png", b"\x89PNG" + b"\0" * 100_000, "image/png")
    response = granted_client.post(order_path(order), {**FORM, "line-1-photo": photo})
    assert response.status_code == 413
    assert not Rma.objects.exists()
    assert not RmaPhoto.objects.exists()


def test_a_form_within_the_limit_is_served_as_before(client, settings):
    settings.MAX_REQUEST_BYTES = 64 * 1024
    response = client.post("/", {"order_number": "123", "contact": "a@example.com"})
    assert response.status_code == 200


API_PATH = "/v1.0/seller/TMSUS/return-order/create/3000179302/checkEligibility"


@pytest.mark.parametrize("suffix", ["json", "xml"])
def test_the_rma_service_api_answers_its_own_fault(client, settings, suffix):
    settings.API_MAX_BODY_BYTES = 100
    response = client.post(
        f"{API_PATH}.{suffix}", data=b"x" * 500, content_type=f"application/{suffix}"
    )
    assert response.status_code == 413
    body = response.content.decode()
    assert "RMA 1001" in body
    assert "The request body is larger than 100 bytes." in body
    if suffix == "json":
        assert json.loads(body)["fault"]["code"] == "RMA 1001"
    else:
        assert body.lstrip().startswith("<?xml") or body.lstrip().startswith("<Fault")


def test_the_order_api_answers_json_errors(client, settings):
    settings.API_MAX_BODY_BYTES = 100
    response = client.put(
        "/api/v1/stores/TMSUS/orders/1", data=b"{}" + b" " * 500, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json() == {"errors": ["the body is larger than 100 bytes"]}


# --- chunked bodies (no Content-Length) --------------------------------------------------


def chunked_request(path: str, body: bytes) -> WSGIRequest:
    environ = RequestFactory()._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/x-www-form-urlencoded",
        HTTP_TRANSFER_ENCODING="chunked",
        # What gunicorn says of a de-chunked input.
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )
    environ.pop("CONTENT_LENGTH", None)
    return WSGIRequest(environ)


def test_a_chunked_body_within_the_limit_reaches_the_view(settings):
    settings.MAX_REQUEST_BYTES = 1024
    middleware = RequestSizeLimitMiddleware(lambda request: HttpResponse(request.POST["note"]))
    response = middleware(chunked_request("/", b"note=hello+chunks"))
    assert response.content == b"hello chunks"


def test_a_chunked_body_past_the_limit_is_refused_without_reaching_the_view(settings):
    settings.MAX_REQUEST_BYTES = 1024
    reached = []
    middleware = RequestSizeLimitMiddleware(lambda request: reached.append(request))
    response = middleware(chunked_request("/", b"note=" + b"x" * 5000))
    assert response.status_code == 413
    assert reached == []


# --- photo pixels ------------------------------------------------------------------------


def png(size: tuple[int, int], mode: str = "1") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_144_megapixel_png_is_refused_by_its_header():
    bomb = png((12_000, 12_000))  # about 20 KB on disk
    assert len(bomb) < 100_000
    with pytest.raises(ValidationError) as refused:
        PhotoField().clean(SimpleUploadedFile("bomb.png", bomb, "image/png"))
    assert refused.value.code == "too_many_pixels"
    assert "144 megapixels" in refused.value.messages[0]
    assert "at most 40 megapixels" in refused.value.messages[0]


def test_pixel_limit_is_a_setting(settings):
    settings.PHOTO_MAX_PIXELS = 100
    PhotoField().clean(SimpleUploadedFile("ok.png", image_bytes(size=(10, 10)), "image/png"))
    with pytest.raises(ValidationError):
        PhotoField().clean(SimpleUploadedFile("no.png", image_bytes(size=(11, 10)), "image/png"))


def test_a_pixel_bomb_through_the_order_page_creates_nothing(
    granted_client,  # noqa: F811
    order,  # noqa: F811
):
    bomb = SimpleUploadedFile("bomb.png", png((12_000, 12_000)), "image/png")
    response = granted_client.post(order_path(order), {**FORM, "line-1-photo": bomb})
    assert "This photo has too many pixels (144 megapixels)" in response.content.decode()
    assert not Rma.objects.exists()
    assert not RmaPhoto.objects.exists()


def test_the_413_page_speaks_the_shoppers_language(client, settings):
    settings.MAX_REQUEST_BYTES = 1024
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    response = client.post("/", {"order_number": "1" * 2000, "contact": "a@example.com"})
    assert response.status_code == 413
    assert "Das war zu viel auf einmal" in response.content.decode()
