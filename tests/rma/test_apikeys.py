"""API keys: shown once, stored hashed, one store each, revocable, last use recorded sparingly."""

import datetime as dt
import hashlib
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command

from rma.apikeys import api_key_authenticate, api_key_create, api_key_revoke
from rma.models import ApiKey
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_created_key_is_stored_only_as_prefix_and_hash():
    store = StoreFactory()

    api_key, raw_key = api_key_create(store=store, name="ERP")

    assert raw_key.startswith(api_key.prefix)
    assert api_key.prefix.startswith("rp_")
    assert len(api_key.prefix) == 11
    assert len(raw_key) >= len(api_key.prefix) + 32
    stored = ApiKey.objects.get()
    assert stored.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key[len(api_key.prefix) :] not in str(ApiKey.objects.values().get())


def test_keys_are_unique():
    store = StoreFactory()
    keys = {api_key_create(store=store, name=f"k{n}")[1] for n in range(20)}
    assert len(keys) == 20


def test_the_right_key_authenticates():
    store = StoreFactory()
    api_key, raw_key = api_key_create(store=store, name="ERP")

    assert api_key_authenticate(store=store, raw_key=raw_key) == api_key


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: None,
        lambda key: "",
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),
        lambda key: key[:11],
        lambda key: key + "x",
        lambda key: key[3:],
    ],
    ids=["missing", "empty", "wrong secret", "prefix only", "too long", "without mark"],
)
def test_missing_or_wrong_keys_do_not_authenticate(mangle):
    store = StoreFactory()
    _, raw_key = api_key_create(store=store, name="ERP")

    assert api_key_authenticate(store=store, raw_key=mangle(raw_key)) is None


def test_another_stores_key_does_not_authenticate():
    store, other = StoreFactory(), StoreFactory()
    _, raw_key = api_key_create(store=other, name="ERP")

    assert api_key_authenticate(store=store, raw_key=raw_key) is None


def test_a_revoked_key_does_not_authenticate():
    store = StoreFactory()
    api_key, raw_key = api_key_create(store=store, name="ERP")

    api_key_revoke(api_key=api_key)

    assert api_key_authenticate(store=store, raw_key=raw_key) is None
    first = ApiKey.objects.get().revoked_at
    assert first is not None
    api_key_revoke(api_key=ApiKey.objects.get())
    assert ApiKey.objects.get().revoked_at == first


def test_last_used_at_is_written_at_most_once_a_minute(django_assert_num_queries):
    store = StoreFactory()
    _, raw_key = api_key_create(store=store, name="ERP")
    start = dt.datetime(2026, 11, 5, 12, 0, tzinfo=dt.UTC)

    with time_machine.travel(start, tick=False):
        api_key_authenticate(store=store, raw_key=raw_key)
    assert ApiKey.objects.get().last_used_at == start

    with (
        time_machine.travel(start + dt.timedelta(seconds=59), tick=False),
        django_assert_num_queries(1),  # the lookup only, no write
    ):
        api_key_authenticate(store=store, raw_key=raw_key)
    assert ApiKey.objects.get().last_used_at == start

    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        api_key_authenticate(store=store, raw_key=raw_key)
    assert ApiKey.objects.get().last_used_at == start + dt.timedelta(seconds=61)


def test_create_api_key_command_prints_a_working_key_once():
    store = StoreFactory(code="TMSUS")
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_key", "TMSUS", "--name", "ERP", stdout=out, stderr=err)

    raw_key = out.getvalue().strip()
    api_key = api_key_authenticate(store=store, raw_key=raw_key)
    assert api_key is not None
    assert api_key.name == "ERP"
    assert "shown only this once" in err.getvalue()


def test_create_api_key_command_refuses_an_unknown_store():
    with pytest.raises(CommandError, match='unknown store "NOPE"'):
        call_command("create_api_key", "NOPE")
    assert not ApiKey.objects.exists()
