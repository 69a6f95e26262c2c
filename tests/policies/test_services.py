"""Publishing, versions and rollback as services; the import records a version too."""

import pytest

from policies.models import PolicySource, PolicyVersion
from policies.services import PolicyInvalid, policy_publish, policy_rollback
from policies.versions import policy_diff
from rma.importing import ImportValidationError, import_document
from rma.models import Store
from tests.factories import StoreFactory, SupplierFactory, UserFactory, spec_import_document

pytestmark = pytest.mark.django_db


def test_policy_diff_names_each_changed_key():
    before = {"policy": {"return_window_days": 30, "return_fee": {"amount": "1"}}, "brand": {}}
    after = {"policy": {"return_fee": {"amount": "2"}, "hazmat_returnable": True}, "brand": {}}
    assert policy_diff(before, after) == [
        {"path": "policy.hazmat_returnable", "before": None, "after": True},
        {"path": "policy.return_fee.amount", "before": "1", "after": "2"},
        {"path": "policy.return_window_days", "before": 30, "after": None},
    ]


def test_the_import_records_a_version_when_the_policy_changes():
    document = spec_import_document()
    import_document(document)
    store = Store.objects.get(code="TMSUS")
    [first] = PolicyVersion.objects.filter(store=store)
    assert (first.number, first.source, first.author) == (1, PolicySource.IMPORT, None)
    assert first.policy == store.policy
    import_document(document)  # unchanged: no new version
    assert PolicyVersion.objects.filter(store=store).count() == 1
    document["stores"][0]["policy"]["return_window_days"] = 60
    import_document(document)
    latest = PolicyVersion.objects.filter(store=store).first()
    assert latest.number == 2
    assert {"path": "policy.return_window_days", "before": 30, "after": 60} in latest.diff


def test_an_invalid_policy_is_refused_naming_every_bad_field():
    store = StoreFactory(policy={"return_window_days": 30})
    with pytest.raises(PolicyInvalid) as raised:
        policy_publish(
            store=store,
            policy={"return_window_days": -1, "resolutions": ["BARTER"]},
            brand={"brand_colour": "red"},
            author=None,
        )
    messages = " | ".join(raised.value.messages)
    assert "policy.return_window_days: must be at least 0" in messages
    assert "policy.resolutions[0]: 'BARTER' is not one of" in messages
    assert "brand_colour:" in messages
    assert Store.objects.get(pk=store.pk).policy == {"return_window_days": 30}
    assert not PolicyVersion.objects.exists()


def test_publish_and_roll_back():
    user = UserFactory()
    store = StoreFactory(policy={})
    first = policy_publish(store=store, policy={"return_window_days": 45}, author=user)
    policy_publish(
        store=store,
        policy={"return_window_days": 60},
        brand={"brand_colour": "#112233"},
        author=user,
    )
    store.refresh_from_db()
    assert (store.policy, store.brand_colour) == ({"return_window_days": 60}, "#112233")
    back = policy_rollback(store=store, number=first.number, author=user)
    store.refresh_from_db()
    assert store.policy == {"return_window_days": 45}
    assert store.brand_colour == ""
    assert (back.number, back.source, back.restored_from) == (3, PolicySource.ROLLBACK, 1)
    assert policy_rollback(store=store, number=3, author=user) is None  # already live


ROUTE_RULES = [
    {"name": "To Acme", "then": [{"action": "route", "destination": "ACME"}]},
    {"name": "Home", "then": [{"action": "route", "destination": "STORE"}]},
]


def test_a_route_must_name_the_store_or_one_of_its_suppliers():
    store = StoreFactory(policy={})
    with pytest.raises(PolicyInvalid) as raised:
        policy_publish(store=store, policy={"rules": ROUTE_RULES}, author=None)
    assert raised.value.messages == [
        'policy.rules[0].then[0].destination: "ACME" is not STORE or a supplier of this store'
    ]
    SupplierFactory(store=store, code="ACME")
    assert policy_publish(store=store, policy={"rules": ROUTE_RULES}, author=None).number == 1


def test_the_import_checks_route_destinations_too():
    document = spec_import_document()
    document["stores"][0]["policy"]["rules"] = ROUTE_RULES
    document["stores"][0]["suppliers"] = []
    with pytest.raises(ImportValidationError) as raised:
        import_document(document)
    assert (
        'stores[0].policy.rules[0].then[0].destination: "ACME" is not STORE or a supplier'
        in str(raised.value)
    )
    document["stores"][0]["suppliers"] = [
        {
            "code": "ACME",
            "name": "Acme",
            "return_address": {
                "line1": "9 Dock St",
                "city": "Reno",
                "postal_code": "89501",
                "country": "US",
            },
        }
    ]
    import_document(document)
    assert Store.objects.get(code="TMSUS").policy["rules"] == [
        {"name": "To Acme", "enabled": True, "when": [], "then": ROUTE_RULES[0]["then"]},
        {"name": "Home", "enabled": True, "when": [], "then": ROUTE_RULES[1]["then"]},
    ]
