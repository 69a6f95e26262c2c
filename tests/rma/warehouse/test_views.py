"""Warehouse screens over the receive and resolve services: access, scanning, forms."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse

from rma.models import Notification, RmaEvent, RmaLine, RmaPhoto, RmaStatus
from rma.numbers import ALPHABET
from tests.factories import rma_with_lines

from .conftest import user_with

pytestmark = pytest.mark.django_db

SCAN = reverse("warehouse:receive_scan")


def receive_url(rma):
    return reverse("warehouse:receive", kwargs={"rma_number": rma.rma_number})


def resolve_url(rma):
    return reverse("warehouse:resolve", kwargs={"rma_number": rma.rma_number})


def wrong_check_character(number: str) -> str:
    last = number[-1]
    return number[:-1] + next(char for char in ALPHABET if char != last)


def lines(rma):
    return list(rma.lines.order_by("order_line__line_number"))


# --- access ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["receive_scan", "receive", "resolve"])
def test_anonymous_visitors_go_to_the_admin_login(client, rma, name):
    url = SCAN if name == "receive_scan" else reverse(f"warehouse:{name}", args=[rma.rma_number])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "next=" in response["Location"]


@pytest.mark.parametrize(
    ("codenames", "fields", "name", "status"),
    [
        ((), {}, "receive_scan", 403),
        (("resolve_rma",), {}, "receive", 403),
        (("receive_rma",), {"is_staff": False}, "receive_scan", 403),
        (("receive_rma",), {}, "resolve", 403),
        (("receive_rma",), {}, "receive_scan", 200),
        (("receive_rma",), {}, "receive", 200),
    ],
)
def test_only_staff_with_the_permission_get_in(client, rma, codenames, fields, name, status):
    client.force_login(user_with(*codenames, **fields))
    url = SCAN if name == "receive_scan" else reverse(f"warehouse:{name}", args=[rma.rma_number])
    assert client.get(url).status_code == status
    assert client.post(url, {}).status_code in ({403} if status == 403 else {200, 302, 422})


# --- page 1: the scan box ---------------------------------------------------------------


def test_scan_page_has_one_autofocused_labelled_input_and_no_inline_code(client, warehouse_user):
    client.force_login(warehouse_user)
    response = client.get(SCAN)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="rma-number" class="scan-label">Scan or type RMA number</label>' in html
    assert re.search(
        r'<input id="rma-number" name="rma_number" type="text" value="" autofocus', html
    )
    assert len(re.findall(r"<input(?! type=\"hidden\")[^>]*>", html)) == 1
    assert "Content-Security-Policy" in response.headers
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert "/static/warehouse/warehouse.js" in html


@pytest.mark.parametrize(
    ("typed", "status", "message"),
    [
        ("wrong-check", 422, "is not a valid RMA number"),
        ("ABC", 422, "is not a valid RMA number"),
        ("unknown", 404, "No return has the number"),
        ("requested", 409, "is Requested, not awaiting a parcel"),
        ("received", 409, "is Received, not awaiting a parcel"),
    ],
)
def test_bad_scans_are_rejected_loudly_and_the_input_is_cleared(
    client, warehouse_user, rma, typed, status, message
):
    client.force_login(warehouse_user)
    other = rma_with_lines(1)
    number = {
        "wrong-check": wrong_check_character(rma.rma_number),
        "unknown": other.rma_number,
        "requested": rma_with_lines(1, status=RmaStatus.REQUESTED).rma_number,
        "received": rma_with_lines(1, status=RmaStatus.RECEIVED).rma_number,
    }.get(typed, typed)
    if typed == "unknown":
        other.delete()
    response = client.post(SCAN, {"rma_number": number})
    html = response.content.decode()
    assert response.status_code == status
    alert = re.search(r'<div class="scan-error"[^>]*role="alert"[^>]*>(.*?)</div>', html, re.S)
    assert alert, "a big role=alert box"
    assert message in alert.group(1)
    assert 'value="" autofocus' in html
    assert f'value="{number}"' not in html


@pytest.mark.parametrize("typed", ["{n}", "{n_lower}", "{n_compact}", "  {n}  "])
def test_a_good_scan_opens_the_return_whatever_the_separators_and_case(
    client, warehouse_user, rma, typed
):
    client.force_login(warehouse_user)
    number = rma.rma_number
    typed = typed.format(n=number, n_lower=number.lower(), n_compact=number.replace("-", ""))
    response = client.post(SCAN, {"rma_number": typed})
    assert response.status_code == 302
    assert response["Location"] == receive_url(rma)


# --- page 2: what arrived ------------------------------------------------------------------


def test_receive_page_lists_the_expected_lines_prefilled(client, warehouse_user, rma):
    client.force_login(warehouse_user)
    first, second = lines(rma)
    response = client.get(receive_url(rma))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="expected-line"') == 2
    assert first.order_line.item_id in html and second.order_line.item_id in html
    form = response.context["form"]
    assert form[f"line-{first.pk}-received_quantity"].value() == 2
    assert form[f"line-{second.pk}-received_quantity"].value() == 1
    assert form[f"line-{first.pk}-condition"].value() == "AS_NEW"
    assert form[f"line-{first.pk}-disposition"].value() == "RESTOCK"
    assert html.count("autofocus") == 1
    assert re.search(rf'name="line-{first.pk}-received_quantity"[^>]*autofocus', html)


def test_receiving_records_lines_emails_the_shopper_and_returns_to_the_scan_box(
    client, warehouse_user, rma, django_capture_on_commit_callbacks
):
    client.force_login(warehouse_user)
    first, second = lines(rma)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            receive_url(rma),
            {
                f"line-{first.pk}-received_quantity": "1",
                f"line-{first.pk}-condition": "DAMAGED",
                f"line-{first.pk}-disposition": "DISPOSE",
                f"line-{second.pk}-received_quantity": "1",
                f"line-{second.pk}-condition": "AS_NEW",
                f"line-{second.pk}-disposition": "RESTOCK",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == SCAN
    rma.refresh_from_db()
    assert rma.status == RmaStatus.RECEIVED
    assert lines(rma)[0].received_quantity == 1
    assert lines(rma)[0].condition == "DAMAGED"
    event = RmaEvent.objects.get(rma=rma, type="rma.received")
    assert event.actor_user == warehouse_user
    [email] = mail.outbox
    assert email.to == [rma.order.customer_email]
    assert "We received your parcel" in email.subject

    banner = client.get(SCAN).content.decode()
    assert f"Return {rma.rma_number} received (2 items)" in banner
    assert 'role="status"' in banner


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("received_quantity", "3", "less than or equal to 2"),
        ("received_quantity", "-1", "greater than or equal to 0"),
        ("received_quantity", "two", "whole number"),
        ("condition", "LIKE_NEW", "Select a valid choice"),
        ("condition", "UNINSPECTED", "Select a valid choice"),
        ("condition", "", "Choose the condition of the 2 units received"),
        ("disposition", "", "Choose where the units received go"),
        ("other-1-quantity", "3", "less than or equal to 2"),
    ],
)
def test_bad_receipt_is_refused_on_its_field_and_nothing_is_written(
    client, warehouse_user, rma, field, value, error
):
    client.force_login(warehouse_user)
    first, second = lines(rma)
    data = {}
    for line in (first, second):
        data |= {
            f"line-{line.pk}-received_quantity": str(line.quantity),
            f"line-{line.pk}-condition": "AS_NEW",
            f"line-{line.pk}-disposition": "RESTOCK",
        }
    data[f"line-{first.pk}-{field}"] = value
    response = client.post(receive_url(rma), data)
    assert response.status_code == 422
    assert error in " ".join(response.context["form"].errors[f"line-{first.pk}-{field}"])
    assert 'role="alert"' in response.content.decode()
    rma.refresh_from_db()
    assert rma.status == RmaStatus.AUTHORIZED
    assert not RmaLine.objects.filter(received_quantity__isnull=False).exists()
    assert not RmaEvent.objects.exists()


def test_receive_page_of_a_return_not_awaiting_a_parcel_is_refused(client, warehouse_user):
    client.force_login(warehouse_user)
    cancelled = rma_with_lines(1, status=RmaStatus.CANCELLED)
    response = client.get(receive_url(cancelled))
    assert response.status_code == 409
    assert "is Cancelled" in response.content.decode()
    bad = client.get(
        reverse("warehouse:receive", args=[wrong_check_character(cancelled.rma_number)])
    )
    assert bad.status_code == 422


def test_a_parcel_received_meanwhile_is_not_received_twice(client, warehouse_user, rma):
    client.force_login(warehouse_user)
    data = {}
    for line in lines(rma):
        data |= {
            f"line-{line.pk}-received_quantity": "1",
            f"line-{line.pk}-condition": "AS_NEW",
            f"line-{line.pk}-disposition": "RESTOCK",
        }
    assert client.post(receive_url(rma), data).status_code == 302
    again = client.post(receive_url(rma), data)
    assert again.status_code == 409
    assert RmaEvent.objects.filter(type="rma.received").count() == 1


# --- resolve ---------------------------------------------------------------------------------


@pytest.fixture
def received(rma):
    rma.store.policy = {"restocking_fee_percent": "15"}
    rma.store.save()
    rma.status = RmaStatus.RECEIVED
    rma.save()
    rma.lines.update(received_quantity=1, condition="AS_NEW", disposition="RESTOCK")
    return rma


def test_resolve_page_previews_the_refund(client, resolver, received):
    client.force_login(resolver)
    response = client.get(resolve_url(received))
    html = response.content.decode()
    assert response.status_code == 200
    # 39.99 received once, TOO_SMALL is not the seller's fault: 15 % fee of 6.00.
    preview = "Refund: $39.99 \N{MINUS SIGN} restocking fee $6.00 = <strong>$33.99</strong>"
    assert html.count(preview) == 2


def test_resolving_records_outcomes_and_shows_them(
    client, resolver, received, django_capture_on_commit_callbacks
):
    client.force_login(resolver)
    first, second = lines(received)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            resolve_url(received),
            {
                f"line-{first.pk}-outcome": "REFUND",
                f"line-{second.pk}-outcome": "STORE_CREDIT",
                f"line-{second.pk}-store_credit_amount": "39.99",
                f"line-{second.pk}-store_credit_code": "",
                f"line-{second.pk}-replacement_item_id": "",
            },
        )
    assert response.status_code == 302
    received.refresh_from_db()
    assert received.status == RmaStatus.RESOLVED
    first, second = lines(received)
    assert (first.outcome, first.refund_amount) == ("REFUND", Decimal("33.99"))
    assert (second.outcome, second.store_credit_amount) == ("STORE_CREDIT", Decimal("39.99"))
    assert second.store_credit_code.startswith("SC-")
    assert [n.kind for n in Notification.objects.all()] == ["resolved"]
    page = client.get(resolve_url(received)).content.decode()
    assert f"Return {received.rma_number} is resolved." in page
    assert second.store_credit_code in page


def test_exchange_without_an_item_is_refused_on_its_field(client, resolver, received):
    client.force_login(resolver)
    first, second = lines(received)
    response = client.post(
        resolve_url(received),
        {f"line-{first.pk}-outcome": "EXCHANGE", f"line-{second.pk}-outcome": "REFUND"},
    )
    assert response.status_code == 422
    errors = response.context["form"].errors[f"line-{first.pk}-replacement_item_id"]
    assert errors == ["An exchange needs the replacement item id."]
    received.refresh_from_db()
    assert received.status == RmaStatus.RECEIVED


def test_resolve_page_of_a_return_not_received_is_refused(client, resolver, rma):
    client.force_login(resolver)
    response = client.get(resolve_url(rma))
    assert response.status_code == 409
    assert "only Received returns" in response.content.decode()


# --- choosing the condition: nothing silent --------------------------------------------------


def receipt_data(rma, **overrides):
    """Every line received in full, as new and restocked; `overrides` by field suffix."""
    data = {}
    for line in lines(rma):
        data |= {
            f"line-{line.pk}-received_quantity": str(line.quantity),
            f"line-{line.pk}-condition": "AS_NEW",
            f"line-{line.pk}-disposition": "RESTOCK",
        }
    first = lines(rma)[0]
    for name, value in overrides.items():
        data[f"line-{first.pk}-{name}"] = value
    return data


@pytest.mark.parametrize(
    ("reason", "preselected"),
    [
        ("TOO_SMALL", ("AS_NEW", "RESTOCK")),  # a fit: nothing wrong with the goods
        ("DEFECTIVE", ("", "")),  # seller fault: inspect
        ("WRONG_ITEM", ("", "")),  # seller fault: inspect
        ("NOT_AS_DESCRIBED", ("", "")),  # review and photo asked for: inspect
        ("NOT_CONFIGURED", ("", "")),  # a reason the store does not know
    ],
)
def test_the_preselection_comes_from_the_shoppers_reason_or_there_is_none(
    client, warehouse_user, rma, reason, preselected
):
    rma.store.policy = {
        "reasons": [
            {"code": "TOO_SMALL", "description": "Too small"},
            {"code": "DEFECTIVE", "description": "Does not work", "seller_fault": True},
            {"code": "WRONG_ITEM", "description": "Wrong item sent", "seller_fault": True},
            {
                "code": "NOT_AS_DESCRIBED",
                "description": "Not as described",
                "requires_review": True,
                "requires_photo": True,
            },
        ]
    }
    rma.store.save()
    first = lines(rma)[0]
    RmaLine.objects.filter(pk=first.pk).update(reason_code=reason)
    client.force_login(warehouse_user)
    response = client.get(receive_url(rma))
    form = response.context["form"]
    values = tuple(form[f"line-{first.pk}-{name}"].value() for name in ("condition", "disposition"))
    assert values == preselected
    card = re.search(r'data-line-number="1">(.*?)</tbody>', response.content.decode(), re.S)
    select = re.search(r'<select name="[^"]*-condition".*?</select>', card.group(1), re.S).group(0)
    assert f'<option value="{preselected[0]}" selected>' in select
    assert "UNINSPECTED" not in select, "never offered when receiving"
    assert ("Preselected from the shopper" in card.group(1)) is bool(preselected[0])


def test_received_units_without_a_chosen_condition_are_refused_and_nothing_is_written(
    client, warehouse_user, rma
):
    """What Enter sends for lines nobody chose anything for (no preselection)."""
    client.force_login(warehouse_user)
    first, second = lines(rma)
    data = {
        f"line-{first.pk}-received_quantity": "2",
        f"line-{first.pk}-condition": "",
        f"line-{first.pk}-disposition": "",
        f"line-{second.pk}-received_quantity": "1",
        f"line-{second.pk}-condition": "OPENED",
        f"line-{second.pk}-disposition": "",
    }
    response = client.post(receive_url(rma), data)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {
        f"line-{first.pk}-condition",
        f"line-{first.pk}-disposition",
        f"line-{second.pk}-disposition",
    }
    html = response.content.decode()
    assert "The receipt was not recorded" in html
    # The cursor waits in the first choice missing, not in the first quantity.
    assert html.count("autofocus") == 1
    assert re.search(rf'name="line-{first.pk}-condition"[^>]*autofocus', html)
    rma.refresh_from_db()
    assert rma.status == RmaStatus.AUTHORIZED
    assert not RmaLine.objects.filter(received_quantity__isnull=False).exists()
    assert not RmaLine.objects.exclude(receipt_units=[]).exists()
    assert not RmaEvent.objects.exists()
    assert mail.outbox == []


def test_nothing_received_needs_no_condition(client, warehouse_user, rma):
    client.force_login(warehouse_user)
    second = lines(rma)[1]
    data = receipt_data(rma)
    data |= {
        f"line-{second.pk}-received_quantity": "0",
        f"line-{second.pk}-condition": "",
        f"line-{second.pk}-disposition": "",
    }
    assert client.post(receive_url(rma), data).status_code == 302
    second.refresh_from_db()
    assert (second.received_quantity, second.condition, second.receipt_units) == (0, "", [])
    assert RmaEvent.objects.get(type="rma.received").data["short"] is True


# --- units in different conditions ------------------------------------------------------------


def test_one_unit_fine_one_damaged_is_recorded_per_group(client, warehouse_user, rma):
    client.force_login(warehouse_user)
    first, second = lines(rma)
    html = client.get(receive_url(rma)).content.decode()
    # Two units expected on the first line: one other group offered; none for one unit.
    assert f'name="line-{first.pk}-other-1-quantity"' in html
    assert f'name="line-{first.pk}-other-2-quantity"' not in html
    assert f'name="line-{second.pk}-other-1-quantity"' not in html

    data = receipt_data(rma)
    data |= {
        f"line-{first.pk}-other-1-quantity": "1",
        f"line-{first.pk}-other-1-condition": "DAMAGED",
        f"line-{first.pk}-other-1-disposition": "DISPOSE",
    }
    assert client.post(receive_url(rma), data).status_code == 302
    first.refresh_from_db()
    assert first.received_quantity == 2
    assert first.receipt_units == [
        {"quantity": 1, "condition": "AS_NEW", "disposition": "RESTOCK"},
        {"quantity": 1, "condition": "DAMAGED", "disposition": "DISPOSE"},
    ]
    assert (first.condition, first.disposition) == ("DAMAGED", "DISPOSE")


def test_every_unit_in_the_other_group_needs_no_choice_for_the_rest(client, warehouse_user, rma):
    client.force_login(warehouse_user)
    first = lines(rma)[0]
    data = receipt_data(rma, condition="", disposition="")
    data |= {
        f"line-{first.pk}-other-1-quantity": "2",
        f"line-{first.pk}-other-1-condition": "DEFECTIVE",
        f"line-{first.pk}-other-1-disposition": "RETURN_TO_VENDOR",
    }
    assert client.post(receive_url(rma), data).status_code == 302
    first.refresh_from_db()
    assert first.receipt_units == [
        {"quantity": 2, "condition": "DEFECTIVE", "disposition": "RETURN_TO_VENDOR"}
    ]


@pytest.mark.parametrize(
    ("other", "field", "error"),
    [
        (
            {"quantity": "1", "condition": "", "disposition": "DISPOSE"},
            "other-1-condition",
            "Choose the condition of these units",
        ),
        (
            {"quantity": "1", "condition": "DAMAGED", "disposition": ""},
            "other-1-disposition",
            "Choose where these units go",
        ),
        (
            {"quantity": "1", "condition": "UNINSPECTED", "disposition": "DISPOSE"},
            "other-1-condition",
            "Select a valid choice",
        ),
    ],
)
def test_an_other_group_without_its_choices_is_refused(
    client, warehouse_user, rma, other, field, error
):
    client.force_login(warehouse_user)
    first = lines(rma)[0]
    data = receipt_data(rma)
    data |= {f"line-{first.pk}-other-1-{name}": value for name, value in other.items()}
    response = client.post(receive_url(rma), data)
    assert response.status_code == 422
    assert error in " ".join(response.context["form"].errors[f"line-{first.pk}-{field}"])
    assert re.search(r"<details open", response.content.decode()), "the group is shown"
    assert not RmaLine.objects.filter(received_quantity__isnull=False).exists()


def test_other_groups_beyond_the_received_quantity_are_refused(client, warehouse_user, rma):
    client.force_login(warehouse_user)
    first = lines(rma)[0]
    data = receipt_data(rma, received_quantity="1")
    data |= {
        f"line-{first.pk}-other-1-quantity": "2",
        f"line-{first.pk}-other-1-condition": "DAMAGED",
        f"line-{first.pk}-other-1-disposition": "DISPOSE",
    }
    response = client.post(receive_url(rma), data)
    assert response.status_code == 422
    assert response.context["form"].errors[f"line-{first.pk}-other-1-quantity"] == [
        "2 units in other conditions, but only 1 received."
    ]
    assert not RmaEvent.objects.exists()


# --- the shopper's words beside each line -----------------------------------------------------


def test_the_shoppers_reason_comment_and_photos_are_beside_the_line(client, rma):
    first, second = lines(rma)
    RmaLine.objects.filter(pk=first.pk).update(
        reason_code="DEFECTIVE", customer_comment="The zip broke on day one."
    )
    RmaLine.objects.filter(pk=second.pk).update(
        reason_code="SIZE_RUNS_BIG", reason_description="Fits like an XL"
    )
    photo = RmaPhoto.objects.create(
        rma_line=first, image=ContentFile(b"\x89PNG fake", name="zip.png"), content_type="image/png"
    )
    photo_url = reverse("admin:rma_rma_photo", args=[rma.pk, photo.pk])
    dock = user_with("receive_rma", "view_rmaphoto", username="dock")
    client.force_login(dock)
    html = client.get(receive_url(rma)).content.decode()
    cells = re.findall(r'data-testid="shopper-reason">(.*?)</td>', html, re.S)
    assert "Defective or damaged" in cells[0]  # the store's words for DEFECTIVE
    assert "seller fault" in cells[0]
    assert "The zip broke on day one." in cells[0]
    assert f'<a href="{photo_url}"' in cells[0] and f'<img src="{photo_url}"' in cells[0]
    assert "Fits like an XL" in cells[1]  # a reason the store has not configured, in words
    # The thumbnail is the admin's private photo view, which the warehouse may open.
    response = client.get(photo_url)
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert "no-store" in response["Cache-Control"]


def test_no_photo_links_for_staff_who_may_not_see_photos(client, warehouse_user, rma):
    first = lines(rma)[0]
    RmaPhoto.objects.create(
        rma_line=first, image=ContentFile(b"\x89PNG", name="zip.png"), content_type="image/png"
    )
    client.force_login(warehouse_user)
    assert "/photos/" not in client.get(receive_url(rma)).content.decode()


# --- who resolves, and what each screen is called --------------------------------------------


def received_rma():
    rma = rma_with_lines(1)
    rma.status = RmaStatus.RECEIVED
    rma.save()
    rma.lines.update(received_quantity=1, condition="AS_NEW", disposition="RESTOCK")
    return rma


def test_the_warehouse_is_told_who_resolves(client, warehouse_user):
    rma = received_rma()
    client.force_login(warehouse_user)
    response = client.get(resolve_url(rma))
    html = response.content.decode()
    assert response.status_code == 403
    assert "“Customer care agent” and “Customer care supervisor” groups" in html
    assert rma.rma_number not in html, "nothing of the return is shown"
    assert client.post(resolve_url(rma), {}).status_code == 403
    rma.refresh_from_db()
    assert rma.status == RmaStatus.RECEIVED


def test_the_warehouse_resolves_when_the_setting_allows_it(client, warehouse_user, settings):
    settings.WAREHOUSE_CAN_RESOLVE = True
    rma = received_rma()
    line = rma.lines.get()
    client.force_login(warehouse_user)
    assert client.get(resolve_url(rma)).status_code == 200
    response = client.post(resolve_url(rma), {f"line-{line.pk}-outcome": "REFUND"})
    assert response.status_code == 302
    rma.refresh_from_db()
    assert rma.status == RmaStatus.RESOLVED
    event = RmaEvent.objects.get(rma=rma, type="rma.resolved")
    assert event.actor_user == warehouse_user


@pytest.mark.parametrize("may_resolve", [False, True])
def test_after_receiving_the_banner_says_what_comes_next(
    client, warehouse_user, rma, settings, may_resolve
):
    settings.WAREHOUSE_CAN_RESOLVE = may_resolve
    client.force_login(warehouse_user)
    assert client.post(receive_url(rma), receipt_data(rma)).status_code == 302
    banner = client.get(SCAN).content.decode()
    link = f'<a href="{resolve_url(rma)}">Resolve it now</a>'
    assert (link in banner) is may_resolve
    assert ("Customer care resolves it." in banner) is not may_resolve


def test_each_screen_is_titled_for_what_it_does(client, rma):
    client.force_login(user_with("receive_rma", "resolve_rma", username="lead"))
    receive_page = client.get(receive_url(rma)).content.decode()
    assert f"<title>Receive {rma.rma_number} · Warehouse receiving · Returns</title>" in (
        receive_page
    )
    done = received_rma()
    resolve_page = client.get(resolve_url(done)).content.decode()
    assert f"<title>Resolve {done.rma_number} · Resolving returns · Returns</title>" in (
        resolve_page
    )
    assert "Warehouse receiving" not in resolve_page
    assert 'data-testid="section">Resolving returns<' in resolve_page


def test_the_receive_screen_speaks_german(client, warehouse_user, rma, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    client.force_login(warehouse_user)
    RmaLine.objects.filter(pk=lines(rma)[0].pk).update(reason_code="DEFECTIVE")
    html = client.get(receive_url(rma)).content.decode()
    assert '<html lang="de">' in html
    assert "Grund der Kundschaft" in html
    assert "— wählen —" in html
    assert "kamen in anderem Zustand an" in html
    response = client.post(receive_url(rma), receipt_data(rma, condition=""))
    assert "Bitte den Zustand der 2 eingegangenen Einheiten wählen." in response.content.decode()
