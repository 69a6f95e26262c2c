"""`PUT /api/v1/stores/{code}/orders/{order_id}`: upsert one order (docs/import-format.md).

The body is one order object of the import format; `store` and `order_id` may be
left out (the URL says them) but must match when given. Authentication: the store's
API key in the `apikey` header. Answers JSON: the order as imported (201 created,
200 updated), or `{"errors": [...]}` with 400, 401, 404, 405 or 413, and with 503
(database unreachable, `Retry-After`) or 500 for a failure of ours: never an HTML page.
"""

import json
import logging
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from rma.apikeys import api_key_authenticate
from rma.importing import ImportValidationError, import_order, order_document

logger = logging.getLogger(__name__)

# Seconds a client should wait before sending the order again after a 503.
RETRY_AFTER_SECONDS = 30


def _errors(status: int, *messages: str) -> JsonResponse:
    return JsonResponse({"errors": list(messages)}, status=status)


def _json_failures(view):
    """Failures of ours as JSON errors: the client is a program, not a browser.

    The upsert is one transaction and idempotent, so sending the same order again is
    always safe.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (OperationalError, InterfaceError):
            logger.exception("Order push %s: the database is unreachable", request.path)
            response = _errors(
                503,
                "the database is unavailable, so the order was not saved; "
                "send it again in a minute",
            )
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        except Exception:
            logger.exception("Order push %s failed", request.path)
            return _errors(500, "internal error: the order was not saved; send it again later")

    return wrapper


# Key-authenticated API without cookies: CSRF does not apply.
@csrf_exempt
@_json_failures
def order_put(request, store_code: str, order_id: str):
    if request.method != "PUT":
        response = _errors(405, f"{request.method} is not allowed here; use PUT")
        response["Allow"] = "PUT"
        return response
    store, api_key = api_key_authenticate(
        store_code=store_code, raw_key=request.headers.get("apikey")
    )
    if store is None:
        return _errors(404, f'store "{store_code}" not found')
    if api_key is None:
        return _errors(401, "missing or invalid API key (send it in the apikey header)")
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > settings.API_MAX_BODY_BYTES:
        return _errors(413, f"the body is larger than {settings.API_MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(request.body, parse_float=Decimal)
    except RecursionError:
        return _errors(400, "the body is not valid JSON: it is nested too deeply")
    except (ValueError, UnicodeDecodeError) as error:
        return _errors(400, f"the body is not valid JSON: {error}")
    try:
        order, created = import_order(store=store, order_id=order_id, data=data)
    except ImportValidationError as error:
        return _errors(400, *error.errors)
    return JsonResponse(order_document(order), status=201 if created else 200)
