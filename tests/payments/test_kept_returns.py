"""Keep the item: lines under `keep_item_below` become an RMA of their own, resolved when it
is requested, without a label, the money recorded as at any resolution."""

from decimal import Decimal

import pytest
from django.utils import timezone

from payments.models import Refund, RefundStatus, StoreCredit
from rma.eligibility import evaluate_order
from rma.errors import RmaError, TransitionError
from rma.estimates import rma_estimates
from rma.models import LabelStatus, Notification, Rma, RmaEvent, RmaStatus
from rma.selectors import orders_for_eligibility
from rma.services.actors import Actor
from rma.services.rma_request import RequestedLine, rma_request
from rma.services.rma_resolve import rma_resolve_kept
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory, SupplierFactory

pytestmark = pytest.mark.django_db

FEE = {"amount": "4.95", "waived_for_resolutions": [], "waived_when_seller_fault": True}
REVIEW = [
    {"code": "TOO_SMALL", "description": "Too small"},
    {"code": "BROKEN", "description": "Broken", "requires_review": True},
]


@pytest.fixture
def order():
    store = StoreFactory(
        policy={
            "return_fee": FEE,
            "keep_item_below": "8.00",
            "store_credit_bonus_percent": "10",
            "reasons": REVIEW,
        }
    )
    order = OrderFactory(store=store, payment_provider="stripe")
    OrderLineFactory(order=order, line_number=1, quantity=2, unit_price=Decimal("5.00"))
    OrderLineFactory(order=order, line_number=2, quantity=1, unit_price=Decimal("30.00"))
    return order


def request(order, *lines, resolution="REFUND", **options):
    return rma_request(
        order=order,
        lines=[RequestedLine(number, quantity, reason) for number, quantity, reason in lines],
        resolution=resolution,
        actor=Actor.shopper(order.customer_email),
        channel="PORTAL",
        **options,
    )


def events(rma):
    return list(RmaEvent.objects.filter(rma=rma).order_by("id").values_list("type", "data"))


def test_all_kept_is_resolved_without_label_and_refunded_through_stripe(
    order, stripe_api, django_capture_on_commit_callbacks
):
    order.payment_intent = stripe_api.payment_intent(1000)
    order.save()

    with django_capture_on_commit_callbacks(execute=True):
        (rma,) = request(order, (1, 2, "TOO_SMALL"))

    rma.refresh_from_db()
    assert (rma.status, rma.label_status) == (RmaStatus.RESOLVED, LabelStatus.NOT_REQUIRED)
    assert rma.received_at is None and rma.resolved_at is not None
    assert [(line.received_quantity, line.refund_amount) for line in rma.lines.all()] == [
        (2, Decimal("10.00"))  # no return fee, no restocking fee: nothing comes back
    ]
    types = [event_type for event_type, _ in events(rma)]
    assert types == ["rma.created", "rma.authorized", "rma.resolved", "rma.refunded"]
    resolved = dict(events(rma))["rma.resolved"]
    assert resolved["kept"] is True and resolved["refund_total"] == "10.00"
    refund = Refund.objects.get(rma=rma)
    assert (refund.status, refund.amount) == (RefundStatus.SUCCEEDED, Decimal("10.00"))
    # The confirmation (no label to wait for) tells the shopper to keep the items.
    assert Notification.objects.get(rma=rma).kind == "confirmation"
    # The units are settled: not returnable again.
    verdict = next(
        v
        for v in evaluate_order(orders_for_eligibility().get(pk=order.pk), now=timezone.now())
        if v.line_number == 1
    )
    assert verdict.returnable_quantity == 0


def test_kept_store_credit_goes_into_the_ledger_with_the_bonus(order):
    (rma,) = request(order, (1, 1, "TOO_SMALL"), resolution="STORE_CREDIT")

    credit = StoreCredit.objects.get(rma=rma)
    assert (credit.amount, credit.balance) == (Decimal("5.50"), Decimal("5.50"))
    (line,) = rma.lines.all()
    assert (line.outcome, line.store_credit_code) == ("STORE_CREDIT", credit.code)


def test_mixed_request_splits_the_kept_lines_and_charges_the_fee_once(order):
    kept, sent = request(order, (1, 2, "TOO_SMALL"), (2, 1, "TOO_SMALL"))

    assert (kept.status, sent.status) == (RmaStatus.RESOLVED, RmaStatus.AUTHORIZED)
    assert [line.order_line.line_number for line in kept.lines.all()] == [1]
    assert [line.order_line.line_number for line in sent.lines.all()] == [2]
    estimates = rma_estimates(Rma.objects.filter(pk__in=[kept.pk, sent.pk]).order_by("id"))
    assert estimates[kept.pk].to_api()["total"] == "10.00"
    assert estimates[sent.pk].to_api() == {
        "currency": "USD",
        "subtotal": "30.00",
        "fees": "4.95",
        "bonus": "0.00",
        "total": "25.05",
    }
    # One confirmation for the whole request, naming both.
    (notification,) = Notification.objects.filter(kind="confirmation")
    assert sorted(notification.rma_ids) == sorted([kept.pk, sent.pk])


def test_kept_lines_split_per_destination(order):
    supplier = SupplierFactory(store=order.store)
    OrderLineFactory(
        order=order, line_number=3, quantity=1, unit_price=Decimal("4.00"), supplier=supplier
    )

    rmas = request(order, (1, 1, "TOO_SMALL"), (3, 1, "TOO_SMALL"))

    assert [(rma.supplier_id, rma.status) for rma in rmas] == [
        (None, RmaStatus.RESOLVED),
        (supplier.pk, RmaStatus.RESOLVED),
    ]


@pytest.mark.parametrize(
    ("line", "resolution"),
    [
        ((1, 1, "BROKEN"), "REFUND"),  # a reason that needs review: sent back
        ((1, 1, "TOO_SMALL"), "EXCHANGE"),  # an exchange needs the item
    ],
)
def test_lines_that_are_not_kept(order, line, resolution):
    (rma,) = request(order, line, resolution=resolution)

    assert rma.status in (RmaStatus.REQUESTED, RmaStatus.AUTHORIZED)
    assert not rma.lines.filter(outcome__gt="").exists()


def test_goods_taken_at_a_counter_are_not_split(order):
    (rma,) = request(order, (1, 1, "TOO_SMALL"), (2, 1, "TOO_SMALL"), items_received=True)

    assert rma.status == RmaStatus.RECEIVED


def test_a_refused_request_writes_no_kept_rma(order):
    with pytest.raises(RmaError):
        request(order, (1, 1, "TOO_SMALL"), (2, 5, "TOO_SMALL"))  # 5 > ordered

    assert not Rma.objects.exists()
    assert not StoreCredit.objects.exists()


def test_resolving_as_kept_refuses_an_rma_with_lines_to_send_back(order):
    (rma,) = request(order, (2, 1, "TOO_SMALL"))
    estimate = rma_estimates([rma])[rma.pk]

    with pytest.raises(TransitionError):
        rma_resolve_kept(rma=rma, actor=Actor.system("test"), estimate=estimate)

    rma.refresh_from_db()
    assert rma.status == RmaStatus.AUTHORIZED
    assert not rma.lines.filter(outcome__gt="").exists()
