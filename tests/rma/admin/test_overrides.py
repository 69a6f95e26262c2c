"""The override service: who may lift which rule, with a justification, on record."""

import datetime as dt

import pytest
from django.utils import timezone

from rma.eligibility import evaluate_order
from rma.errors import RequestError
from rma.models import EligibilityOverride, RmaStatus
from rma.selectors import orders_for_eligibility
from rma.services.overrides import OverrideNotAllowed, eligibility_override
from tests.factories import OrderFactory, OrderLineFactory, RmaLineFactory, StoreFactory

from .conftest import SUPERVISOR, WAREHOUSE

pytestmark = pytest.mark.django_db


def failing_line(code: str):
    """An order line that fails exactly `code` (and nothing else)."""
    now = timezone.now()
    store = StoreFactory(
        policy={
            "allowed_countries": ["CA"] if code == "RMA 1015" else [],
            "excluded_states": ["PA"] if code == "RMA 1017" else [],
            "excluded_departments": ["Gift Cards"],
        }
    )
    order = OrderFactory(
        store=store,
        status="PLACED" if code == "RMA 1008" else "DELIVERED",
        delivered_at=now - dt.timedelta(days=60 if code == "RMA 1006" else 2),
    )
    line = OrderLineFactory(
        order=order,
        line_number=1,
        quantity=1,
        hazmat=code == "RMA 1016",
        final_sale=code == "RMA 1019",
        department="Gift Cards" if code == "RMA 1020" else "Accessories",
    )
    if code == "RMA 1007":
        RmaLineFactory(rma__order=order, rma__status=RmaStatus.AUTHORIZED, order_line=line)
    assert verdict_for(line).codes == (code,)
    return line


def verdict_for(line, now=None):
    order = orders_for_eligibility().get(pk=line.order_id)
    return next(v for v in evaluate_order(order, now=now or timezone.now()) if v.line.pk == line.pk)


def override(line, code, user, justification="Customer was abroad; goodwill.", **kwargs):
    return eligibility_override(
        order_line=line, code=code, agent=user, justification=justification, **kwargs
    )


def test_agent_overrides_the_return_window_and_the_line_becomes_eligible(agent):
    line = failing_line("RMA 1006")
    record = override(line, "RMA 1006", agent)
    assert (record.agent, record.code, record.order_line) == (agent, "RMA 1006", line)
    assert record.justification == "Customer was abroad; goodwill."
    verdict = verdict_for(line)
    assert verdict.eligible
    assert [rule.code for rule in verdict.overridden] == ["RMA 1006"]


@pytest.mark.parametrize("code", ["RMA 1015", "RMA 1016", "RMA 1017", "RMA 1019", "RMA 1020"])
def test_agent_may_not_override_supervisor_codes(agent, code):
    line = failing_line(code)
    with pytest.raises(OverrideNotAllowed):
        override(line, code, agent)
    assert not EligibilityOverride.objects.exists()
    assert not verdict_for(line).eligible


@pytest.mark.parametrize(
    "code", ["RMA 1006", "RMA 1015", "RMA 1016", "RMA 1017", "RMA 1019", "RMA 1020"]
)
def test_supervisor_overrides_every_overridable_code(supervisor, code):
    line = failing_line(code)
    record = override(line, code, supervisor)
    assert record.agent == supervisor
    assert verdict_for(line).eligible


@pytest.mark.parametrize("code", ["RMA 1007", "RMA 1008"])
def test_nobody_overrides_1007_or_1008(make_staff, code):
    line = failing_line(code)
    for user in (make_staff(SUPERVISOR), make_staff(None, is_superuser=True)):
        with pytest.raises(OverrideNotAllowed, match="never"):
            override(line, code, user)
    assert not EligibilityOverride.objects.exists()


def test_warehouse_may_not_override_anything(make_staff):
    line = failing_line("RMA 1006")
    with pytest.raises(OverrideNotAllowed):
        override(line, "RMA 1006", make_staff(WAREHOUSE))


@pytest.mark.parametrize("justification", ["", "   \n"])
def test_a_justification_is_required(agent, justification):
    line = failing_line("RMA 1006")
    with pytest.raises(RequestError) as refused:
        override(line, "RMA 1006", agent, justification=justification)
    assert refused.value.field == "justification"
    assert not EligibilityOverride.objects.exists()


def test_a_rule_that_does_not_fail_is_not_overridden(make_staff):
    line = failing_line("RMA 1006")
    with pytest.raises(RequestError) as refused:
        override(line, "RMA 1016", make_staff(SUPERVISOR))
    assert refused.value.field == "code"
    assert not EligibilityOverride.objects.exists()


def test_an_expiry_in_the_past_is_refused(agent):
    line = failing_line("RMA 1006")
    with pytest.raises(RequestError):
        override(line, "RMA 1006", agent, expires_at=timezone.now() - dt.timedelta(minutes=1))


def test_an_override_stops_applying_when_it_expires(agent):
    line = failing_line("RMA 1006")
    expires_at = timezone.now() + dt.timedelta(days=3)
    override(line, "RMA 1006", agent, expires_at=expires_at)
    assert verdict_for(line).eligible
    assert verdict_for(line, now=expires_at + dt.timedelta(seconds=1)).codes == ("RMA 1006",)


def test_an_overridden_rule_may_be_overridden_again_to_extend_it(agent):
    line = failing_line("RMA 1006")
    override(line, "RMA 1006", agent, expires_at=timezone.now() + dt.timedelta(days=1))
    override(line, "RMA 1006", agent, justification="Parcel delayed by the carrier.")
    assert EligibilityOverride.objects.filter(order_line=line).count() == 2


def test_unknown_code_is_refused(agent):
    line = failing_line("RMA 1006")
    with pytest.raises(RequestError):
        override(line, "RMA 9999", agent)
