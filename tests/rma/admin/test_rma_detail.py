"""The RMA detail page: links to the warehouse screens, photos, a constant number of queries."""

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rma.models import RmaPhoto, RmaStatus
from rma.services.actors import Actor
from rma.services.events import record_event
from tests.factories import RmaFactory, rma_with_lines

pytestmark = pytest.mark.django_db


def change_url(rma):
    return reverse("admin:rma_rma_change", args=[rma.pk])


def test_warehouse_gets_the_receive_link_for_an_authorized_return(warehouse, login):
    rma = RmaFactory(status=RmaStatus.AUTHORIZED)
    links = dict(login(warehouse).get(change_url(rma)).context["rma_links"])
    assert links == {"Receive": f"/warehouse/receive/{rma.rma_number}/"}


def test_care_gets_the_resolve_link_for_a_received_return(agent, warehouse, login):
    rma = RmaFactory(status=RmaStatus.RECEIVED)
    links = dict(login(agent).get(change_url(rma)).context["rma_links"])
    assert links == {"Resolve": f"/warehouse/resolve/{rma.rma_number}/"}
    assert login(warehouse).get(change_url(rma)).context["rma_links"] == []


def test_photos_are_served_to_staff_only_through_the_admin(agent, login, client):
    rma = rma_with_lines(1, status=RmaStatus.REQUESTED)
    photo = RmaPhoto.objects.create(
        rma_line=rma.lines.get(),
        image=ContentFile(b"\x89PNG fake", name="scratch.png"),
        content_type="image/png",
    )
    url = reverse("admin:rma_rma_photo", args=[rma.pk, photo.pk])
    page = login(agent).get(change_url(rma))
    assert page.context["rma_lines"][0]["photos"] == [url]
    response = login(agent).get(url)
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert b"".join(response.streaming_content) == b"\x89PNG fake"
    assert client.get(url).status_code == 302  # anonymous: to the admin login
    other = RmaFactory()
    assert (
        login(agent).get(reverse("admin:rma_rma_photo", args=[other.pk, photo.pk])).status_code
        == 404
    )


def test_detail_page_queries_do_not_grow_with_lines_and_events(agent, login):
    rma = rma_with_lines(1, status=RmaStatus.REQUESTED)
    record_event(rma=rma, type="rma.created", actor=Actor.agent(agent))
    client = login(agent)
    client.get(change_url(rma))
    with CaptureQueriesContext(connection) as small:
        client.get(change_url(rma))
    big = rma_with_lines(1, 1, 1, 1, 1, 1, status=RmaStatus.REQUESTED)
    for _ in range(10):
        record_event(rma=big, type="rma.created", actor=Actor.agent(agent))
    with CaptureQueriesContext(connection) as large:
        response = client.get(change_url(big))
    assert len(response.context["rma_lines"]) == 6
    assert len(response.context["rma_events"]) == 10
    assert len(large) == len(small)


def test_detail_page_says_what_the_store_rules_decided_for_the_return(agent, login):
    rma = RmaFactory(
        rule_decisions=[
            {"line_number": 1, "action": "set_return_fee", "rule": "Bulky <b>", "amount": "2.50"},
            {"line_number": 2, "action": "keep_item", "rule": "Socks: keep"},
        ]
    )
    page = login(agent).get(change_url(rma)).content.decode()
    assert "Line 1: set return fee 2.50 (rule “Bulky &lt;b&gt;”)<br>" in page
    assert "Line 2: keep item (rule “Socks: keep”)" in page


def readonly_contents(page, name: str) -> str:
    fields = (
        field for fieldset in page.context["adminform"] for line in fieldset for field in line
    )
    return next(field.contents() for field in fields if field.field["name"] == name)


def test_detail_page_of_a_return_no_rule_shaped_shows_the_empty_value(agent, login):
    page = login(agent).get(change_url(RmaFactory(rule_decisions=[])))
    assert readonly_contents(page, "rules_applied") == "-"


def test_detail_page_shows_each_group_of_units_received_alike(agent, login):
    rma = rma_with_lines(3, 1, status=RmaStatus.RECEIVED)
    split, whole = rma.lines.order_by("order_line__line_number")
    split.received_quantity = 3
    split.receipt_units = [
        {"quantity": 2, "condition": "AS_NEW", "disposition": "RESTOCK"},
        {"quantity": 1, "condition": "DAMAGED", "disposition": "DISPOSE"},
    ]
    split.condition, split.disposition = "DAMAGED", "DISPOSE"  # the worst, as receiving sets
    split.save()
    whole.received_quantity, whole.condition, whole.disposition = 1, "OPENED", "REFURBISH"
    whole.save()  # received before groups were kept: one group of its own condition
    page = login(agent).get(change_url(rma)).content.decode()
    assert '<td data-testid="condition">2 \u00d7 As new<br>1 \u00d7 Damaged</td>' in page
    assert '<td data-testid="disposition">2 \u00d7 Restock<br>1 \u00d7 Dispose</td>' in page
    assert '<td data-testid="condition">Opened</td>' in page
    assert '<td data-testid="disposition">Refurbish</td>' in page
