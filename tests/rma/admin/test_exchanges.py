"""Agents choose exchanges among the catalogue's variants (no free-text SKU): on the
"create return" screen and on the warehouse's resolve screen, where the replacement's
price refunds a cheaper variant's difference as the estimate does."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalogue.models import ExchangeReservation, Variant
from rma.models import Channel, Rma, RmaLine, RmaStatus
from rma.services.actors import Actor
from rma.services.rma_receive import ReceivedLine, rma_receive
from rma.services.rma_request import RequestedLine, rma_request
from tests.catalogue.factories import ProductFactory, VariantFactory
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory
from tests.rma.warehouse.conftest import user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    store = StoreFactory(code="TMSUS")
    product = ProductFactory(store=store, product_id="TEE", title="Organic tee")
    for size, price, stock in [("S", "19.00", 2), ("M", "25.00", 4), ("L", "25.00", 1)]:
        VariantFactory(
            product=product,
            item_id=f"TEE-{size}",
            options=[["Size", size]],
            price=Decimal(price),
            stock=stock,
        )
    VariantFactory(product=product, item_id="TEE-XL", options=[["Size", "XL"]], stock=0)
    order = OrderFactory(order_id="SO-200", store=store)
    OrderLineFactory(
        order=order, line_number=1, item_id="TEE-M", quantity=1, unit_price=Decimal("25.00")
    )
    return order


def create_url(order):
    return reverse("admin:rma_order_create_return", args=[order.pk])


def test_the_create_return_screen_offers_the_available_variants(agent, login, order):
    page = login(agent).get(create_url(order))
    form = page.context["form"]
    choices = dict(form.fields["line-1-exchange"].choices)
    assert list(choices) == ["", "TEE-S", "TEE-L"]  # XL is out of stock; M is the item
    assert choices["TEE-S"] == "TEE-S: Organic tee (Size: S), $19.00, 2 in stock"
    html = page.content.decode()
    assert 'aria-label="Exchange for, line 1"' in html


def test_an_agent_creates_an_exchange_that_reserves_the_stock(agent, login, order):
    response = login(agent).post(
        create_url(order),
        {
            "resolution": "EXCHANGE",
            "line-1-quantity": "1",
            "line-1-reason": "TOO_SMALL",
            "line-1-exchange": "TEE-L",
        },
    )
    assert response.status_code == 302
    rma = Rma.objects.get(channel=Channel.AGENT)
    assert RmaLine.objects.get(rma=rma).replacement_item_id == "TEE-L"
    assert Variant.objects.get(item_id="TEE-L").stock == 0


def test_the_last_unit_gone_is_refused_on_the_exchange_field(agent, login, order):
    client = login(agent)
    client.get(create_url(order))
    Variant.objects.filter(item_id="TEE-L").update(stock=0)
    response = client.post(
        create_url(order),
        {
            "resolution": "EXCHANGE",
            "line-1-quantity": "1",
            "line-1-reason": "TOO_SMALL",
            "line-1-exchange": "TEE-L",
        },
    )
    # No longer offered: the form refuses the choice before the service is asked.
    assert response.status_code == 200
    assert "line-1-exchange" in response.context["form"].errors
    assert not Rma.objects.exists()


def test_an_exchange_choice_needs_the_exchange_resolution(agent, login, order):
    response = login(agent).post(
        create_url(order),
        {
            "resolution": "REFUND",
            "line-1-quantity": "1",
            "line-1-reason": "TOO_SMALL",
            "line-1-exchange": "TEE-L",
        },
    )
    assert response.context["form"].errors["line-1-exchange"] == [
        "An item to exchange for needs the Exchange resolution."
    ]
    assert not Rma.objects.exists()


@pytest.fixture
def received_exchange(order):
    [rma] = rma_request(
        order=order,
        lines=[RequestedLine(1, 1, "TOO_SMALL", exchange_item_id="TEE-S")],
        resolution="EXCHANGE",
        actor=Actor.shopper(order.customer_email),
        channel=Channel.PORTAL,
    )
    line = RmaLine.objects.get(rma=rma)
    rma_receive(
        rma=rma,
        actor=Actor.system("dock"),
        lines=[ReceivedLine(line.pk, 1, "AS_NEW", "RESTOCK")],
    )
    return Rma.objects.get(pk=rma.pk)


def resolve_url(rma):
    return reverse("warehouse:resolve", kwargs={"rma_number": rma.rma_number})


def test_the_resolve_screen_offers_variants_with_the_reserved_one_chosen(client, received_exchange):
    client.force_login(user_with("resolve_rma", username="resolver"))
    line = RmaLine.objects.get(rma=received_exchange)
    form = client.get(resolve_url(received_exchange)).context["form"]
    field = form.fields[f"line-{line.pk}-replacement_item_id"]
    assert [value for value, _ in field.choices] == ["", "TEE-S", "TEE-L"]
    assert field.initial == "TEE-S"


def test_resolving_the_exchange_refunds_the_cheaper_variants_difference(client, received_exchange):
    client.force_login(user_with("resolve_rma", username="resolver"))
    line = RmaLine.objects.get(rma=received_exchange)
    response = client.post(
        resolve_url(received_exchange),
        {
            f"line-{line.pk}-outcome": "EXCHANGE",
            f"line-{line.pk}-replacement_item_id": "TEE-S",
        },
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.rma.status == RmaStatus.RESOLVED
    assert (line.outcome, line.replacement_item_id) == ("EXCHANGE", "TEE-S")
    # 25.00 paid, 19.00 the replacement: the reservation's difference, as estimated.
    reservation = ExchangeReservation.objects.get(rma_line=line)
    assert line.refund_amount == reservation.price_difference == Decimal("6.00")


def test_free_text_is_no_longer_accepted(client, received_exchange):
    client.force_login(user_with("resolve_rma", username="resolver"))
    line = RmaLine.objects.get(rma=received_exchange)
    response = client.post(
        resolve_url(received_exchange),
        {
            f"line-{line.pk}-outcome": "EXCHANGE",
            f"line-{line.pk}-replacement_item_id": "ANY-SKU",
        },
    )
    assert response.status_code in (200, 422)
    assert f"line-{line.pk}-replacement_item_id" in response.context["form"].errors
    line.refresh_from_db()
    assert line.outcome == ""


def test_the_rma_page_shows_the_exchange_and_where_it_stands(agent, login, received_exchange):
    html = (
        login(agent)
        .get(reverse("admin:rma_rma_change", args=[received_exchange.pk]))
        .content.decode()
    )
    assert 'data-testid="exchange">Exchange for: TEE-S (Organic tee (Size: S)), Replacement' in html
    assert "Replacement released" in html  # the event in the timeline too
