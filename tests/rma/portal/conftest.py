"""Portal fixtures: an order a shopper can look up, and a client holding its session grant."""

import io

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from PIL import Image

from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

PHOTO_REASONS = [
    {"code": "TOO_SMALL", "description": "Too small"},
    {
        "code": "DEFECTIVE",
        "description": "Defective or damaged",
        "seller_fault": True,
        "requires_photo": True,
    },
    {
        "code": "DAMAGED",
        "description": "Arrived damaged",
        "seller_fault": True,
        "requires_review": True,
        "requires_photo": True,
    },
]


@pytest.fixture(autouse=True)
def _language_restored():
    """LocaleMiddleware activates the request's language in the test's thread: undo it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def store(db):
    return StoreFactory(
        code="TMSUS",
        name="The Model Store",
        policy={"reasons": PHOTO_REASONS, "resolutions": ["REFUND", "STORE_CREDIT"]},
    )


@pytest.fixture
def order(store):
    order = OrderFactory(
        store=store,
        order_id="3000179302",
        customer_email="Ada.Lovelace@Example.com",
        shipping_address={
            "line1": "10 Downing St",
            "city": "London",
            "state": "",
            "postal_code": "SW1A 2AA",
            "country": "US",
        },
    )
    OrderLineFactory(order=order, line_number=1, title="Laptop case", quantity=2)
    OrderLineFactory(order=order, line_number=2, title="Clearance hoodie", final_sale=True)
    return order


def order_path(order):
    return reverse(
        "portal:order", kwargs={"store_code": order.store.code, "order_id": order.order_id}
    )


def look_up(client, order_number, contact, **extra):
    return client.post(
        reverse("portal:lookup"), {"order_number": order_number, "contact": contact}, **extra
    )


@pytest.fixture
def granted_client(client, order):
    """A client whose session looked the order up successfully."""
    response = look_up(client, order.order_id, order.customer_email)
    assert response.status_code == 302
    return client


def image_bytes(image_format="PNG", size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format=image_format)
    return buffer.getvalue()


def status_markup(label: str, code: str) -> str:
    """The rma-status element: the status in words, once (the code only in data-status)."""
    return f'data-testid="rma-status" data-status="{code}">{label}</strong>'
