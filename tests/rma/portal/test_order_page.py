"""The order page: what it shows, and requests through it (success and every refusal)."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rma.models import Notification, Rma, RmaEvent, RmaPhoto, RmaStatus
from tests.factories import OrderFactory, OrderLineFactory, RmaLineFactory, SupplierFactory

from .conftest import image_bytes, look_up, order_path, status_markup

pytestmark = pytest.mark.django_db


def line_html(html, testid, number):
    """The markup of one order line: from its element to the next line (or the lines' end)."""
    lines = html.split('<li class="line')[1:]
    lines[-1] = lines[-1].split("</form>")[0]
    marker = f'data-testid="{testid}" data-line-number="{number}"'
    [found] = [line for line in lines if marker in line]
    return found


def test_order_page_needs_the_session_grant(client, order):
    assert client.get(order_path(order)).status_code == 404
    assert client.post(order_path(order), {"line-1-selected": "on"}).status_code == 404
    assert not Rma.objects.exists()


def test_grant_for_one_order_does_not_open_another(granted_client, order):
    other = OrderFactory(store=order.store, customer_email=order.customer_email)
    assert granted_client.get(order_path(other)).status_code == 404


def test_order_page_shows_eligible_and_ineligible_lines(granted_client, order):
    OrderLineFactory(
        order=order, line_number=3, title="Socks", image_url="https://cdn.example.com/s.jpg"
    )
    response = granted_client.get(order_path(order))
    html = response.content.decode()
    eligible = line_html(html, "eligible-line", 1)
    assert "Laptop case" in eligible
    assert re.search(
        r'<input type="number" name="line-1-quantity" value="1" min="1" max="2" step="1"',
        eligible,
    )
    assert '<option value="DEFECTIVE">Defective or damaged</option>' in eligible
    ineligible = line_html(html, "ineligible-line", 2)
    assert "Clearance hoodie" in ineligible
    assert re.search(
        r'data-testid="ineligibility-reason" data-code="RMA 1019">'
        r"This item was a final sale, so it cannot be returned\. "
        r'<small class="code">\(reason code 1019\)</small>',
        ineligible,
    )
    assert "<select" not in ineligible
    assert '<img class="item__image" src="https://cdn.example.com/s.jpg"' in html
    assert "img-src 'self' data: https://cdn.example.com" in response["Content-Security-Policy"]
    assert ">Request return</button>" in html
    assert '<input type="radio" name="resolution" value="REFUND"' in html
    assert 'value="EXCHANGE"' not in html


def test_closed_return_window_gives_the_last_day_in_the_store_timezone(client, order):
    order.delivered_at = dt.datetime(2026, 11, 5, 15, 30, tzinfo=dt.UTC)
    order.save()
    # New York: the last day is 5 December; on 6 December (local) the window is closed.
    with time_machine.travel(dt.datetime(2026, 12, 6, 5, 30, tzinfo=dt.UTC), tick=False):
        look_up(client, order.order_id, order.customer_email)
        html = client.get(order_path(order)).content.decode()
    assert re.search(
        r"The return window for this item closed on 5 December 2026\. "
        r'<small class="code">\(reason code 1006\)</small>',
        line_html(html, "ineligible-line", 1),
    )


def test_every_failing_rule_is_listed(granted_client, order):
    order.lines.filter(line_number=2).update(hazmat=True, department="Gift Cards")
    order.store.policy = {**order.store.policy, "excluded_departments": ["gift cards"]}
    order.store.save()
    html = line_html(granted_client.get(order_path(order)).content.decode(), "ineligible-line", 2)
    codes = re.findall(r'data-code="(RMA \d+)"', html)
    assert re.findall(r'<small class="code">\(reason code (\d+)\)</small>', html) == [
        "1016",
        "1019",
        "1020",
    ]
    assert codes == ["RMA 1016", "RMA 1019", "RMA 1020"]


def test_already_returned_line_shows_1007(granted_client, order):
    RmaLineFactory(rma__order=order, order_line=order.lines.get(line_number=1), quantity=2)
    html = granted_client.get(order_path(order)).content.decode()
    assert "All of this item has already been returned" in line_html(html, "ineligible-line", 1)
    assert "RMA 1007" in line_html(html, "ineligible-line", 1)


def test_request_creates_the_rma_and_redirects_to_the_confirmation(granted_client, order):
    response = granted_client.post(
        order_path(order),
        {
            "line-1-selected": "on",
            "line-1-quantity": "2",
            "line-1-reason": "TOO_SMALL",
            "resolution": "STORE_CREDIT",
            "comment": "Ordered the wrong size.",
        },
    )
    rma = Rma.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "portal:confirmation", kwargs={"group": rma.request_group}
    )
    assert (rma.channel, rma.resolution, rma.status) == ("PORTAL", "STORE_CREDIT", "AUTHORIZED")
    assert rma.customer_comment == "Ordered the wrong size."
    assert [(line.quantity, line.reason_code) for line in rma.lines.all()] == [(2, "TOO_SMALL")]
    created = rma.events.get(type="rma.created")
    assert (created.actor_type, created.actor_label) == ("SHOPPER", order.customer_email)

    page = granted_client.get(response["Location"]).content.decode()
    assert f'data-testid="rma-number">{rma.rma_number}</span>' in page
    assert status_markup("Authorized", "AUTHORIZED") in page
    assert reverse("portal:status", kwargs={"token": "x"})[:-2] in page
    assert "Pack the items securely" in page


def test_confirmation_needs_the_grant_of_its_order(granted_client, client, order):
    granted_client.post(
        order_path(order),
        {
            "line-1-selected": "on",
            "line-1-quantity": "1",
            "line-1-reason": "TOO_SMALL",
            "resolution": "REFUND",
        },
    )
    path = reverse("portal:confirmation", kwargs={"group": Rma.objects.get().request_group})
    assert granted_client.get(path).status_code == 200
    client.cookies.clear()
    assert client.get(path).status_code == 404


def test_photo_is_stored_privately_under_a_random_name(granted_client, order, settings):
    upload = SimpleUploadedFile("IMG_my-home-address.png", image_bytes(), "image/png")
    response = granted_client.post(
        order_path(order),
        {
            "line-1-selected": "on",
            "line-1-quantity": "1",
            "line-1-reason": "DEFECTIVE",
            "resolution": "REFUND",
            "line-1-photo": upload,
        },
    )
    assert response.status_code == 302
    photo = RmaPhoto.objects.get()
    assert photo.content_type == "image/png"
    assert re.fullmatch(r"photos/\d{4}/\d{2}/[0-9a-f]{32}\.png", photo.image.name)
    assert (settings.MEDIA_ROOT / photo.image.name).read_bytes() == image_bytes()
    assert granted_client.get(settings.MEDIA_URL + photo.image.name).status_code == 404


def test_review_reason_leaves_the_request_pending(granted_client, order):
    upload = SimpleUploadedFile("a.jpg", image_bytes("JPEG"), "image/jpeg")
    response = granted_client.post(
        order_path(order),
        {
            "line-1-selected": "on",
            "line-1-quantity": "1",
            "line-1-reason": "DAMAGED",
            "resolution": "REFUND",
            "line-1-photo": upload,
        },
    )
    page = granted_client.get(response["Location"]).content.decode()
    assert Rma.objects.get().status == RmaStatus.REQUESTED
    assert status_markup("Requested", "REQUESTED") in page
    assert "will review your request" in page


VALID = {
    "line-1-selected": "on",
    "line-1-quantity": "1",
    "line-1-reason": "TOO_SMALL",
    "resolution": "REFUND",
}


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        (
            {"line-1-quantity": "3"},
            "id_line-1-quantity",
            "You can return at most 2 of this item. (reason code 1007)",
        ),
        (
            {"line-1-quantity": "0"},
            "id_line-1-quantity",
            "You can return at most 2 of this item. (reason code 1007)",
        ),
        (
            {"line-2-selected": "on", "line-2-quantity": "1", "line-2-reason": "TOO_SMALL"},
            "id_line-2-selected",
            "This item was a final sale, so it cannot be returned. (reason code 1019)",
        ),
        (
            {"line-99-selected": "on", "line-99-quantity": "1", "line-99-reason": "TOO_SMALL"},
            "",
            "Line 99 is not part of your order. (reason code 1005)",
        ),
        (
            {"line-1-reason": "CHANGED_MIND"},
            "id_line-1-reason",
            "Choose a reason for returning this item.",
        ),
        ({"line-1-reason": ""}, "id_line-1-reason", "Choose a reason for returning this item."),
        (
            {"resolution": "EXCHANGE"},
            "id_resolution_0",
            "Choose one of the ways we can resolve your return.",
        ),
        (
            {"line-1-reason": "DEFECTIVE"},
            "id_line-1-photo",
            "Add a photo of the item: the reason you chose needs one.",
        ),
        ({"line-1-selected": ""}, "", "Choose at least one item to return."),
        ({"line-1-quantity": "two"}, "id_line-1-quantity", "Enter a whole number."),
    ],
)
def test_refusals_are_shown_on_their_field_and_write_nothing(
    granted_client, order, changes, field_id, message
):
    response = granted_client.post(order_path(order), {**VALID, **changes})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary" role="alert"' in html
    assert message in html
    if field_id:
        assert f'<a href="#{field_id}">' in html
        assert f'id="{field_id.removesuffix("_0")}_error"' in html
    assert not Rma.objects.exists()
    assert not RmaEvent.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("big.png", b"x" * 2048, "image/png"),
            "This photo is too large (2.0 KB). Photos can be at most 1.0 KB.",
        ),
        (
            SimpleUploadedFile("notes.png", b"%PDF-1.4 not an image", "image/png"),
            "This file is not a photo we can read.",
        ),
        (
            SimpleUploadedFile("anim.gif", image_bytes("GIF"), "image/gif"),
            "This file is not a photo we can read.",
        ),
    ],
)
def test_bad_uploads_are_refused(granted_client, order, settings, upload, message):
    settings.PHOTO_MAX_BYTES = 1024
    response = granted_client.post(
        order_path(order), {**VALID, "line-1-reason": "DEFECTIVE", "line-1-photo": upload}
    )
    html = response.content.decode().replace("\xa0", " ")  # sizes keep their unit on one line
    assert message in html
    assert 'aria-describedby="id_line-1-photo_helptext id_line-1-photo_error"' in html
    assert not Rma.objects.exists()
    assert not RmaPhoto.objects.exists()


def test_quantity_taken_meanwhile_is_refused_with_the_fresh_limit(granted_client, order):
    page = granted_client.get(order_path(order))
    assert page.status_code == 200
    RmaLineFactory(rma__order=order, order_line=order.lines.get(line_number=1), quantity=1)
    response = granted_client.post(order_path(order), {**VALID, "line-1-quantity": "2"})
    assert "You can return at most 1 of this item. (reason code 1007)" in response.content.decode()
    assert Rma.objects.count() == 1


def test_lines_for_two_destinations_confirm_two_rmas_on_one_page(granted_client, order):
    supplier = SupplierFactory(store=order.store, name="Acme Drop")
    OrderLineFactory(order=order, line_number=3, title="Monitor arm", supplier=supplier)
    response = granted_client.post(
        order_path(order),
        {
            **VALID,
            "line-3-selected": "on",
            "line-3-quantity": "1",
            "line-3-reason": "TOO_SMALL",
        },
    )
    rmas = list(Rma.objects.order_by("id"))
    assert [rma.supplier for rma in rmas] == [None, supplier]
    page = granted_client.get(response["Location"]).content.decode()
    assert re.findall(r'data-testid="rma-number">([^<]+)<', page) == [
        rma.rma_number for rma in rmas
    ]
    assert "your request became 2 returns" in page
    assert "Supplier Returns" in page  # the supplier's return address
    assert "TMS Returns" in page


def controls_and_labels(html):
    """The ids of the line controls (input, select) and the ids their labels name."""
    controls = re.findall(r'<(?:input|select)[^>]* name="line-[^"]*"[^>]* id="([^"]+)"', html)
    labels = re.findall(r'<label for="(id_line-[^"]+)"', html)
    return controls, labels


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"line-3-quantity": "two"}, "id_line-3-quantity", "Enter a whole number."),
        (
            {"line-1-reason": "DEFECTIVE"},
            "id_line-1-photo",
            "Add a photo of the item: the reason you chose needs one.",
        ),
    ],
)
def test_page_after_an_error_keeps_hooks_labels_and_choices(
    granted_client, order, changes, field_id, message
):
    OrderLineFactory(order=order, line_number=3, title="<i>Mug</i> & co", quantity=3)
    OrderLineFactory(order=order, line_number=4, title="Scarf", quantity=1)
    posted = {
        "line-1-selected": "on",
        "line-1-quantity": "2",
        "line-1-reason": "TOO_SMALL",
        "line-3-selected": "on",
        "line-3-quantity": "3",
        "line-3-reason": "DAMAGED",
        "line-4-quantity": "1",
        "line-4-reason": "TOO_SMALL",  # not selected: kept as chosen, not checked
        "resolution": "STORE_CREDIT",
        "comment": "Both <b>broke</b>",
        **changes,
    }
    response = granted_client.post(order_path(order), posted)
    html = response.content.decode()
    assert response.status_code == 200
    assert not Rma.objects.exists()

    # The error: in the summary (naming the item), on its field, tied to the control.
    assert f'<a href="#{field_id}">' in html
    assert f'<ul class="errorlist" id="{field_id}_error"><li>{message}</li></ul>' in html
    assert re.search(rf'aria-describedby="[^"]*{field_id}_error" id="{field_id}"', html)
    assert html.count('aria-invalid="true"') == 1
    assert "<i>Mug</i>" not in html
    assert "&lt;i&gt;Mug&lt;/i&gt; &amp; co" in html

    # Every line keeps its hook; every control its label.
    assert re.findall(r'data-testid="(\w+)-line" data-line-number="(\d+)"', html) == [
        ("eligible", "1"),
        ("ineligible", "2"),
        ("eligible", "3"),
        ("eligible", "4"),
    ]
    assert "RMA 1019" in line_html(html, "ineligible-line", 2)
    controls, labels = controls_and_labels(html)
    assert len(controls) == 3 * 4
    assert sorted(controls) == sorted(labels)
    assert (
        '<label for="id_line-3-selected">Return “&lt;i&gt;Mug&lt;/i&gt; &amp; co”</label>' in html
    )

    # What the shopper chose is still chosen.
    first, third, fourth = (line_html(html, "eligible-line", n) for n in (1, 3, 4))
    assert 'id="id_line-1-selected" checked>' in first
    assert 'name="line-1-quantity" value="2" min="1" max="2"' in first
    chosen_reason = posted["line-1-reason"]
    assert re.search(rf'<option value="{chosen_reason}" selected>', first)
    assert 'id="id_line-3-selected" checked>' in third
    quantity = posted["line-3-quantity"]
    assert f'name="line-3-quantity" value="{quantity}" min="1" max="3"' in third
    assert '<option value="DAMAGED" selected>Arrived damaged</option>' in third
    assert 'id="id_line-4-selected">' in fourth
    assert '<option value="TOO_SMALL" selected>Too small</option>' in fourth
    assert 'name="line-4-quantity" value="1" min="1" max="1"' in fourth
    assert len(re.findall(r"<option [^>]*selected", html)) == 3
    assert 'value="STORE_CREDIT" id="id_resolution_1" checked>' in html
    assert ">\nBoth &lt;b&gt;broke&lt;/b&gt;</textarea>" in html


def test_a_store_reason_is_escaped_in_every_line(granted_client, order):
    odd = {"code": "ODD<1>", "description": '<b>Odd</b> & "strange"', "requires_photo": True}
    order.store.policy = {**order.store.policy, "reasons": [*order.store.policy["reasons"], odd]}
    order.store.save()
    OrderLineFactory(order=order, line_number=3, title="Mug")
    html = granted_client.get(order_path(order)).content.decode()
    option = (
        '<option value="ODD&lt;1&gt;">&lt;b&gt;Odd&lt;/b&gt; &amp; &quot;strange&quot;</option>'
    )
    assert html.count(option) == 2
    assert 'data-photo-reasons="DEFECTIVE DAMAGED ODD&lt;1&gt;"' in html
    assert "<b>Odd</b>" not in html
