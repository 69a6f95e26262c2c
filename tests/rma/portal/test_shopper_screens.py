"""The shopper's screens: store lookup pages, store language, item details, the progress
stepper, ship-by date, status wording and headings."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rma.emails import build_email
from rma.importing import ImportValidationError, import_document
from rma.links import status_path
from rma.models import Notification, Rma, RmaPhoto, RmaStatus, Store
from rma.portal.progress import progress_steps
from rma.selectors import rmas_with_lines
from tests.catalogue.factories import ProductFactory, VariantFactory
from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    RmaEventFactory,
    RmaFactory,
    RmaLineFactory,
    StoreFactory,
    spec_import_document,
)

from .conftest import image_bytes, look_up, order_path

pytestmark = pytest.mark.django_db


def current_steps(html: str) -> list[str]:
    return re.findall(r'data-step="([a-z_]+)" data-state="[a-z]+" aria-current="step"', html)


# --- Which store the lookup page belongs to -------------------------------------------


def test_store_lookup_page_is_branded_and_finds_only_that_stores_orders(client, order):
    other = StoreFactory(code="OTHER", name="Other Shop", brand_colour="#7D3C98")
    OrderFactory(store=other, order_id="555", customer_email="ada@example.com")
    order.store.brand_colour = "#1A5276"
    order.store.save()
    path = reverse("portal:store_lookup", kwargs={"store_code": "OTHER"})
    html = client.get(path).content.decode()
    assert "Other Shop" in html
    assert "--brand: #7d3c98" in html
    # The other store's order number is not found on this store's page.
    response = client.post(path, {"order_number": order.order_id, "contact": order.customer_email})
    assert response.status_code == 200
    assert "We could not find an order" in response.content.decode()
    found = client.post(path, {"order_number": "555", "contact": "ada@example.com"})
    assert found.status_code == 302


def test_unknown_store_lookup_page_is_a_404(client, db):
    assert client.get("/s/NOPE/").status_code == 404


def test_root_is_branded_when_the_deployment_has_one_store(client, store):
    store.brand_colour = "#1A5276"
    store.save()
    html = client.get("/").content.decode()
    assert "The Model Store" in html
    assert "--brand: #1a5276" in html
    StoreFactory(code="SECOND", name="Second Shop")
    html = client.get("/").content.decode()
    assert "The Model Store" not in html
    assert "--brand" not in html


# --- The store's language, and the shopper's choice ------------------------------------


@pytest.fixture
def german_order(db):
    store = StoreFactory(code="TMSDE", name="Das Modellgeschäft", currency="EUR", language="de")
    store.timezone = "Europe/Berlin"
    store.save()
    order = OrderFactory(store=store, order_id="4000", customer_email="eva@example.de")
    OrderLineFactory(order=order, line_number=1, title="Pulli", quantity=1)
    return order


def test_german_store_pages_are_german_by_default(client, german_order):
    path = reverse("portal:store_lookup", kwargs={"store_code": "TMSDE"})
    html = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="de">' in html
    look_up(client, german_order.order_id, german_order.customer_email)
    html = client.get(order_path(german_order), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="de">' in html


def test_the_shoppers_explicit_choice_wins_over_the_stores_language(client, german_order):
    path = reverse("portal:store_lookup", kwargs={"store_code": "TMSDE"})
    response = client.post(reverse("portal:set_language"), {"language": "en", "next": path})
    assert response.status_code == 302
    html = client.get(path).content.decode()
    assert '<html lang="en">' in html
    assert "Find my order" in html


def test_import_accepts_a_store_language_and_refuses_an_unknown_one():
    document = spec_import_document()
    document["stores"][0]["language"] = "de"
    import_document(document)
    assert Store.objects.get(code=document["stores"][0]["code"]).language == "de"
    document["stores"][0]["language"] = "fr"
    with pytest.raises(ImportValidationError) as refused:
        import_document(document)
    assert any("language" in error for error in refused.value.errors)
    assert Store.objects.get(code=document["stores"][0]["code"]).language == "de"
    assert {code for code, _name in settings.LANGUAGES} >= {"en", "de"}


# --- What the order page shows of each item ------------------------------------------


def test_items_show_their_options_price_paid_and_catalogue_image(granted_client, order):
    product = ProductFactory(
        store=order.store, product_id="CASE", title="Case", image_url="https://cdn.example/c.jpg"
    )
    line = order.lines.get(line_number=1)
    line.unit_price = Decimal("20.00")
    line.discount = Decimal("2.00")
    line.tax = Decimal("1.00")
    line.image_url = ""
    line.save()
    VariantFactory(
        product=product, item_id=line.item_id, options=[["Size", "M"], ["Colour", "Blue"]]
    )
    response = granted_client.get(order_path(order))
    html = response.content.decode()
    assert re.search(
        r"Size: <strong>M</strong></span> · "
        r'<span class="item__option">Colour: <strong>Blue</strong>',
        html,
    )
    # (20.00 * 2 - 2.00 + 1.00) / 2 = 19.50 per unit.
    assert "Price paid: $19.50 each" in html
    assert 'src="https://cdn.example/c.jpg"' in html
    assert "https://cdn.example" in response["Content-Security-Policy"]


def test_a_fully_ineligible_order_says_so_plainly(granted_client, order):
    order.lines.filter(line_number=1).update(final_sale=True)
    html = granted_client.get(order_path(order)).content.decode()
    assert 'data-testid="nothing-returnable"' in html
    assert "None of the items in this order can be returned." in html
    assert "Choose the items you want to return" not in html
    assert "Request return" not in html


def test_an_excluded_item_says_why_and_its_code_is_not_an_rma_number(granted_client, order):
    order.store.policy = {
        **order.store.policy,
        "excluded_items": [order.lines.get(line_number=1).item_id],
    }
    order.store.save()
    html = granted_client.get(order_path(order)).content.decode()
    assert re.search(
        r'data-testid="ineligibility-reason" data-code="RMA 1019">'
        r"The store.s return policy excludes this item from returns\. "
        r'<small class="code">\(reason code 1019\)</small>',
        html.replace("&#x27;", "'"),
    )
    assert ">RMA 1019<" not in html


# --- Status page: stepper, ship-by date, timeline zone, wording ----------------------


@pytest.fixture
def authorized(order):
    rma = RmaFactory(
        order=order,
        status=RmaStatus.AUTHORIZED,
        label_status="PENDING",
        expires_at=dt.datetime(2026, 12, 20, 4, 59, tzinfo=dt.UTC),
    )
    RmaLineFactory(rma=rma, order_line=order.lines.get(line_number=1), quantity=1)
    RmaEventFactory(rma=rma, type="rma.created", actor_type="SHOPPER")
    RmaEventFactory(rma=rma, type="rma.authorized")
    return rma


def test_status_page_shows_the_stepper_ship_by_date_and_zoned_times(client, authorized):
    html = client.get(status_path(authorized)).content.decode()
    assert current_steps(html) == ["approved"]
    assert html.index('data-step="requested"') < html.index('data-step="in_transit"')
    assert html.index('data-step="received"') < html.index('data-step="resolved"')
    # 04:59 UTC on 20 December is 23:59 on 19 December in New York.
    assert re.search(r'data-testid="ship-by">.*19 December 2026', html)
    assert re.search(r"<time [^>]*>\d+ \w+ \d{4}, \d\d:\d\d E[SD]T</time>", html)
    # The status in words once; the code only in the attribute.
    assert 'data-status="AUTHORIZED">Authorized</strong>' in html
    assert ">AUTHORIZED<" not in html


def test_confirmation_heading_follows_the_status(granted_client, order, authorized):
    path = reverse("portal:confirmation", kwargs={"group": authorized.request_group})
    html = granted_client.get(path).content.decode()
    assert 'data-testid="confirmation-heading">Thank you, your return is approved</h1>' in html
    assert "your return is requested" not in html
    assert 'data-testid="ship-by"' in html


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"status": "REQUESTED"}, [("requested", "current"), ("approved", "upcoming")]),
        (
            {"status": "AUTHORIZED", "in_transit": True},
            [("approved", "done"), ("in_transit", "current")],
        ),
        ({"status": "RECEIVED"}, [("in_transit", "done"), ("received", "current")]),
        ({"status": "RESOLVED"}, [("received", "done"), ("resolved", "current")]),
        ({"status": "REJECTED"}, [("requested", "done"), ("rejected", "stopped")]),
        (
            {"status": "CANCELLED", "event_types": {"rma.created", "rma.authorized"}},
            [("requested", "done"), ("approved", "done"), ("cancelled", "stopped")],
        ),
        (
            {"status": "EXPIRED", "event_types": {"rma.authorized"}},
            [("approved", "done"), ("expired", "stopped")],
        ),
        ({"status": "RESOLVED", "kept": True}, [("approved", "done"), ("kept", "current")]),
        (
            {"status": "RESOLVED", "at_counter": True},
            [("received", "done"), ("resolved", "current")],
        ),
    ],
)
def test_progress_steps_adapt_to_how_the_return_went(kwargs, expected):
    steps = progress_steps(resolution="REFUND", **kwargs)
    pairs = [(step.key, step.state) for step in steps]
    for pair in expected:
        assert pair in pairs
    assert sum(step.is_current for step in steps) == 1
    if kwargs.get("kept"):
        assert "in_transit" not in [key for key, _state in pairs]
    if kwargs.get("at_counter"):
        assert "in_transit" not in [key for key, _state in pairs]
    if kwargs["status"] in ("REJECTED", "CANCELLED", "EXPIRED"):
        assert steps[-1].state == "stopped"


def test_an_exchange_ends_with_the_replacement_sent():
    steps = progress_steps(status="RESOLVED", resolution="EXCHANGE")
    assert steps[-1].label == "Replacement sent"
    assert progress_steps(status="RESOLVED", resolution="REFUND")[-1].label == "Refunded"


# --- Several photos per item --------------------------------------------------------


def _photo_post(granted_client, order, uploads):
    return granted_client.post(
        order_path(order),
        {
            "line-1-selected": "on",
            "line-1-quantity": "1",
            "line-1-reason": "DEFECTIVE",
            "resolution": "REFUND",
            "line-1-photo": uploads,
        },
    )


def _png(name="p.png", size=(8, 8)):
    return SimpleUploadedFile(name, image_bytes(size=size), "image/png")


def test_several_photos_of_one_item_are_all_kept(granted_client, order):
    response = _photo_post(granted_client, order, [_png("a.png"), _png("b.png"), _png("c.png")])
    assert response.status_code == 302
    assert RmaPhoto.objects.count() == 3
    html = granted_client.get(order_path(order)).content.decode()
    assert 'type="file" multiple name="line-1-photo"' in html
    assert "You can add up to 5 photos." in html


def test_more_photos_than_allowed_are_refused_with_nothing_written(granted_client, order):
    response = _photo_post(granted_client, order, [_png(f"{n}.png") for n in range(6)])
    assert response.status_code == 200
    assert "Add at most 5 photos of an item (you chose 6)." in response.content.decode()
    assert not Rma.objects.exists()
    assert not RmaPhoto.objects.exists()


def test_each_photo_is_checked_and_the_one_at_fault_is_named(granted_client, order, settings):
    settings.PHOTO_MAX_PIXELS = 100
    response = _photo_post(granted_client, order, [_png("a.png"), _png("b.png", size=(20, 20))])
    assert response.status_code == 200
    assert "Photo 2: This photo has too many pixels" in response.content.decode()
    assert not RmaPhoto.objects.exists()


def test_confirmation_email_gives_the_ship_by_date(authorized):
    notification = Notification(kind="confirmation", recipient="ada@example.com", rma=authorized)
    message = build_email(notification, list(rmas_with_lines().filter(pk=authorized.pk)))
    assert "Please send your parcel by 19 December 2026" in message.body
    html = message.alternatives[0][0]
    assert "Please send your parcel by <strong>19 December 2026</strong>" in html


def test_german_store_status_page_is_german_with_its_stepper(client, german_order):
    rma = RmaFactory(order=german_order, status=RmaStatus.AUTHORIZED, label_status="PENDING")
    RmaLineFactory(rma=rma, order_line=german_order.lines.get(line_number=1), quantity=1)
    RmaEventFactory(rma=rma, type="rma.created", actor_type="SHOPPER")
    html = client.get(status_path(rma), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="de">' in html
    assert 'aria-label="Stand Ihrer Rücksendung ' in html
    assert "Eine andere Bestellung suchen" in html
    # Berlin time, with its zone.
    assert re.search(r"<time [^>]*>[^<]*\d\d:\d\d Uhr CES?T</time>", html)


def test_the_rate_limited_page_of_a_store_search_keeps_its_brand(client, store, settings):
    settings.LOOKUP_RATE_LIMIT_PER_ORDER = "1/15m"
    store.brand_colour = "#1A5276"
    store.save()
    StoreFactory(code="SECOND", name="Second Shop")
    path = reverse("portal:store_lookup", kwargs={"store_code": store.code})
    client.post(path, {"order_number": "42", "contact": "x@example.com"})
    response = client.post(path, {"order_number": "42", "contact": "x@example.com"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "--brand: #1a5276" in html
    assert f'href="{path}"' in html
