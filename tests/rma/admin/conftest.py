"""Staff users in the groups of the data migration, and logged-in clients for them."""

import importlib

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.test import Client

from rma.models import StaffStoreAccess
from tests.factories import UserFactory

groups_migration = importlib.import_module("rma.migrations.0003_groups")
AGENT = groups_migration.AGENT
SUPERVISOR = groups_migration.SUPERVISOR
WAREHOUSE = groups_migration.WAREHOUSE
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def care_groups(db):
    """The migration's groups; restored if a transactional test elsewhere flushed them."""
    if Group.objects.filter(name__in=[AGENT, SUPERVISOR, WAREHOUSE]).count() < 3:
        groups_migration.create_groups(global_apps)
    return {group.name: group for group in Group.objects.all()}


@pytest.fixture
def make_staff(care_groups):
    """A staff user in `group_name`; of every store by default, or only of `stores`."""

    def make(group_name: str | None, *, stores=None, **kwargs):
        user = UserFactory(**kwargs)
        if group_name:
            user.groups.add(care_groups[group_name])
        if stores is None:
            user.user_permissions.add(Permission.objects.get(codename="view_all_stores"))
        for store in stores or []:
            StaffStoreAccess.objects.create(user=user, store=store)
        return user

    return make


@pytest.fixture
def agent(make_staff):
    return make_staff(AGENT, username="agnes")


@pytest.fixture
def supervisor(make_staff):
    return make_staff(SUPERVISOR, username="sue")


@pytest.fixture
def warehouse(make_staff):
    return make_staff(WAREHOUSE, username="walt")


@pytest.fixture
def login():
    """A test client logged in as `user` (the first backend, django-axes, loads no users)."""

    def log_in(user) -> Client:
        client = Client()
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return log_in
