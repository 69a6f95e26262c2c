"""The status page behind the signed link, and cancelling from it."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse

from labels.links import rma_number_from_label_token
from rma.links import STATUS_SALT, status_path, status_token
from rma.models import Notification, RmaStatus
from tests.factories import RmaEventFactory, RmaFactory, RmaLineFactory

from .conftest import status_markup

pytestmark = pytest.mark.django_db


@pytest.fixture
def rma(order):
    rma = RmaFactory(order=order, status=RmaStatus.AUTHORIZED, label_status="PENDING")
    RmaLineFactory(rma=rma, order_line=order.lines.get(line_number=1), quantity=1)
    RmaEventFactory(rma=rma, type="rma.created", actor_type="SHOPPER")
    RmaEventFactory(rma=rma, type="rma.authorized", data={"automatic": True})
    RmaEventFactory(rma=rma, type="rma.override_recorded", data={"agent": "internal"})
    return rma


def test_signed_link_shows_the_return_and_its_timeline(client, rma):
    # The page's cancel link is signed with the current second: so is the expected one.
    with time_machine.travel(dt.datetime.now(tz=dt.UTC), tick=False):
        response = client.get(status_path(rma))
        expected_cancel = reverse("portal:cancel", kwargs={"token": status_token(rma)})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-testid="rma-number">{rma.rma_number}</span>' in html
    assert status_markup("Authorized", "AUTHORIZED") in html
    assert "Laptop case" in html
    assert html.index("Return requested") < html.index("Return approved")
    assert "override" not in html  # internal events stay internal
    assert "Your return label is being prepared" in html
    assert f'href="{expected_cancel}"' in html


def _tampered(token):
    number, rest = token.split(":", 1)
    other = number[:-1] + ("A" if number[-1] != "A" else "B")
    return f"{other}:{rest}"


@pytest.mark.parametrize(
    "make_token",
    [
        _tampered,
        lambda token: token[:-2] + ("xx" if not token.endswith("xx") else "yy"),
        # A valid signature of the same number for another purpose (e.g. a label link).
        lambda token: signing.TimestampSigner(salt="labels.download").sign(token.split(":")[0]),
        lambda token: signing.TimestampSigner(salt=STATUS_SALT, key="another-key").sign(
            token.split(":")[0]
        ),
        lambda token: token.split(":")[0],
    ],
    ids=["other-number", "bad-signature", "other-salt", "other-key", "unsigned"],
)
def test_tampered_or_foreign_links_show_nothing(client, rma, make_token):
    token = make_token(status_token(rma))
    for path in (
        reverse("portal:status", kwargs={"token": token}),
        reverse("portal:cancel", kwargs={"token": token}),
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert rma.rma_number not in response.content.decode()
        assert "Page not found" in response.content.decode()
    assert client.post(reverse("portal:cancel", kwargs={"token": token})).status_code == 404
    rma.refresh_from_db()
    assert rma.status == RmaStatus.AUTHORIZED


def test_link_to_an_unknown_rma_shows_nothing(client, rma):
    token = signing.TimestampSigner(salt=STATUS_SALT).sign("ABCD-EFGH-JKMN")
    assert client.get(reverse("portal:status", kwargs={"token": token})).status_code == 404


def test_links_expire(client, rma, settings):
    settings.SIGNED_LINK_MAX_AGE_DAYS = 30
    path = status_path(rma)
    with time_machine.travel(dt.timedelta(days=29)):
        assert client.get(path).status_code == 200
    with time_machine.travel(dt.timedelta(days=31)):
        response = client.get(path)
        assert response.status_code == 404
        assert rma.rma_number not in response.content.decode()


@pytest.mark.parametrize("status", [RmaStatus.REQUESTED, RmaStatus.AUTHORIZED])
def test_shopper_cancels_after_confirming(client, rma, status):
    rma.status = status
    rma.save()
    token = status_token(rma)
    cancel = reverse("portal:cancel", kwargs={"token": token})
    confirm = client.get(cancel)
    assert ">Yes, cancel this return</button>" in confirm.content.decode()
    rma.refresh_from_db()
    assert rma.status == status  # the GET only asks

    response = client.post(cancel)
    assert response["Location"] == reverse("portal:status", kwargs={"token": token})
    rma.refresh_from_db()
    assert rma.status == RmaStatus.CANCELLED
    event = rma.events.get(type="rma.cancelled")
    assert (event.actor_type, event.actor_label) == ("SHOPPER", rma.order.customer_email)
    assert Notification.objects.get(rma=rma).kind == "cancelled"
    page = client.get(response["Location"]).content.decode()
    assert f"Your return {rma.rma_number} is cancelled." in page
    assert status_markup("Cancelled", "CANCELLED") in page
    assert "Cancel this return" not in page


@pytest.mark.parametrize(
    "status",
    [
        RmaStatus.RECEIVED,
        RmaStatus.RESOLVED,
        RmaStatus.REJECTED,
        RmaStatus.CANCELLED,
        RmaStatus.EXPIRED,
    ],
)
def test_cancel_only_while_cancellable(client, rma, status):
    rma.status = status
    rma.save()
    token = status_token(rma)
    status_page = reverse("portal:status", kwargs={"token": token})
    cancel = reverse("portal:cancel", kwargs={"token": token})
    assert "Cancel this return" not in client.get(status_page).content.decode()
    for response in (client.get(cancel), client.post(cancel)):
        assert response["Location"] == status_page
    rma.refresh_from_db()
    assert rma.status == status
    assert not rma.events.filter(type="rma.cancelled").exists()
    page = client.get(status_page).content.decode()
    assert "This return can no longer be cancelled." in page


def test_cancel_needs_the_csrf_token(rma):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("portal:cancel", kwargs={"token": status_token(rma)}))
    assert response.status_code == 403
    rma.refresh_from_db()
    assert rma.status == RmaStatus.AUTHORIZED


def test_issued_label_is_linked_while_the_parcel_is_to_be_sent(client, rma):
    rma.label_status = "ISSUED"
    rma.save()
    html = client.get(status_path(rma)).content.decode()
    [link] = re.findall(r'href="(/labels/[^"]+/)"', html)
    token = link.removeprefix("/labels/").removesuffix("/")
    assert rma_number_from_label_token(token) == rma.rma_number
    assert "Download the return label" in html

    rma.status = RmaStatus.RECEIVED
    rma.save()
    assert "/labels/" not in client.get(status_path(rma)).content.decode()
