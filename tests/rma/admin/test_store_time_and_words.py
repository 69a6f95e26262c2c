"""Admin pages speak the store's time and words: times in the store's zone, no raw codes."""

import datetime as dt

import pytest
from django.urls import reverse

from rma.admin.wording import EVENT_LABELS, event_label, rule_label, status_label
from rma.models import Notification, Order, Rma, RmaEvent
from tests.factories import (
    EligibilityOverrideFactory,
    OrderLineFactory,
    RmaEventFactory,
    StoreFactory,
    rma_with_lines,
)

pytestmark = pytest.mark.django_db

# 23:30 UTC on March 1st is 00:30 on March 2nd in Berlin (CET, UTC+1).
MOMENT = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)


@pytest.fixture
def berlin_rma():
    store = StoreFactory(code="BERLIN", timezone="Europe/Berlin")
    rma = rma_with_lines(1, order__store=store)
    Rma.objects.filter(pk=rma.pk).update(created_at=MOMENT)
    Order.objects.filter(pk=rma.order_id).update(placed_at=MOMENT, delivered_at=MOMENT)
    event = RmaEventFactory(
        rma=rma, type="rma.authorized", data={"from": "REQUESTED", "to": "AUTHORIZED"}
    )
    RmaEvent.objects.filter(pk=event.pk).update(created_at=MOMENT)
    Notification.objects.create(
        rma=rma, kind="confirmation", recipient="ada@example.com", idempotency_key="tz"
    )
    return Rma.objects.get(pk=rma.pk)


def test_lists_show_each_rows_time_in_its_store_zone(agent, login, berlin_rma):
    client = login(agent)
    for url in (
        reverse("admin:rma_rma_changelist"),
        reverse("admin:rma_order_changelist"),
        reverse("admin:rma_rmaevent_changelist"),
    ):
        page = client.get(url).content.decode()
        assert "2026-03-02 00:30 CET" in page, url
        assert 'datetime="2026-03-02T00:30:00+01:00"' in page, url


def test_change_pages_are_in_the_store_zone(agent, login, berlin_rma):
    client = login(agent)
    page = client.get(reverse("admin:rma_rma_change", args=[berlin_rma.pk])).content.decode()
    assert "Times are in the store's time zone (Europe/Berlin)." in page
    # The timeline and the date fields, rendered in Berlin: March 2nd, 00:30.
    assert page.count("March 2, 2026, 12:30 a.m.") == 2  # created, and the event
    assert "March 1, 2026, 11:30 p.m." not in page
    order_page = client.get(
        reverse("admin:rma_order_change", args=[berlin_rma.order_id])
    ).content.decode()
    assert "Europe/Berlin" in order_page


def test_the_timeline_and_emails_are_in_words(agent, login, berlin_rma):
    page = login(agent).get(reverse("admin:rma_rma_change", args=[berlin_rma.pk])).content.decode()
    assert '<td data-type="rma.authorized">Approved</td>' in page
    assert "Requested → Authorized" in page
    assert '<td data-kind="confirmation">Confirmation</td>' in page
    # The line's reason in the store's words first, its code beneath.
    assert 'Too small<br><span class="quiet">TOO_SMALL</span>' in page


def test_overrides_are_listed_legibly(agent, login):
    line = OrderLineFactory(order__store=StoreFactory(code="OVR", timezone="UTC"))
    EligibilityOverrideFactory(order_line=line, code="RMA 1006", justification="Gift, late")
    page = login(agent).get(reverse("admin:rma_eligibilityoverride_changelist")).content.decode()
    assert rule_label("RMA 1006") in page
    assert "Gift, late" in page
    assert "never" in page


def test_every_event_type_recorded_by_the_code_has_words():
    import pathlib
    import re

    from django.conf import settings

    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for app in ("rma", "labels", "payments", "catalogue")
        for path in pathlib.Path(settings.BASE_DIR, app).rglob("*.py")
    )
    recorded = set(re.findall(r'(?:EVENT_\w+|type)\s*=\s*"((?:rma|notification)\.\w+)"', sources))
    assert recorded, "the scan found no event types"
    assert recorded - set(EVENT_LABELS) == set()


def test_words_fall_back_to_the_code():
    assert event_label("rma.something_new") == "rma.something_new"
    assert status_label("AUTHORIZED") == "Authorized"
    assert status_label("") == "—"
    assert rule_label("RMA 9999") == "RMA 9999"
