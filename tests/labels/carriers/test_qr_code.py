"""The "I have no printer" choice: a QR code from Shippo instead of a label to print."""

import pytest
from django.urls import reverse

from labels.links import label_token
from labels.models import ReturnLabel
from rma.links import status_path
from rma.models import LabelStatus, Rma
from tests.labels.carriers.support import LABEL_POLICY, carrier_order
from tests.labels.fake_carrier import QR_PNG

pytestmark = pytest.mark.django_db

NO_PRINTER = "I have no printer"


def order_page(order):
    return reverse(
        "portal:order", kwargs={"store_code": order.store.code, "order_id": order.order_id}
    )


def shopper_client(client, order):
    response = client.post(
        reverse("portal:lookup"),
        {"order_number": order.order_id, "contact": order.customer_email},
    )
    assert response.status_code == 302
    return client


def request_return(client, order, **extra):
    return client.post(
        order_page(order),
        {
            "line-1-selected": "on",
            "line-1-quantity": "1",
            "line-1-reason": "TOO_SMALL",
            "resolution": "REFUND",
            **extra,
        },
    )


@pytest.fixture
def qr_order(shippo):
    return carrier_order(label_policy={**LABEL_POLICY, "qr_code": True})


def test_the_shopper_without_a_printer_gets_a_qr_code(
    shippo, qr_order, client, django_capture_on_commit_callbacks
):
    client = shopper_client(client, qr_order)
    assert NO_PRINTER in client.get(order_page(qr_order)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = request_return(client, qr_order, no_printer="on")
    assert response.status_code == 302

    rma = Rma.objects.get(order=qr_order)
    label = ReturnLabel.objects.get(rma=rma)
    assert label.status == LabelStatus.ISSUED
    [create] = shippo.calls_to("create")
    assert create.body["extra"]["qr_code_requested"] is True
    assert label.qr_code.name.endswith(".png")
    page = client.get(status_path(rma)).content.decode()
    qr_url = reverse("labels:qr_code", kwargs={"token": label_token(rma)})
    assert f'src="{qr_url}"' in page
    image = client.get(qr_url)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == QR_PNG


def test_a_shopper_with_a_printer_gets_no_qr_code(
    shippo, qr_order, client, django_capture_on_commit_callbacks
):
    client = shopper_client(client, qr_order)

    with django_capture_on_commit_callbacks(execute=True):
        request_return(client, qr_order)

    rma = Rma.objects.get(order=qr_order)
    assert "qr_code_requested" not in shippo.calls_to("create")[0].body["extra"]
    assert not ReturnLabel.objects.get(rma=rma).qr_code
    qr_url = reverse("labels:qr_code", kwargs={"token": label_token(rma)})
    assert client.get(qr_url).status_code == 404


@pytest.mark.parametrize("where", ["store does not allow it", "carrier is not shippo"])
def test_no_qr_choice_where_the_store_or_the_carrier_does_not_offer_it(
    where, shippo, easypost, settings, client, django_capture_on_commit_callbacks
):
    qr_code = where != "store does not allow it"
    order = carrier_order(label_policy={**LABEL_POLICY, "qr_code": qr_code})
    settings.LABEL_SERVICE = "shippo" if where == "store does not allow it" else "easypost"
    client = shopper_client(client, order)

    assert NO_PRINTER not in client.get(order_page(order)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        # Sent anyway (a forged form): ignored.
        request_return(client, order, no_printer="on")

    rma = Rma.objects.get(order=order)
    assert not rma.events.filter(data__labelFormat="QR").exists()
    label = ReturnLabel.objects.get(rma=rma)
    assert label.status == LabelStatus.ISSUED
    assert not label.qr_code
