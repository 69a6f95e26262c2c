"""API keys: shown once, stored hashed, one store each, revocable, last use recorded sparingly."""

import datetime as dt
import hashlib
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command

from rma.apikeys import api_key_authenticate, api_key_create, api_key_revoke
from rma.models import ApiKey
from rma.selectors import store_key_and_order_for_eligibility
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def with_an_order(*, store_code, raw_key):
    """Authentication as checkEligibility does it: the order read in the same query."""
    store, api_key, _ = store_key_and_order_for_eligibility(
        store_code=store_code, raw_key=raw_key, order_id="1001"
    )
    return store, api_key


@pytest.fixture(params=[api_key_authenticate, with_an_order], ids=["alone", "with an order"])
def authenticate(request):
    """Each way the API authenticates a request: the rules are the same."""
    return request.param


def authenticated_key(authenticate, store, raw_key):
    """The key `raw_key` authenticates for `store` (None if none), checking the store found."""
    found, api_key = authenticate(store_code=store.code, raw_key=raw_key)
    assert found == store
    return api_key


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


def test_the_right_key_authenticates(authenticate):
    store = StoreFactory()
    api_key, raw_key = api_key_create(store=store, name="ERP")

    assert authenticated_key(authenticate, store, raw_key) == api_key


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
def test_missing_or_wrong_keys_do_not_authenticate(mangle, authenticate):
    store = StoreFactory()
    _, raw_key = api_key_create(store=store, name="ERP")

    assert authenticated_key(authenticate, store, mangle(raw_key)) is None


def test_another_stores_key_does_not_authenticate(authenticate):
    store, other = StoreFactory(), StoreFactory()
    _, raw_key = api_key_create(store=other, name="ERP")

    assert authenticated_key(authenticate, store, raw_key) is None


def test_a_revoked_key_does_not_authenticate(authenticate):
    store = StoreFactory()
    api_key, raw_key = api_key_create(store=store, name="ERP")

    api_key_revoke(api_key=api_key)

    assert authenticated_key(authenticate, store, raw_key) is None
    first = ApiKey.objects.get().revoked_at
    assert first is not None
    api_key_revoke(api_key=ApiKey.objects.get())
    assert ApiKey.objects.get().revoked_at == first


def test_last_used_at_is_written_at_most_once_a_minute(django_assert_num_queries, authenticate):
    store = StoreFactory()
    _, raw_key = api_key_create(store=store, name="ERP")
    start = dt.datetime(2026, 11, 5, 12, 0, tzinfo=dt.UTC)

    with time_machine.travel(start, tick=False):
        authenticated_key(authenticate, store, raw_key)
    assert ApiKey.objects.get().last_used_at == start

    with (
        time_machine.travel(start + dt.timedelta(seconds=59), tick=False),
        django_assert_num_queries(1),  # the store and key in one query, no write
    ):
        authenticated_key(authenticate, store, raw_key)
    assert ApiKey.objects.get().last_used_at == start

    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        authenticated_key(authenticate, store, raw_key)
    assert ApiKey.objects.get().last_used_at == start + dt.timedelta(seconds=61)


@pytest.mark.parametrize("key", ["valid", "wrong secret", "revoked", "other store", None])
def test_store_and_key_are_read_in_one_query(key, django_assert_num_queries, authenticate):
    store, other = StoreFactory(), StoreFactory()
    api_key, raw_key = api_key_create(store=store, name="ERP")
    revoked, revoked_raw = api_key_create(store=store, name="old")
    api_key_revoke(api_key=revoked)
    raw = {
        "valid": raw_key,
        "wrong secret": raw_key[:-1] + ("A" if raw_key[-1] != "A" else "B"),
        "revoked": revoked_raw,
        "other store": api_key_create(store=other, name="ERP")[1],
        None: None,
    }[key]
    authenticated_key(authenticate, store, raw)  # the first use writes last_used_at

    with django_assert_num_queries(1):
        found, authenticated = authenticate(store_code=store.code, raw_key=raw)

    assert found == store
    assert authenticated == (api_key if key == "valid" else None)
    if authenticated is not None:
        assert authenticated.store is found  # attached, not fetched again


@pytest.mark.parametrize("key", ["valid", "garbage", None])
def test_an_unknown_store_is_none_whatever_the_key(key, django_assert_num_queries, authenticate):
    store = StoreFactory()
    _, raw_key = api_key_create(store=store, name="ERP")
    raw = {"valid": raw_key, "garbage": "rp_nonsense", None: None}[key]

    with django_assert_num_queries(1):
        assert authenticate(store_code="NOPE", raw_key=raw) == (None, None)
    assert ApiKey.objects.get().last_used_at is None


def test_create_api_key_command_prints_a_working_key_once(authenticate):
    store = StoreFactory(code="TMSUS")
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_key", "TMSUS", "--name", "ERP", stdout=out, stderr=err)

    raw_key = out.getvalue().strip()
    api_key = authenticated_key(authenticate, store, raw_key)
    assert api_key is not None
    assert api_key.name == "ERP"
    assert "shown only this once" in err.getvalue()


def test_create_api_key_command_refuses_an_unknown_store():
    with pytest.raises(CommandError, match='unknown store "NOPE"'):
        call_command("create_api_key", "NOPE")
    assert not ApiKey.objects.exists()
