"""The return form: line fields only for the lines a request sends, refusals on their field."""

import pytest
from django.http import QueryDict
from django.utils import timezone

from rma.eligibility import evaluate_order
from rma.errors import LineFailure, RequestError, RmaError
from rma.policy import StorePolicy
from rma.portal.forms import ReturnForm
from rma.selectors import order_for_eligibility
from tests.factories import OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_lines(order):
    OrderLineFactory(order=order, line_number=3, title="Mug", quantity=3)
    return order_for_eligibility(store=order.store, order_id=order.order_id)


def return_form(order, data=None):
    verdicts = evaluate_order(order, now=timezone.now())
    return ReturnForm(data, verdicts=verdicts, policy=StorePolicy.of(order.store))


def test_an_unbound_form_has_no_line_fields(three_lines):
    form = return_form(three_lines)
    assert sorted(form.fields) == ["comment", "resolution"]
    assert form.line_values(3) == (False, "1", "")


def test_a_bound_form_has_fields_for_the_lines_it_selects(three_lines):
    data = QueryDict(mutable=True)
    data.update({"line-3-selected": "on", "line-3-quantity": "2", "line-1-reason": "TOO_SMALL"})
    data.update({"line-1-quantity": "two", "line-99-selected": "on", "resolution": "REFUND"})
    form = return_form(three_lines, data)
    assert form.is_valid()  # line 1 is not selected: its quantity is not read
    assert sorted(name for name in form.fields if name.startswith("line-")) == [
        "line-3-exchange",
        "line-3-photo",
        "line-3-quantity",
        "line-3-reason",
        "line-3-selected",
    ]
    assert [(line.line_number, line.quantity) for line in form.requested_lines()] == [
        (3, 2),
        (99, 0),
    ]
    assert form.line_values(1) == (False, "two", "TOO_SMALL")
    assert form.line_values(3) == (True, "2", "")


@pytest.mark.parametrize(
    ("refusal", "field"),
    [
        (RmaError("RMA 1006", items=[LineFailure(3, "RMA 1006")]), "line-3-selected"),
        (RequestError("Unknown reason", field="line-3-reason"), "line-3-reason"),
    ],
)
def test_a_refusal_of_a_line_not_sent_still_lands_on_its_field(three_lines, refusal, field):
    form = return_form(
        three_lines, {"line-1-selected": "on", "line-1-quantity": "1", "resolution": "REFUND"}
    )
    assert form.is_valid()
    form.add_refusal(refusal, order=three_lines)
    assert list(form.errors) == [field]
    assert form.line_errors(3)[field.rsplit("-", 1)[1]]
    assert form.error_summary()[0][0] == f"id_{field}"
