"""Shoppers get the portal's own 404 and 500 pages, translated and accessible, in every
mode: in DEBUG too a stale link never shows Django's technical page (the URL list)."""

import re

import pytest
from django.test import Client

from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

TECHNICAL_404 = "Using the URLconf defined in"


def assert_friendly_404(response, *, heading="Page not found", debug=False):
    html = response.content.decode()
    assert response.status_code == 404
    assert TECHNICAL_404 not in html
    assert "returns_portal.urls" not in html
    assert f"<h1>{heading}</h1>" in html
    assert re.search(r'<html lang="\w+">', html)
    assert '<main id="main"' in html
    assert 'class="skip-link" href="#main"' in html
    # django-csp leaves 404s out in DEBUG (for Django's own page, with inline styles).
    if not debug:
        assert "default-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    "path",
    [
        "/no-such-page/",  # no route
        "/returns/not-a-signed-token/",  # a stale or tampered status link (the view's 404)
        "/order/NOPE/123/",  # an order this browser has not looked up
    ],
)
def test_a_shopper_gets_the_portal_404_page(client, settings, debug, path):
    settings.DEBUG = debug

    response = client.get(path)

    assert_friendly_404(response, debug=debug)
    assert "Find my order" in response.content.decode()
    # The page never echoes the address (it may hold a signed link).
    assert path.strip("/").split("/")[-1] not in response.content.decode()


def test_the_404_page_is_translated(client, settings):
    settings.DEBUG = True

    response = client.get("/no-such-page/", headers={"accept-language": "de"})

    assert_friendly_404(response, heading="Seite nicht gefunden", debug=True)
    assert '<html lang="de">' in response.content.decode()


def test_staff_paths_keep_djangos_page_in_debug(client, settings):
    settings.DEBUG = True

    response = client.get("/warehouse/no-such-page/")

    assert response.status_code == 404
    assert TECHNICAL_404 in response.content.decode()


def test_a_portal_404_keeps_the_views_own_404_responses(client, settings):
    settings.DEBUG = True
    StoreFactory(code="TMSUS")

    # The order push answers its own JSON 404 for an unknown store: left as it is.
    response = client.put(
        "/api/v1/stores/NOPE/orders/1", data="{}", content_type="application/json"
    )

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.urls("tests.returns_portal.crash_urls")
@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Something went wrong"), ("de", "Etwas ist schiefgelaufen")]
)
def test_a_server_error_is_the_portal_500_page_translated(settings, language, heading):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    response = client.get("/crash/", headers={"accept-language": language})

    html = response.content.decode()
    assert response.status_code == 500
    assert f"<h1>{heading}</h1>" in html
    assert f'<html lang="{language}">' in html
    assert "<title>" in html
    assert "a bug" not in html
    assert "Traceback" not in html


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert len(body) < 10_000
