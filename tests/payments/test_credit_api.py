"""The store credit API: GET a credit, POST a redemption; key-authenticated per store."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import OperationalError, connection

from payments.models import StoreCredit
from payments.services import store_credit_issue
from rma.apikeys import api_key_create
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(code="TMSUS")


@pytest.fixture
def key(store):
    return api_key_create(store=store, name="storefront")[1]


@pytest.fixture
def credit(store):
    return store_credit_issue(store=store, amount=Decimal("19.35"))


def get(client, credit_code, key, store="TMSUS"):
    return client.get(f"/api/v1/stores/{store}/credits/{credit_code}", headers={"apikey": key})


def redeem(client, credit_code, body, key, store="TMSUS"):
    return client.post(
        f"/api/v1/stores/{store}/credits/{credit_code}/redeem",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers={"apikey": key},
    )


def test_get_a_credit(client, key, credit):
    response = get(client, credit.code, key)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "code": credit.code,
        "currency": "USD",
        "amount": "19.35",
        "balance": "19.35",
        "expires_at": credit.expires_at.isoformat(),
        "expired": False,
    }


def test_redeem_then_replay(client, key, credit):
    response = redeem(client, credit.code, {"amount": "5.00", "reference": "cart-9"}, key)
    assert response.status_code == 201
    body = response.json()
    assert body["credit"]["balance"] == "14.35"
    assert body["redemption"]["amount"] == "5.00"
    assert body["redemption"]["balance_after"] == "14.35"
    assert body["replayed"] is False

    again = redeem(client, credit.code, {"amount": "5.00", "reference": "cart-9"}, key)
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    assert again.json()["credit"]["balance"] == "14.35"
    assert get(client, credit.code, key).json()["balance"] == "14.35"


def test_a_json_number_amount_is_read_exactly(client, key, credit):
    response = redeem(client, credit.code, '{"amount": 0.1, "reference": "r"}', key)
    assert response.status_code == 201
    assert response.json()["credit"]["balance"] == "19.25"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"amount": "19.36", "reference": "r"}, 422, "more than the balance"),
        ({"amount": "1.001", "reference": "r"}, 400, "decimal places"),
        ({"amount": "-1", "reference": "r"}, 400, "above zero"),
        ({"amount": True, "reference": "r"}, 400, "amount must be"),
        ({"reference": "r"}, 400, 'missing required key "amount"'),
        ({"amount": "1.00"}, 400, "reference is required"),
        ({"amount": "1.00", "reference": "r", "cart": 1}, 400, 'unknown key "cart"'),
        ("[1, 2]", 400, "must be an object"),
        ("{not json", 400, "not valid JSON"),
    ],
)
def test_bad_redemptions_are_4xx_and_spend_nothing(client, key, credit, body, status, message):
    response = redeem(client, credit.code, body, key)
    assert response.status_code == status
    assert message in response.json()["errors"][0]
    credit.refresh_from_db()
    assert credit.balance == Decimal("19.35")


def test_expired_credit_is_refused(client, key, credit):
    StoreCredit.objects.filter(pk=credit.pk).update(
        expires_at=credit.expires_at - dt.timedelta(days=400)
    )
    assert get(client, credit.code, key).json()["expired"] is True
    response = redeem(client, credit.code, {"amount": "1.00", "reference": "r"}, key)
    assert response.status_code == 422
    assert "expired" in response.json()["errors"][0]


def test_authentication_and_not_found(client, key, credit):
    assert get(client, credit.code, "rp_wrong").status_code == 401
    assert get(client, credit.code, "").status_code == 401
    assert redeem(client, credit.code, {"amount": "1", "reference": "r"}, "rp_x").status_code == 401
    assert get(client, credit.code, key, store="NOPE").status_code == 404
    assert get(client, "SC-NONE", key).status_code == 404
    # Another store's key cannot read or spend this store's credit.
    other = StoreFactory(code="OTHER")
    other_key = api_key_create(store=other, name="k")[1]
    assert get(client, credit.code, other_key).status_code == 401
    assert get(client, credit.code, other_key, store="OTHER").status_code == 404
    credit.refresh_from_db()
    assert credit.balance == Decimal("19.35")


def test_wrong_methods(client, key, credit):
    response = client.post(f"/api/v1/stores/TMSUS/credits/{credit.code}", headers={"apikey": key})
    assert (response.status_code, response["Allow"]) == (405, "GET")
    response = client.get(
        f"/api/v1/stores/TMSUS/credits/{credit.code}/redeem", headers={"apikey": key}
    )
    assert (response.status_code, response["Allow"]) == (405, "POST")


def test_a_body_past_the_limit_is_refused(client, key, credit, settings):
    settings.API_MAX_BODY_BYTES = 10
    response = redeem(client, credit.code, {"amount": "1.00", "reference": "r"}, key)
    assert response.status_code == 413


def test_a_body_nested_too_deeply_is_a_json_400_and_spends_nothing(client, key, credit):
    response = redeem(client, credit.code, "[" * 100_000 + "]" * 100_000, key)
    assert response.status_code == 400
    assert response.json() == {"errors": ["the body is not valid JSON: it is nested too deeply"]}
    credit.refresh_from_db()
    assert credit.balance == Decimal("19.35")


def database_down(execute, sql, params, many, context):
    """Every query fails as it does when PostgreSQL is unreachable (Django's execute hook)."""
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


def test_a_database_that_is_down_is_a_json_503_with_retry_after(client, key, credit):
    with connection.execute_wrapper(database_down):
        response = redeem(client, credit.code, {"amount": "1.00", "reference": "r"}, key)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "errors": ["the database is unavailable, so nothing was spent; send it again in a minute"]
    }
    credit.refresh_from_db()
    assert credit.balance == Decimal("19.35")
