"""The order page's exchange picker: one option per variant, unavailable ones disabled and
saying why, the choice reserved on request, shown on the confirmation and status pages;
refusals on the picker; a constant number of queries whatever the catalogue's size."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import ExchangeReservation, Variant
from rma.links import status_path
from rma.models import Rma, RmaLine
from tests.catalogue.factories import ProductFactory, VariantFactory
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

from .conftest import look_up, order_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(db):
    return StoreFactory(code="TEES", name="Tee Shop")


def add_tee(store, *, sizes=None, product_id="TEE-1"):
    product = ProductFactory(
        store=store,
        product_id=product_id,
        title="Organic tee",
        image_url="/static/catalogue/demo/tee.svg",
    )
    sizes = sizes or {"S": ("19.00", 2), "M": ("25.00", 4), "L": ("25.00", 3), "XL": ("25.00", 0)}
    return {
        size: VariantFactory(
            product=product,
            item_id=f"{product_id}-{size}",
            options=[["Size", size], ["Colour", "Blue"]],
            price=Decimal(price),
            stock=stock,
            position=index,
        )
        for index, (size, (price, stock)) in enumerate(sizes.items())
    }


@pytest.fixture
def tee(store):
    return add_tee(store)


@pytest.fixture
def order(store, tee):
    order = OrderFactory(store=store, order_id="3000300001", customer_email="ada@example.com")
    OrderLineFactory(
        order=order,
        line_number=1,
        title="Organic tee",
        item_id="TEE-1-M",
        quantity=1,
        unit_price=Decimal("25.00"),
    )
    OrderLineFactory(order=order, line_number=2, title="Mug", item_id="MUG", quantity=1)
    return order


def picker_html(html: str) -> str:
    start = html.index("data-exchange-picker")
    return html[start : html.index("</fieldset>", start)]


def exchange_post(**overrides):
    return {
        "line-1-selected": "on",
        "line-1-quantity": "1",
        "line-1-reason": "TOO_SMALL",
        "line-1-exchange": "TEE-1-L",
        "resolution": "EXCHANGE",
        **overrides,
    }


def test_the_picker_offers_every_other_variant_and_disables_unavailable_ones(granted_client, order):
    html = granted_client.get(order_path(order)).content.decode()
    picker = picker_html(html)
    assert picker.count('data-testid="exchange-variant"') == 3  # S, L, XL (not M itself)
    assert "<legend>" in picker
    assert 'name="line-1-exchange" value="TEE-1-L" id="id_line-1-exchange_1">' in picker
    # Out of stock: disabled and saying so.
    assert (
        'value="TEE-1-XL" id="id_line-1-exchange_2" disabled '
        'aria-describedby="id_line-1-exchange_2_status">'
    ) in picker
    assert ">Out of stock</span>" in picker
    # The cheaper size shows its price; the same price is not repeated.
    assert '<span class="exchange__price">$19.00</span>' in picker
    assert picker.count("exchange__price") == 1
    assert 'src="/static/catalogue/demo/tee.svg"' in picker
    assert 'for="id_line-1-exchange_0"' in picker
    # The line not in the catalogue has no picker.
    assert html.count("data-exchange-picker") == 1


def test_no_picker_when_the_store_does_not_offer_exchanges(granted_client, order):
    order.store.policy = {"resolutions": ["REFUND"]}
    order.store.save()
    html = granted_client.get(order_path(order)).content.decode()
    assert "exchange-variant" not in html


def test_the_page_reads_the_catalogue_in_the_same_queries_whatever_its_size(client, store):
    def queries_for(order):
        look_up(client, order.order_id, order.customer_email)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(order_path(order))
        assert response.status_code == 200
        return len(queries), response.content.decode().count('data-testid="exchange-variant"')

    small = OrderFactory(store=store, order_id="3000300002")
    add_tee(store, product_id="P1", sizes={"M": ("25.00", 1), "L": ("25.00", 1)})
    OrderLineFactory(order=small, line_number=1, item_id="P1-M", unit_price=Decimal("25.00"))
    few, few_options = queries_for(small)

    big = OrderFactory(store=store, order_id="3000300003")
    for number in range(1, 6):
        sizes = {f"S{size}": ("25.00", size % 2) for size in range(12)}
        add_tee(store, product_id=f"Q{number}", sizes=sizes)
        OrderLineFactory(
            order=big, line_number=number, item_id=f"Q{number}-S0", unit_price=Decimal("25.00")
        )
    many, many_options = queries_for(big)
    assert (few_options, many_options) == (1, 55)
    assert few == many


def test_an_exchange_request_reserves_the_variant_and_shows_it_back(granted_client, order, tee):
    response = granted_client.post(order_path(order), exchange_post())
    assert response.status_code == 302, response.content.decode()[:2000]
    rma = Rma.objects.get()
    line = RmaLine.objects.get(rma=rma)
    assert line.replacement_item_id == "TEE-1-L"
    assert ExchangeReservation.objects.get().variant == tee["L"]
    assert Variant.objects.get(pk=tee["L"].pk).stock == 2

    confirmation = granted_client.get(response["Location"]).content.decode()
    assert 'data-testid="exchange-choice" data-item-id="TEE-1-L"' in confirmation
    assert "Organic tee (Size: L, Colour: Blue)" in confirmation
    status = granted_client.get(status_path(rma)).content.decode()
    assert "Organic tee (Size: L, Colour: Blue)" in status
    assert "Set aside for you" in status


def test_the_choice_is_ignored_for_another_resolution(granted_client, order, tee):
    response = granted_client.post(order_path(order), exchange_post(resolution="REFUND"))
    assert response.status_code == 302
    assert not ExchangeReservation.objects.exists()
    assert RmaLine.objects.get().replacement_item_id == ""


def test_an_exchange_needs_a_choice_when_variants_are_offered(granted_client, order):
    data = exchange_post()
    del data["line-1-exchange"]
    response = granted_client.post(order_path(order), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose what you would like instead." in html
    assert 'href="#id_line-1-exchange"' in html  # the error summary points at the picker
    assert not Rma.objects.exists()


@pytest.mark.parametrize("item_id", ["TEE-1-XL", "TEE-1-NOPE"])
def test_an_unavailable_choice_is_refused_on_the_picker(granted_client, order, tee, item_id):
    response = granted_client.post(order_path(order), exchange_post(**{"line-1-exchange": item_id}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The item you chose instead is no longer available" in html
    assert "(reason code 1023)" in html
    assert 'id="id_line-1-exchange_error"' in html
    assert not Rma.objects.exists()
    assert {v.item_id: v.stock for v in Variant.objects.all()} == {
        "TEE-1-S": 2,
        "TEE-1-M": 4,
        "TEE-1-L": 3,
        "TEE-1-XL": 0,
    }


def test_the_page_estimate_refunds_the_chosen_cheaper_variants_difference(order):
    from django.http import QueryDict
    from django.utils import timezone

    from rma.eligibility import evaluate_order
    from rma.portal.estimate import order_estimate
    from rma.selectors import order_for_eligibility

    order = order_for_eligibility(store=order.store, order_id=order.order_id)
    verdicts = evaluate_order(order, now=timezone.now())
    data = QueryDict(mutable=True)
    data.update(exchange_post(**{"line-1-exchange": "TEE-1-S"}))
    assert order_estimate(order=order, verdicts=verdicts, data=data)["total"] == Decimal("6.00")
    data["line-1-exchange"] = "TEE-1-L"
    assert order_estimate(order=order, verdicts=verdicts, data=data)["total"] == Decimal("0.00")


def test_the_picker_speaks_german(granted_client, order):
    from django.conf import settings

    granted_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    picker = picker_html(granted_client.get(order_path(order)).content.decode())
    assert "Falls Sie einen Umtausch wählen" in picker
    assert ">Nicht vorrätig</span>" in picker


def test_the_status_page_shows_the_replacement_on_its_way_after_receipt(granted_client, order):
    from rma.services.actors import Actor
    from rma.services.rma_receive import ReceivedLine, rma_receive

    granted_client.post(order_path(order), exchange_post())
    rma = Rma.objects.get()
    line = RmaLine.objects.get(rma=rma)
    rma_receive(
        rma=rma, actor=Actor.system("dock"), lines=[ReceivedLine(line.pk, 1, "AS_NEW", "RESTOCK")]
    )
    html = granted_client.get(status_path(rma)).content.decode()
    assert "On its way to you" in html
    assert 'data-event="rma.exchange_released"' in html
    assert "Replacement on its way" in html
