"""The order page under odd input: quantities as a number input bounded by what can be
returned, posted figures read as ASCII digits only, image origins safe in the CSP."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rma.models import Rma, RmaEvent
from rma.portal.branding import image_origin
from tests.factories import OrderLineFactory

from .conftest import order_path

pytestmark = pytest.mark.django_db

VALID = {
    "line-1-selected": "on",
    "line-1-quantity": "1",
    "line-1-reason": "TOO_SMALL",
    "resolution": "REFUND",
}


def test_a_huge_line_is_one_number_input_not_one_option_per_unit(granted_client, order):
    OrderLineFactory(order=order, line_number=3, title="Screws", quantity=300_000)

    response = granted_client.get(order_path(order))

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(
        r'<input type="number" name="line-3-quantity" value="1" min="1" max="300000" step="1"'
        r' inputmode="numeric" aria-describedby="id_line-3-returnable" id="id_line-3-quantity">',
        html,
    )
    assert '<p class="line__returnable" id="id_line-3-returnable">' in html
    assert 'name="line-3-quantity"' in html
    assert '<option value="2"' not in html
    assert len(response.content) < 40_000
    # The hooks stay.
    assert re.findall(r'data-testid="(\w+)-line" data-line-number="(\d+)"', html) == [
        ("eligible", "1"),
        ("ineligible", "2"),
        ("eligible", "3"),
    ]
    assert 'data-testid="ineligibility-reason"' in html


def test_the_page_reads_the_same_number_of_queries_for_3_or_40_lines(granted_client, order):
    OrderLineFactory(order=order, line_number=3, quantity=5)
    with CaptureQueriesContext(connection) as few:
        assert granted_client.get(order_path(order)).status_code == 200
    for number in range(4, 41):
        OrderLineFactory(order=order, line_number=number, quantity=number)
    with CaptureQueriesContext(connection) as many:
        html = granted_client.get(order_path(order)).content.decode()

    assert html.count('data-testid="eligible-line"') == 39
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("\u00b2", "Enter a whole number."),  # str.isdigit() is true, int() fails
        ("\u0662", "Enter a whole number."),  # Arabic-Indic 2: int() reads it as 2
        ("1.0", "Enter a whole number."),
        ("-1", "Enter a whole number."),
        ("9" * 5000, "Enter a whole number."),
        ("", "Enter how many of this item you want to return."),
        ("3", "You can return at most 2 of this item. (reason code 1007)"),
    ],
)
def test_a_quantity_that_is_not_plain_digits_in_range_is_refused_on_its_field(
    granted_client, order, quantity, message
):
    response = granted_client.post(order_path(order), {**VALID, "line-1-quantity": quantity})

    html = response.content.decode()
    assert response.status_code == 200
    assert f'<ul class="errorlist" id="id_line-1-quantity_error"><li>{message}</li></ul>' in html
    assert 'aria-describedby="id_line-1-returnable id_line-1-quantity_error"' in html
    assert not Rma.objects.exists()
    assert not RmaEvent.objects.exists()


def test_the_posted_quantity_is_shown_back_escaped_and_short(granted_client, order):
    posted = '"><script>alert(1)</script>' + "9" * 100

    html = granted_client.post(
        order_path(order), {**VALID, "line-1-quantity": posted}
    ).content.decode()

    assert "<script>alert(1)" not in html
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/' in html
    assert "9" * 30 not in html


@pytest.mark.parametrize("quantity", ["\u00b2", "\u0663", "abc", ""])
def test_an_odd_quantity_for_a_line_not_on_the_order_is_refused_as_that_line(
    granted_client, order, quantity
):
    response = granted_client.post(
        order_path(order),
        {
            **VALID,
            "line-99-selected": "on",
            "line-99-quantity": quantity,
            "line-99-reason": "TOO_SMALL",
        },
    )

    assert response.status_code == 200
    assert "Line 99 is not part of your order. (reason code 1005)" in response.content.decode()
    assert not Rma.objects.exists()


def test_line_numbers_in_other_digits_are_not_line_fields(granted_client, order):
    # "line-\u0661-selected" (an Arabic-Indic one) is not line 1: nothing is selected.
    response = granted_client.post(
        order_path(order),
        {"line-\u0661-selected": "on", "line-\u0661-quantity": "1", "resolution": "REFUND"},
    )

    assert "Choose at least one item to return." in response.content.decode()
    assert not Rma.objects.exists()


def test_a_plain_quantity_still_requests_the_return(granted_client, order):
    response = granted_client.post(order_path(order), {**VALID, "line-1-quantity": " 2 "})

    assert response.status_code == 302
    assert Rma.objects.get().lines.get().quantity == 2


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://cdn.example.com/a.png", "https://cdn.example.com"),
        ("https://CDN.Example.com:8443/a,b;c.png", "https://cdn.example.com:8443"),
        ("https://bücher.example/a.png", "https://xn--bcher-kva.example"),
        ("https://x;script-src:'unsafe-inline'@cdn.example.com/a.png", ""),
        ("https://user:pass@cdn.example.com/a.png", ""),
        ("https://cdn.example.com:99999/a.png", ""),
        ("https://[::1]/a.png", ""),
        ("http://cdn.example.com/a.png", ""),
        ("javascript:alert(1)", ""),
        ("", ""),
    ],
)
def test_image_origin_is_built_from_host_and_port_only(url, origin):
    assert image_origin(url) == origin


def test_a_logo_url_cannot_inject_into_the_content_security_policy(granted_client, order):
    # Written directly (as through the admin), so past the import's own checks.
    order.store.logo_url = "https://a,script-src:'unsafe-inline';x@evil.example/logo.png"
    order.store.save()
    OrderLineFactory(
        order=order, line_number=3, image_url="https://cdn.example.com;img-src:*@x.example/i.png"
    )

    response = granted_client.get(order_path(order))

    policy = response["Content-Security-Policy"]
    img_src = next(part for part in policy.split("; ") if part.startswith("img-src"))
    assert img_src == "img-src 'self' data:"
    assert "unsafe-inline" not in policy
    assert "evil.example" not in response.content.decode()
    assert "x.example" not in response.content.decode()
