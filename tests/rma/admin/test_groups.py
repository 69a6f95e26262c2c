"""The staff groups of the data migration: each group can do exactly its job."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission

from rma.eligibility import RULES, can_override

from .conftest import AGENT, SUPERVISOR, WAREHOUSE, groups_migration

pytestmark = pytest.mark.django_db

ALL_CODES = sorted(RULES)

# (group, code) -> may override; the table of docs/eligibility.md.
OVERRIDES = {
    AGENT: {"RMA 1006"},
    SUPERVISOR: {
        "RMA 1006",
        "RMA 1015",
        "RMA 1016",
        "RMA 1017",
        "RMA 1019",
        "RMA 1020",
        "RMA 1024",
    },
    WAREHOUSE: set(),
}


@pytest.mark.parametrize("group", [AGENT, SUPERVISOR, WAREHOUSE])
@pytest.mark.parametrize("code", ALL_CODES)
def test_who_may_override_which_code(make_staff, group, code):
    user = make_staff(group)
    assert can_override(user, code) is (code in OVERRIDES[group])


@pytest.mark.parametrize("code", ["RMA 1007", "RMA 1008"])
def test_nobody_overrides_1007_or_1008_not_even_a_superuser(make_staff, code):
    assert can_override(make_staff(None, is_superuser=True), code) is False


POWERS = [
    "rma.approve_rma",
    "rma.cancel_rma",
    "rma.create_rma_for_customer",
    "rma.resend_notification",
    "rma.reissue_label",
    "rma.receive_rma",
    "rma.resolve_rma",
    "rma.view_dashboard",
    "rma.replay_webhookdelivery",
    "rma.add_eligibilityoverride",
    "rma.change_webhookendpoint",
    "rma.view_apikey",
    "rma.change_rma",
    "rma.delete_rma",
    "rma.change_order",
    "rma.add_apikey",
]
EXPECTED_POWERS = {
    AGENT: {
        "rma.approve_rma",
        "rma.cancel_rma",
        "rma.create_rma_for_customer",
        "rma.resend_notification",
        "rma.reissue_label",
        "rma.resolve_rma",
        "rma.view_dashboard",
        "rma.add_eligibilityoverride",
    },
    WAREHOUSE: {"rma.receive_rma"},
}
EXPECTED_POWERS[SUPERVISOR] = EXPECTED_POWERS[AGENT] | {
    "rma.receive_rma",
    "rma.replay_webhookdelivery",
    "rma.change_webhookendpoint",
    "rma.view_apikey",
}


@pytest.mark.parametrize("group", [AGENT, SUPERVISOR, WAREHOUSE])
def test_each_group_holds_exactly_its_powers(make_staff, group):
    user = make_staff(group)
    assert {perm for perm in POWERS if user.has_perm(perm)} == EXPECTED_POWERS[group]


@pytest.mark.parametrize("group", [AGENT, SUPERVISOR, WAREHOUSE])
def test_every_group_may_look_up_returns_and_orders(make_staff, group):
    user = make_staff(group)
    assert user.has_perms(["rma.view_rma", "rma.view_order", "rma.view_rmaevent"])


def test_only_care_sees_emails_and_webhook_deliveries(make_staff):
    assert make_staff(AGENT).has_perm("rma.view_notification")
    assert not make_staff(WAREHOUSE).has_perm("rma.view_notification")
    assert not make_staff(WAREHOUSE).has_perm("rma.view_webhookdelivery")


def test_running_the_migration_again_changes_nothing(care_groups):
    from django.apps import apps

    before = {
        group.name: set(group.permissions.values_list("codename", flat=True))
        for group in Group.objects.all()
    }
    permissions = Permission.objects.count()
    groups_migration.create_groups(apps)
    after = {
        group.name: set(group.permissions.values_list("codename", flat=True))
        for group in Group.objects.all()
    }
    assert after == before
    assert Permission.objects.count() == permissions
    assert before[AGENT] == set(groups_migration.GROUP_PERMISSIONS[AGENT])


def test_anonymous_user_has_no_override_power():
    assert not any(can_override(AnonymousUser(), code) for code in ALL_CODES)
