"""Users and returns for the warehouse screens."""

import pytest
from django.contrib.auth.models import Permission

from rma.models import StaffStoreAccess
from tests.factories import UserFactory, rma_with_lines


def user_with(*codenames, stores=None, **fields):
    """A staff user with `codenames`; of every store by default, or only of `stores`."""
    user = UserFactory(**fields)
    if stores is None:
        codenames = (*codenames, "view_all_stores")
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    for store in stores or []:
        StaffStoreAccess.objects.create(user=user, store=store)
    return user


@pytest.fixture
def warehouse_user(db):
    return user_with("receive_rma", username="dock")


@pytest.fixture
def resolver(db):
    return user_with("resolve_rma", username="resolver")


@pytest.fixture
def rma(db):
    """An AUTHORIZED return of two lines: 2 of the first item, 1 of the second."""
    return rma_with_lines(2, 1)
