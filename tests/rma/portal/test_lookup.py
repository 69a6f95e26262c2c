"""The lookup form: matching rules, indistinguishable failures, rate limits, session grant."""

import re

import pytest
from django.urls import reverse
from django.utils.module_loading import import_string
from django_ratelimit.exceptions import Ratelimited

from tests.factories import OrderFactory, StoreFactory

from .conftest import look_up, order_path

pytestmark = pytest.mark.django_db

CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def test_lookup_page_has_the_labelled_fields_and_button(client):
    response = client.get(reverse("portal:lookup"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_order_number">Order number</label>' in html
    assert '<label for="id_contact">Email or postcode</label>' in html
    assert ">Find my order</button>" in html


@pytest.mark.parametrize(
    ("order_number", "contact"),
    [
        ("3000179302", "Ada.Lovelace@Example.com"),
        ("  3000179302 ", "  ada.lovelace@example.COM "),
        ("3000179302", "SW1A 2AA"),
        ("3000179302", "sw1a2aa"),
        ("3000179302", " s w 1 a 2 a a "),
    ],
)
def test_email_or_postcode_variations_find_the_order(client, order, order_number, contact):
    response = look_up(client, order_number, contact)
    assert response.status_code == 302
    assert response["Location"] == order_path(order)
    assert client.get(response["Location"]).status_code == 200


def test_order_number_letters_match_ignoring_case(client, store):
    order = OrderFactory(store=store, order_id="DE-100234", customer_email="erika@example.de")
    response = look_up(client, " de-100234 ", "ERIKA@example.de")
    assert response["Location"] == order_path(order)


@pytest.mark.parametrize(
    "contact", ["someone.else@example.com", "SW1A 2AB", "ada.lovelace@example", "3000179302"]
)
def test_wrong_contact_is_refused_without_a_grant(client, order, contact):
    response = look_up(client, order.order_id, contact)
    assert response.status_code == 200
    assert "We could not find an order" in response.content.decode()
    assert client.get(order_path(order)).status_code == 404


def test_order_without_a_postcode_is_not_matched_by_an_empty_looking_contact(client, store):
    OrderFactory(store=store, order_id="77", shipping_address={"country": "US"})
    assert look_up(client, "77", " - ").status_code == 200
    assert look_up(client, "77", "   ").status_code == 200


def _comparable(response, order_number):
    body = CSRF_TOKEN.sub(b"CSRF", response.content)
    return body.replace(order_number.encode(), b"NUMBER")


def test_unknown_order_and_wrong_pair_look_exactly_the_same(
    client, order, django_assert_num_queries
):
    # The same queries: is the deployment one store (for the branding), then the orders.
    with django_assert_num_queries(2):
        wrong_pair = look_up(client, order.order_id, "mallory@example.com")
    with django_assert_num_queries(2):
        unknown = look_up(client, "9999999999", "mallory@example.com")
    assert wrong_pair.status_code == unknown.status_code == 200
    assert _comparable(wrong_pair, order.order_id) == _comparable(unknown, "9999999999")
    assert b"We could not find an order" in unknown.content


def test_one_number_at_two_stores_picks_the_store_whose_contact_matches(client, order):
    other = OrderFactory(
        store=StoreFactory(code="TMSDE", name="Der Modellladen"),
        order_id=order.order_id,
        customer_email="erika@example.de",
    )
    response = look_up(client, order.order_id, "erika@example.de")
    assert response["Location"] == order_path(other)
    assert client.get(order_path(order)).status_code == 404


def test_one_number_matching_at_two_stores_offers_a_choice(client, order):
    twin = OrderFactory(
        store=StoreFactory(code="TMSDE", name="Der Modellladen"),
        order_id=order.order_id,
        customer_email=order.customer_email,
    )
    response = look_up(client, order.order_id, order.customer_email)
    assert response["Location"] == reverse("portal:choose")
    page = client.get(response["Location"]).content.decode()
    assert "Der Modellladen" in page
    assert "The Model Store" in page
    assert f'href="{order_path(twin)}"' in page
    assert f'href="{order_path(order)}"' in page


def test_choice_page_without_a_lookup_goes_back_to_the_form(client):
    response = client.get(reverse("portal:choose"))
    assert response["Location"] == reverse("portal:lookup")


def test_success_starts_a_new_session(client, order):
    client.get(reverse("portal:lookup"))
    client.session.save()
    before = client.session.session_key
    look_up(client, order.order_id, order.customer_email)
    assert client.session.session_key != before


def test_missing_fields_are_errors_tied_to_the_fields(client):
    html = client.post(reverse("portal:lookup"), {"order_number": " ", "contact": ""}).content
    html = html.decode()
    assert 'href="#id_order_number"' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_order_number_error"' in html
    assert 'id="id_order_number_error"' in html


class TestRateLimit:
    @pytest.fixture(autouse=True)
    def _limits(self, settings):
        settings.LOOKUP_RATE_LIMIT_PER_ORDER = "3/15m"
        settings.LOOKUP_RATE_LIMIT_PER_ADDRESS = "5/15m"

    def test_failures_per_order_number_lead_to_429(self, client, order):
        for attempt in range(3):
            assert look_up(client, order.order_id, f"guess{attempt}@example.com").status_code == 200
        refused = look_up(client, order.order_id, order.customer_email)
        assert refused.status_code == 429
        assert "Please try again later" in refused.content.decode()
        assert "Please wait up to 15 minutes" in refused.content.decode()
        assert refused["Retry-After"] == "900"
        assert client.get(order_path(order)).status_code == 404
        # The same number from another address is still limited; another number is not.
        other_address = {"REMOTE_ADDR": "10.9.9.9"}
        assert (
            look_up(client, f" {order.order_id.lower()} ", "x", **other_address).status_code == 429
        )
        assert look_up(client, "123", "x", **other_address).status_code == 200

    def test_failures_per_client_address_lead_to_429(self, client, order):
        for number in range(5):
            assert look_up(client, f"NO-{number}", "ada@example.com").status_code == 200
        assert look_up(client, order.order_id, order.customer_email).status_code == 429
        other_address = {"REMOTE_ADDR": "10.1.2.3"}
        assert (
            look_up(client, order.order_id, order.customer_email, **other_address).status_code
            == 302
        )

    def test_successful_lookups_are_not_counted(self, client, order):
        for _ in range(10):
            assert look_up(client, order.order_id, order.customer_email).status_code == 302
        for attempt in range(3):
            assert look_up(client, order.order_id, f"g{attempt}@example.com").status_code == 200
        assert look_up(client, order.order_id, order.customer_email).status_code == 429


def test_ratelimit_view_setting_names_the_friendly_429_page(rf, settings):
    view = import_string(settings.RATELIMIT_VIEW)
    response = view(rf.get("/"), Ratelimited())
    assert response.status_code == 429
    assert b"Please try again later" in response.content
