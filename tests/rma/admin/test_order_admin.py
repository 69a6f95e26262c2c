"""The order page: live eligibility per line, overrides by permission, returns for customers."""

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rma.models import Channel, EligibilityOverride, Rma, RmaStatus
from tests.factories import (
    EligibilityOverrideFactory,
    OrderFactory,
    OrderLineFactory,
    RmaFactory,
    RmaLineFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    """Line 1 eligible; 2 out of its window (1006); 3 hazmat (1016); 4 already returned (1007)."""
    now = timezone.now()
    order = OrderFactory(
        order_id="SO-100", store=StoreFactory(code="TMSUS"), delivered_at=now - dt.timedelta(days=3)
    )
    OrderLineFactory(order=order, line_number=1, item_id="CASE-15", quantity=2)
    OrderLineFactory(
        order=order, line_number=2, item_id="MUG", delivered_at=now - dt.timedelta(days=90)
    )
    OrderLineFactory(order=order, line_number=3, item_id="BATTERY", hazmat=True)
    held = OrderLineFactory(order=order, line_number=4, item_id="CABLE", quantity=1)
    RmaLineFactory(rma__order=order, order_line=held, quantity=1)
    return order


def change_url(order):
    return reverse("admin:rma_order_change", args=[order.pk])


def override_url(order, line_number):
    line = order.lines.get(line_number=line_number)
    return reverse("admin:rma_order_override", args=[order.pk, line.pk])


def rows_by_line(response):
    return {row["verdict"].line_number: row for row in response.context["eligibility_rows"]}


def test_order_page_shows_each_line_with_its_reasons(agent, login, order):
    response = login(agent).get(change_url(order))
    rows = rows_by_line(response)
    assert rows[1]["verdict"].eligible
    assert [f["rule"].code for f in rows[2]["failures"]] == ["RMA 1006"]
    assert [f["rule"].code for f in rows[3]["failures"]] == ["RMA 1016"]
    assert [f["rule"].code for f in rows[4]["failures"]] == ["RMA 1007"]
    text = response.content.decode()
    assert "Return Request is out of Return Window" in text
    assert "Hazmat Item(s) not allowed for returns" in text


def test_agent_is_offered_to_override_only_the_return_window(agent, login, order):
    rows = rows_by_line(login(agent).get(change_url(order)))
    assert rows[2]["failures"][0]["override_url"]
    assert rows[3]["failures"][0]["override_url"] is None  # 1016: supervisors only
    assert rows[4]["failures"][0]["override_url"] is None  # 1007: nobody


def test_supervisor_is_offered_hazmat_but_never_1007(supervisor, login, order):
    rows = rows_by_line(login(supervisor).get(change_url(order)))
    assert rows[3]["failures"][0]["override_url"]
    assert rows[4]["failures"][0]["override_url"] is None


def test_warehouse_sees_no_override_and_no_create_return(warehouse, login, order):
    response = login(warehouse).get(change_url(order))
    rows = rows_by_line(response)
    assert rows[2]["failures"][0]["override_url"] is None
    assert response.context["create_return_url"] is None
    assert login(warehouse).get(override_url(order, 2)).status_code == 403


def test_the_order_page_runs_a_constant_number_of_queries(agent, login, order):
    client = login(agent)
    EligibilityOverrideFactory(order_line=order.lines.get(line_number=2))
    client.get(change_url(order))  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few_lines:
        client.get(change_url(order))
    long_ago = timezone.now() - dt.timedelta(days=90)
    for number in range(5, 15):
        line = OrderLineFactory(order=order, line_number=number, delivered_at=long_ago)
        EligibilityOverrideFactory(order_line=line, agent__username=f"agent{number}")
        RmaLineFactory(rma__order=order, order_line=line)
    with CaptureQueriesContext(connection) as many_lines:
        response = client.get(change_url(order))
    rows = response.context["eligibility_rows"]
    assert len(rows) == 14
    assert sum(1 for row in rows if row["overridden"]) == 11
    assert "agent14" in response.content.decode()
    assert len(many_lines) == len(few_lines)


def test_agent_overrides_the_return_window_with_a_justification(agent, login, order):
    client = login(agent)
    page = client.get(override_url(order, 2), {"code": "RMA 1006"})
    assert [code for code, _ in page.context["form"].fields["code"].choices] == ["RMA 1006"]

    blank = client.post(override_url(order, 2), {"code": "RMA 1006", "justification": " "})
    assert blank.status_code == 200 and blank.context["form"].errors
    assert not EligibilityOverride.objects.exists()

    response = client.post(
        override_url(order, 2),
        {"code": "RMA 1006", "justification": "Was in hospital", "expires_at": ""},
    )
    assert response.status_code == 302
    override = EligibilityOverride.objects.get()
    assert (override.code, override.agent, override.justification) == (
        "RMA 1006",
        agent,
        "Was in hospital",
    )
    assert LogEntry.objects.get(user=agent).object_id == str(override.pk)
    rows = rows_by_line(client.get(change_url(order)))
    assert rows[2]["verdict"].eligible
    assert rows[2]["overridden"][0]["override"] == override


def test_the_expiry_is_read_in_the_store_time_zone(supervisor, login, order):
    login(supervisor).post(
        override_url(order, 2),
        {"code": "RMA 1006", "justification": "Goodwill", "expires_at": "2099-01-31T18:00"},
    )
    expires_at = EligibilityOverride.objects.get().expires_at
    assert expires_at == dt.datetime(2099, 1, 31, 23, 0, tzinfo=dt.UTC)  # New York, EST


def test_agent_cannot_override_hazmat_even_by_posting(agent, login, order):
    client = login(agent)
    response = client.post(override_url(order, 3), {"code": "RMA 1016", "justification": "x"})
    assert response.status_code == 302  # nothing this agent may override on that line
    assert not EligibilityOverride.objects.exists()
    response = client.post(override_url(order, 2), {"code": "RMA 1016", "justification": "x"})
    assert "code" in response.context["form"].errors
    assert not EligibilityOverride.objects.exists()


def test_supervisor_overrides_hazmat(supervisor, login, order):
    login(supervisor).post(
        override_url(order, 3), {"code": "RMA 1016", "justification": "UN3481 ok"}
    )
    assert EligibilityOverride.objects.get().agent == supervisor


def create_url(order):
    return reverse("admin:rma_order_create_return", args=[order.pk])


def test_agent_creates_a_return_for_the_customer(agent, login, order):
    client = login(agent)
    page = client.get(create_url(order))
    assert page.status_code == 200
    assert [row["verdict"].line_number for row in page.context["rows"] if row["fields"]] == [1]
    response = client.post(
        create_url(order),
        {
            "resolution": "REFUND",
            "comment": "Called in",
            "line-1-quantity": "2",
            "line-1-reason": "TOO_SMALL",
            "line-1-comment": "",
        },
    )
    rma = Rma.objects.get(channel=Channel.AGENT)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rma_rma_change", args=[rma.pk])
    assert rma.status == RmaStatus.AUTHORIZED
    assert [(line.order_line.line_number, line.quantity) for line in rma.lines.all()] == [(1, 2)]
    created = rma.events.get(type="rma.created")
    assert (created.actor_type, created.actor_user, created.data["channel"]) == (
        "AGENT",
        agent,
        "AGENT",
    )


def test_create_return_errors_are_shown_on_the_line(agent, login, order):
    response = login(agent).post(
        create_url(order),
        {"resolution": "REFUND", "line-1-quantity": "3", "line-1-reason": "TOO_SMALL"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["line-1-quantity"] == [
        "RMA 1007 Requested return quantity allowed limit"
    ]
    assert not Rma.objects.filter(channel=Channel.AGENT).exists()


def test_create_return_needs_a_reason_and_an_item(agent, login, order):
    client = login(agent)
    nothing = client.post(create_url(order), {"resolution": "REFUND", "line-1-quantity": "0"})
    assert nothing.context["form"].non_field_errors()
    no_reason = client.post(create_url(order), {"resolution": "REFUND", "line-1-quantity": "1"})
    assert "line-1-reason" in no_reason.context["form"].errors
    assert not Rma.objects.filter(channel=Channel.AGENT).exists()


def test_an_override_makes_the_line_available_for_the_agent(agent, login, order):
    client = login(agent)
    client.post(override_url(order, 2), {"code": "RMA 1006", "justification": "Travel"})
    page = client.get(create_url(order))
    assert [row["verdict"].line_number for row in page.context["rows"] if row["fields"]] == [1, 2]


def test_create_return_needs_the_permission(warehouse, login, order):
    assert login(warehouse).get(create_url(order)).status_code == 403


def test_orders_are_not_edited_in_the_admin(make_staff, login, order):
    superuser = login(make_staff(None, is_superuser=True))
    assert superuser.get(reverse("admin:rma_order_add")).status_code == 403
    assert 'name="status"' not in superuser.get(change_url(order)).content.decode()


def test_order_search_by_number_or_email(agent, login, order):
    OrderFactory(order_id="SO-1000")
    client = login(agent)
    changelist = reverse("admin:rma_order_changelist")
    found = client.get(changelist, {"q": "so-100"}).context["cl"].result_list
    assert [o.order_id for o in found] == ["SO-100"]
    by_email = client.get(changelist, {"q": "ADA@example.com"}).context["cl"].result_list
    assert len(by_email) == 2


def test_order_page_lists_the_returns_of_the_order(agent, login, order):
    rma = RmaFactory(order=order)
    response = login(agent).get(change_url(order))
    assert rma in list(response.context["order_rmas"])
