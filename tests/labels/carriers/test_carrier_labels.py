"""Carrier labels (LABEL_SERVICE easypost, shippo) bought through the official libraries,
against local fakes of the carriers' APIs."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from labels.adapters import PermanentLabelError, TransientLabelError
from labels.models import ReturnLabel
from labels.services import label_issue
from rma.models import LabelStatus, RmaEvent
from rma.tasks import issue_label
from tests.labels.carriers.support import carrier_rma
from tests.labels.fake_carrier import Answer, AnswerAfter

pytestmark = pytest.mark.django_db

# The fakes' cheapest USPS/UPS rate under 15.00 (FedEx is cheaper, and not allowed).
EXPECTED = {
    "easypost": ("USPS", "Priority", Decimal("7.50")),
    "shippo": ("USPS", "Priority Mail", Decimal("7.40")),
}


def test_label_is_bought_at_the_cheapest_allowed_rate(carrier):
    rma = carrier_rma()

    label = label_issue(rma_id=rma.pk)

    rma.refresh_from_db()
    name = label.service
    assert name in EXPECTED
    assert (label.carrier, label.service_level, label.rate) == EXPECTED[name]
    assert label.rate_currency == "USD"
    assert len(carrier.purchases) == 1
    assert label.status == LabelStatus.ISSUED
    assert label.shipment_id and label.tracking_number
    assert (rma.label_status, rma.label_carrier, rma.label_tracking_number) == (
        LabelStatus.ISSUED,
        "USPS",
        label.tracking_number,
    )
    with default_storage.open(label.file.name, "rb") as stored:
        page = PdfReader(BytesIO(stored.read())).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (288, 432)
    event = RmaEvent.objects.get(rma=rma, type="rma.label_issued")
    assert event.data["rate"] == str(EXPECTED[name][2])
    assert event.data["shipmentId"] == label.shipment_id


def test_easypost_is_asked_for_a_return_shipment_of_the_rma_parcel(easypost):
    rma = carrier_rma()

    label_issue(rma_id=rma.pk)

    [create] = easypost.calls_to("create")
    shipment = create.body["shipment"]
    assert shipment["is_return"] is True
    assert shipment["reference"] == rma.rma_number
    # EasyPost swaps the addresses of a return: given as the outbound shipment had them.
    assert shipment["to_address"]["street1"] == "12 Elm St"
    assert shipment["to_address"]["name"] == "Ada Lovelace"
    assert shipment["from_address"]["street1"] == rma.store.return_address["line1"]
    # 1.2 lb in ounces; 16 x 12 x 2 in.
    assert shipment["parcel"] == {"weight": 19.2, "length": 16.0, "width": 12.0, "height": 2.0}
    assert shipment["options"] == {"label_format": "PDF", "label_size": "4x6"}
    [buy] = easypost.calls_to("buy")
    assert buy.body == {
        "rate": {"id": easypost.shipments[buy.path.split("/")[3]]["rates"][0]["id"]}
    }


def test_shippo_is_asked_for_a_return_shipment_and_a_4x6_pdf(shippo):
    rma = carrier_rma()

    label_issue(rma_id=rma.pk)

    [create] = shippo.calls_to("create")
    assert create.body["extra"]["is_return"] is True
    assert "qr_code_requested" not in create.body["extra"]
    assert create.body["address_to"]["street1"] == "12 Elm St"
    assert create.body["address_from"]["zip"] == rma.store.return_address["postal_code"]
    [parcel] = create.body["parcels"]
    assert (parcel["weight"], parcel["mass_unit"], parcel["length"]) == ("1.2", "lb", "16")
    [buy] = shippo.calls_to("buy")
    assert buy.body["label_file_type"] == "PDF_4x6"
    assert buy.body["async"] is False
    assert buy.body["rate"] == shippo.shipments["shipment0001"]["rates"][0]["object_id"]


@pytest.mark.parametrize("policy", [{"max_rate": "5.00"}, {"carriers": ["DHL"]}])
def test_no_allowed_rate_fails_the_label_for_an_agent_and_buys_nothing(carrier, policy):
    rma = carrier_rma(label_policy=policy)

    issue_label.delay(rma_id=rma.pk)

    rma.refresh_from_db()
    label = ReturnLabel.objects.get(rma=rma)
    assert rma.label_status == LabelStatus.FAILED
    assert label.status == LabelStatus.FAILED
    assert label.failure_reason.startswith("No rate allowed by the store's label policy")
    assert "USPS" in label.failure_reason  # what was offered, for the agent
    assert rma.label_failure_reason == label.failure_reason
    assert carrier.purchases == []
    assert RmaEvent.objects.filter(rma=rma, type="rma.label_failed").count() == 1


def test_a_carrier_refusal_fails_the_label_at_once_with_the_carriers_message(carrier):
    carrier.then("create", Answer(422))
    rma = carrier_rma()

    issue_label.delay(rma_id=rma.pk)

    rma.refresh_from_db()
    assert rma.label_status == LabelStatus.FAILED
    assert "scripted" in rma.label_failure_reason
    assert "422" in rma.label_failure_reason
    assert len(carrier.calls_to("create")) == 1
    assert carrier.purchases == []


def test_a_server_error_is_transient_and_the_retry_does_not_create_a_second_shipment(carrier):
    carrier.then("buy", Answer(500))
    rma = carrier_rma()

    with pytest.raises(TransientLabelError):
        label_issue(rma_id=rma.pk)
    label = ReturnLabel.objects.get(rma=rma)
    assert label.status == LabelStatus.PENDING
    assert label.shipment_id  # saved before buying
    assert label.claimed_until is None

    label = label_issue(rma_id=rma.pk)

    assert label.status == LabelStatus.ISSUED
    assert len(carrier.calls_to("create")) == 1
    assert len(carrier.calls_to("buy")) == 2
    assert len(carrier.purchases) == 1


def test_a_purchase_whose_answer_was_lost_is_not_bought_again(carrier):
    # The carrier bought the label, then answered 500: the retry finds the purchase.
    carrier.then("buy", AnswerAfter(500))
    rma = carrier_rma()

    with pytest.raises(TransientLabelError):
        label_issue(rma_id=rma.pk)
    label = label_issue(rma_id=rma.pk)

    assert label.status == LabelStatus.ISSUED
    assert len(carrier.calls_to("buy")) == 1
    assert len(carrier.purchases) == 1
    assert label.attempts == 2


def test_wrong_credentials_are_a_permanent_failure(carrier, settings):
    settings.EASYPOST_API_KEY = settings.SHIPPO_API_KEY = "wrong"
    rma = carrier_rma()

    with pytest.raises(PermanentLabelError, match="401"):
        label_issue(rma_id=rma.pk)
    assert carrier.purchases == []


def test_an_unreachable_carrier_is_transient(settings, easypost):
    settings.EASYPOST_API_BASE = "http://127.0.0.1:1/v2"
    rma = carrier_rma()

    with pytest.raises(TransientLabelError):
        label_issue(rma_id=rma.pk)
    assert ReturnLabel.objects.get(rma=rma).status == LabelStatus.PENDING


def test_shippo_calls_go_through_the_outbound_guard(shippo, settings):
    settings.ALLOW_PRIVATE_OUTBOUND = False
    rma = carrier_rma()

    with pytest.raises(PermanentLabelError, match="Address not allowed"):
        label_issue(rma_id=rma.pk)
    assert shippo.calls == []  # refused before connecting


def test_a_carrier_label_url_on_a_private_address_is_not_downloaded(easypost, settings):
    # EasyPost's own client is not guarded (see docs/labels.md); the label download is.
    settings.ALLOW_PRIVATE_OUTBOUND = False
    rma = carrier_rma()

    with pytest.raises(PermanentLabelError, match="Address not allowed"):
        label_issue(rma_id=rma.pk)
    assert easypost.calls_to("file") == []
