"""Store credit for the storefront: read a credit, spend from it.

- `GET  /api/v1/stores/{code}/credits/{credit_code}`: the credit and its balance;
- `POST /api/v1/stores/{code}/credits/{credit_code}/redeem` with `{"amount", "reference"}`:
  spend; 201 for a new redemption, 200 when the reference was redeemed before (nothing
  spent again).

Authenticated like the order push: the store's API key in the `apikey` header. Errors
are `{"errors": [...]}` with 400, 401, 404, 405, 409, 413 or 422, and with 503
(database unreachable, `Retry-After`) or 500 for a failure of ours (`rma.api.storefront`).
"""

from __future__ import annotations

from decimal import Decimal

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from rma.api.storefront import (
    errors,
    json_body,
    json_failures,
    method_not_allowed,
    store_authenticate,
)

from . import money
from .models import StoreCredit, StoreCreditEntry
from .services import PaymentError, store_credit_is_expired, store_credit_redeem


def credit_document(credit: StoreCredit) -> dict:
    currency = credit.currency
    return {
        "code": credit.code,
        "currency": currency,
        "amount": money.as_string(credit.amount, currency),
        "balance": money.as_string(credit.balance, currency),
        "expires_at": credit.expires_at.isoformat(),
        "expired": store_credit_is_expired(credit, timezone.now()),
    }


def _redemption_document(entry: StoreCreditEntry, currency: str) -> dict:
    return {
        "reference": entry.reference,
        "amount": money.as_string(-entry.amount, currency),
        "balance_after": money.as_string(entry.balance_after, currency),
        "created_at": entry.created_at.isoformat(),
    }


# Key-authenticated API without cookies: CSRF does not apply.
@csrf_exempt
@json_failures(label="Store credit read", not_done="the credit could not be read")
def credit_get(request, store_code: str, credit_code: str):
    if request.method != "GET":
        return method_not_allowed(request, "GET")
    store = store_authenticate(request, store_code)
    credit = StoreCredit.objects.filter(store=store, code=credit_code).first()
    if credit is None:
        return errors(404, f"store credit {credit_code} not found")
    return JsonResponse(credit_document(credit))


@csrf_exempt
@json_failures(label="Store credit redemption", not_done="nothing was spent")
def credit_redeem(request, store_code: str, credit_code: str):
    if request.method != "POST":
        return method_not_allowed(request, "POST")
    store = store_authenticate(request, store_code)
    data = json_body(request)
    if not isinstance(data, dict):
        return errors(400, 'the body must be an object: {"amount": "5.00", "reference": "..."}')
    unknown = sorted(set(data) - {"amount", "reference"})
    if unknown:
        return errors(400, *(f'unknown key "{key}"' for key in unknown))
    if data.get("amount") is None:
        return errors(400, 'missing required key "amount"')
    if isinstance(data["amount"], bool) or not isinstance(data["amount"], str | int | Decimal):
        return errors(400, 'amount must be a decimal string such as "5.00"')
    try:
        redemption = store_credit_redeem(
            store=store,
            code=credit_code,
            amount=data["amount"],
            reference=data.get("reference"),
        )
    except PaymentError as refused:
        return errors(refused.status, refused.message)
    return JsonResponse(
        {
            "credit": credit_document(redemption.credit),
            "redemption": _redemption_document(redemption.entry, redemption.credit.currency),
            "replayed": redemption.replayed,
        },
        status=200 if redemption.replayed else 201,
    )
