"""Fixtures for the labels tests: an authorized RMA whose package is eligible for a label."""

import pytest

from labels.adapters import IssuedLabel, LabelRequest, LabelService
from rma.models import Rma
from rma.selectors import rmas_with_lines
from tests.factories import OrderLineFactory, RmaFactory, RmaLineFactory

# The smallest file a PDF reader accepts as a PDF header; enough for storage tests.
TINY_PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture
def rma(db) -> Rma:
    """AUTHORIZED, label PENDING, one line of 1 unit: 1.2 lb, 16x12x2 in, 39.99 USD."""
    rma = RmaFactory()
    RmaLineFactory(rma=rma, order_line=OrderLineFactory(order=rma.order), quantity=1)
    return rmas_with_lines().get(pk=rma.pk)


def add_line(rma: Rma, *, quantity: int = 1, **line_fields) -> None:
    RmaLineFactory(
        rma=rma, order_line=OrderLineFactory(order=rma.order, **line_fields), quantity=quantity
    )


class FakeLabelService(LabelService):
    """Records every request; answers with `answers` in turn (an exception is raised)."""

    name = "fake"

    def __init__(self, *answers):
        self.requests: list[LabelRequest] = []
        self.answers = list(answers)
        self.on_issue = None

    def issue(self, request: LabelRequest) -> IssuedLabel:
        self.requests.append(request)
        if self.on_issue is not None:
            self.on_issue(request)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        number = len(self.requests)
        return answer or IssuedLabel(
            carrier="FAKE", tracking_number=f"TRACK{number}", pdf=TINY_PDF + str(number).encode()
        )


@pytest.fixture
def fake_service(monkeypatch) -> FakeLabelService:
    service = FakeLabelService()
    monkeypatch.setattr("labels.services.get_label_service", lambda: service)
    return service
