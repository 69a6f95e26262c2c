"""Store credit for the storefront: read a credit, spend from it.

- `GET  /api/v1/stores/{code}/credits/{credit_code}`: the credit and its balance;
- `POST /api/v1/stores/{code}/credits/{credit_code}/redeem` with `{"amount", "reference"}`:
  spend; 201 for a new redemption, 200 when the reference was redeemed before (nothing
  spent again).

Authenticated like the order push: the store's API key in the `apikey` header. Errors
are `{"errors": [...]}` with 400, 401, 404, 405, 409, 413 or 422.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from rma.apikeys import api_key_authenticate

from . import money
from .models import StoreCredit, StoreCreditEntry
from .services import PaymentError, store_credit_is_expired, store_credit_redeem


def _errors(status: int, *messages: str) -> JsonResponse:
    return JsonResponse({"errors": list(messages)}, status=status)


def _method_not_allowed(request, allowed: str) -> JsonResponse:
    response = _errors(405, f"{request.method} is not allowed here; use {allowed}")
    response["Allow"] = allowed
    return response


def _authenticate(request, store_code: str):
    """(store, None) when the key is right, else (None, error response)."""
    store, api_key = api_key_authenticate(
        store_code=store_code, raw_key=request.headers.get("apikey")
    )
    if store is None:
        return None, _errors(404, f'store "{store_code}" not found')
    if api_key is None:
        return None, _errors(401, "missing or invalid API key (send it in the apikey header)")
    return store, None


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
def credit_get(request, store_code: str, credit_code: str):
    if request.method != "GET":
        return _method_not_allowed(request, "GET")
    store, error = _authenticate(request, store_code)
    if error:
        return error
    credit = StoreCredit.objects.filter(store=store, code=credit_code).first()
    if credit is None:
        return _errors(404, f"store credit {credit_code} not found")
    return JsonResponse(credit_document(credit))


@csrf_exempt
def credit_redeem(request, store_code: str, credit_code: str):
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    store, error = _authenticate(request, store_code)
    if error:
        return error
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > settings.API_MAX_BODY_BYTES:
        return _errors(413, f"the body is larger than {settings.API_MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(request.body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        return _errors(400, f"the body is not valid JSON: {error}")
    if not isinstance(data, dict):
        return _errors(400, 'the body must be an object: {"amount": "5.00", "reference": "..."}')
    unknown = sorted(set(data) - {"amount", "reference"})
    if unknown:
        return _errors(400, *(f'unknown key "{key}"' for key in unknown))
    if data.get("amount") is None:
        return _errors(400, 'missing required key "amount"')
    if isinstance(data["amount"], bool) or not isinstance(data["amount"], str | int | Decimal):
        return _errors(400, 'amount must be a decimal string such as "5.00"')
    try:
        redemption = store_credit_redeem(
            store=store,
            code=credit_code,
            amount=data["amount"],
            reference=data.get("reference"),
        )
    except PaymentError as refused:
        return _errors(refused.status, refused.message)
    return JsonResponse(
        {
            "credit": credit_document(redemption.credit),
            "redemption": _redemption_document(redemption.entry, redemption.credit.currency),
            "replayed": redemption.replayed,
        },
        status=200 if redemption.replayed else 201,
    )
