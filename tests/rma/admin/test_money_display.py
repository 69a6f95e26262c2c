"""Amounts in the agents' screens are formatted with Babel in the agent's language."""

from decimal import Decimal

import pytest
from django.urls import reverse

from rma.models import RmaStatus
from tests.factories import rma_with_lines

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "shown"), [("en", "$33.99"), ("de", "33,99\xa0$")])
def test_resolved_line_amounts_on_the_rma_page(agent, login, language, shown):
    rma = rma_with_lines(1, status=RmaStatus.RESOLVED)
    rma.lines.update(outcome="REFUND", received_quantity=1, refund_amount=Decimal("33.99"))

    page = (
        login(agent)
        .get(reverse("admin:rma_rma_change", args=[rma.pk]), HTTP_ACCEPT_LANGUAGE=language)
        .content.decode()
    )

    assert shown in page
    assert "33.99 USD" not in page
