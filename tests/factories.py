"""factory_boy factories for the domain; defaults make an order that is eligible for return."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from rma.models import (
    ApiKey,
    Channel,
    EligibilityOverride,
    Order,
    OrderLine,
    OrderStatus,
    Rma,
    RmaEvent,
    RmaLine,
    RmaStatus,
    Store,
    Supplier,
    WebhookEndpoint,
)
from rma.numbers import new_rma_number

ADDRESS = {
    "name": "TMS Returns",
    "line1": "1 Warehouse Way",
    "line2": "",
    "city": "King of Prussia",
    "state": "PA",
    "postal_code": "19406",
    "country": "US",
}


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ST{n:04d}")
    name = factory.LazyAttribute(lambda o: f"Store {o.code}")
    currency = "USD"
    timezone = "America/New_York"
    support_email = "care@example.com"
    return_address = factory.LazyFunction(lambda: dict(ADDRESS))
    policy = factory.LazyFunction(dict)


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    store = factory.SubFactory(StoreFactory)
    code = factory.Sequence(lambda n: f"SUP{n}")
    name = factory.LazyAttribute(lambda o: f"Supplier {o.code}")
    email = factory.LazyAttribute(lambda o: f"rma@{o.code.lower()}.example")
    return_address = factory.LazyFunction(
        lambda: {**ADDRESS, "name": "Supplier Returns", "city": "Reno", "state": "NV"}
    )


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    store = factory.SubFactory(StoreFactory)
    order_id = factory.Sequence(lambda n: f"{3000000000 + n}")
    status = OrderStatus.DELIVERED
    placed_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=6))
    shipped_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=5))
    delivered_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=2))
    customer_email = "ada@example.com"
    customer_name = "Ada Lovelace"
    shipping_address = factory.LazyFunction(
        lambda: {
            "line1": "12 Elm St",
            "city": "Philadelphia",
            "state": "PA",
            "postal_code": "19103",
            "country": "US",
        }
    )


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    item_id = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.LazyAttribute(lambda o: f"Item {o.item_id}")
    department = "Accessories"
    quantity = 2
    unit_price = Decimal("39.99")
    weight = Decimal("1.2")
    length = Decimal("16")
    width = Decimal("12")
    height = Decimal("2")


class RmaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rma

    order = factory.SubFactory(OrderFactory)
    store = factory.LazyAttribute(lambda o: o.order.store)
    rma_number = factory.LazyFunction(new_rma_number)
    status = RmaStatus.AUTHORIZED
    channel = Channel.PORTAL


class RmaLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RmaLine

    rma = factory.SubFactory(RmaFactory)
    order_line = factory.SubFactory(OrderLineFactory, order=factory.SelfAttribute("..rma.order"))
    quantity = 1
    reason_code = "TOO_SMALL"


class RmaEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RmaEvent

    rma = factory.SubFactory(RmaFactory)
    type = "rma.created"
    actor_type = "SYSTEM"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct-horse-battery")
    is_staff = True


class EligibilityOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EligibilityOverride

    order_line = factory.SubFactory(OrderLineFactory)
    code = "RMA 1006"
    agent = factory.SubFactory(UserFactory)
    justification = "Customer was travelling; goodwill."


class ApiKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiKey

    store = factory.SubFactory(StoreFactory)
    name = "test key"
    prefix = factory.Sequence(lambda n: f"pfx{n:05d}")
    key_hash = "0" * 64


def spec_import_document() -> dict:
    """The reference import document (every store and policy key); a fresh copy each call."""
    return {
        "stores": [
            {
                "code": "TMSUS",
                "name": "The Model Store",
                "currency": "USD",
                "timezone": "America/New_York",
                "support_email": "care@example.com",
                "return_address": dict(ADDRESS),
                "suppliers": [
                    {
                        "code": "ACME",
                        "name": "Acme Drop",
                        "email": "rma@acme.example",
                        "return_address": {
                            "name": "Acme Returns",
                            "line1": "9 Dock St",
                            "city": "Reno",
                            "state": "NV",
                            "postal_code": "89501",
                            "country": "US",
                        },
                    }
                ],
                "policy": {
                    "return_window_days": 30,
                    "returnable_statuses": ["SHIPPED", "DELIVERED"],
                    "excluded_departments": ["Gift Cards"],
                    "excluded_items": ["GC-50"],
                    "hazmat_returnable": False,
                    "excluded_states": ["HI", "AK"],
                    "allowed_countries": ["US"],
                    "resolutions": ["REFUND", "EXCHANGE", "STORE_CREDIT"],
                    "reasons": [
                        {
                            "code": "TOO_SMALL",
                            "description": "Too small",
                            "seller_fault": False,
                            "requires_review": False,
                            "requires_photo": False,
                        }
                    ],
                    "restocking_fee_percent": "0",
                    "rma_expiry_days": 30,
                    "weight_unit": "lb",
                    "dimension_unit": "in",
                    "dim_divisor": 139,
                    "max_weight": "50",
                    "max_dimension": "48",
                    "max_dimensional_weight": "70",
                    "min_invoice_amount": "0.01",
                    "max_invoice_amount": "5000.00",
                },
            }
        ],
        "orders": [import_order_data()],
    }


def import_order_data(order_id: str = "3000179302", store: str = "TMSUS", **overrides) -> dict:
    """One order object of the import format (the reference example by default)."""
    return {
        "store": store,
        "order_id": order_id,
        "status": "DELIVERED",
        "placed_at": "2026-11-01T10:00:00Z",
        "shipped_at": "2026-11-02T10:00:00Z",
        "delivered_at": "2026-11-05T15:30:00Z",
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "shipping_address": {
            "line1": "12 Elm St",
            "city": "Philadelphia",
            "state": "PA",
            "postal_code": "19103",
            "country": "US",
        },
        "lines": [import_line_data()],
        **overrides,
    }


def import_line_data(line_number: int = 1, **overrides) -> dict:
    """One order line of the import format (the reference example by default)."""
    return {
        "line_number": line_number,
        "item_id": "21-RITOCS004b",
        "title": 'Laptop case 15"',
        "department": "Accessories",
        "quantity": 2,
        "unit_price": "39.99",
        "weight": "1.2",
        "length": "16",
        "width": "12",
        "height": "2",
        "hazmat": False,
        "final_sale": False,
        "delivered_at": None,
        "supplier": None,
        **overrides,
    }


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    store = factory.SubFactory(StoreFactory)
    url = "http://127.0.0.1:9/webhooks"
    secret = factory.Sequence(lambda n: f"whsec-test-{n:06d}")
    events = factory.LazyFunction(list)


def rma_with_lines(*quantities: int, status: str = RmaStatus.AUTHORIZED, **rma_fields) -> Rma:
    """An RMA with one line per quantity, each for its own order line (ordered quantity 2+)."""
    rma = RmaFactory(status=status, **rma_fields)
    for number, quantity in enumerate(quantities or (1,), start=1):
        order_line = OrderLineFactory(
            order=rma.order, line_number=number, quantity=max(quantity, 2)
        )
        RmaLineFactory(rma=rma, order_line=order_line, quantity=quantity)
    return rma
