"""Staff for the console's screens: the care groups, supervisors with the policy permissions."""

import pytest
from django.contrib.auth.models import Permission

from tests.rma.admin.conftest import (  # noqa: F401 - fixtures shared with the rma admin tests
    AGENT,
    SUPERVISOR,
    agent,
    care_groups,
    login,
    make_staff,
)

POLICY_PERMISSIONS = ("view_policyversion", "edit_store_policy", "simulate_store_policy")


@pytest.fixture
def supervisor(make_staff, care_groups):  # noqa: F811
    """A supervisor; the group holds the policy permissions as the policies migration gives."""
    group = care_groups[SUPERVISOR]
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="policies", codename__in=POLICY_PERMISSIONS
        )
    )
    return make_staff(SUPERVISOR, username="sue")
