"""Every one of the 7 x 7 status moves through `rma_transition`, against the lifecycle table."""

import itertools

import pytest

from rma.errors import TransitionError
from rma.followups import NOTIFICATION_FOR_STATUS
from rma.models import Notification, RmaEvent, RmaStatus, WebhookDelivery
from rma.services.actors import Actor
from rma.services.rma_status import rma_transition
from rma.transitions import ALLOWED_TRANSITIONS, EVENT_FOR_STATUS
from tests.factories import UserFactory, WebhookEndpointFactory, rma_with_lines

pytestmark = pytest.mark.django_db

PAIRS = list(itertools.product(RmaStatus.values, repeat=2))
ALLOWED = [(a, b) for a, b in PAIRS if b in ALLOWED_TRANSITIONS[a]]
DISALLOWED = [(a, b) for a, b in PAIRS if b not in ALLOWED_TRANSITIONS[a]]


def test_the_table_covers_the_lifecycle_of_the_spec():
    assert len(PAIRS) == 49
    assert sorted(ALLOWED) == sorted(
        [
            ("REQUESTED", "AUTHORIZED"),
            ("REQUESTED", "REJECTED"),
            ("REQUESTED", "CANCELLED"),
            ("AUTHORIZED", "RECEIVED"),
            ("AUTHORIZED", "CANCELLED"),
            ("AUTHORIZED", "EXPIRED"),
            ("RECEIVED", "RESOLVED"),
        ]
    )


@pytest.fixture
def actor():
    return Actor.agent(UserFactory(username="agent"))


def rma_in(status):
    rma = rma_with_lines(1, status=status)
    WebhookEndpointFactory(store=rma.store)
    return rma


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED, ids="{0[0]}->{0[1]}".format)
def test_allowed_move_succeeds_with_one_event_and_its_follow_ups(
    actor, from_status, to_status, django_capture_on_commit_callbacks
):
    rma = rma_in(from_status)
    with django_capture_on_commit_callbacks() as callbacks:
        moved = rma_transition(rma=rma, to_status=to_status, actor=actor, data={"note": "x"})
    assert moved.status == rma.status == to_status
    rma.refresh_from_db()
    assert rma.status == to_status
    event = RmaEvent.objects.get(rma=rma)
    assert event.type == EVENT_FOR_STATUS[to_status]
    assert event.data == {"from": from_status, "to": to_status, "note": "x"}
    assert event.actor_user == actor.user
    delivery = WebhookDelivery.objects.get(rma=rma)
    assert (delivery.event, delivery.payload["status"]) == (event.type, to_status)
    kinds = set(Notification.objects.filter(rma=rma).values_list("kind", flat=True))
    expected = (
        {"confirmation"} if to_status == "AUTHORIZED" else {NOTIFICATION_FOR_STATUS[to_status]}
    )
    assert kinds == expected
    assert callbacks, "follow-up work is enqueued only after commit"


@pytest.mark.parametrize(("from_status", "to_status"), DISALLOWED, ids="{0[0]}->{0[1]}".format)
def test_disallowed_move_raises_and_writes_nothing(
    actor, from_status, to_status, django_capture_on_commit_callbacks
):
    rma = rma_in(from_status)
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(TransitionError) as refused,
    ):
        rma_transition(rma=rma, to_status=to_status, actor=actor)
    assert (refused.value.from_status, refused.value.to_status) == (from_status, to_status)
    assert f"from {from_status} to {to_status}" in str(refused.value)
    rma.refresh_from_db()
    assert rma.status == from_status
    assert not RmaEvent.objects.exists()
    assert not Notification.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert callbacks == []
