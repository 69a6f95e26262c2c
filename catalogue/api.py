"""`PUT /api/v1/stores/{code}/products/{product_id}`: upsert one product of the catalogue.

The body is one product object of the import format (`catalogue.importing`);
`product_id` may be left out (the URL says it) but must match when given. Authenticated
and answered like the order push (`rma.api.orders`): the store's API key in the `apikey`
header; JSON answers: the product as stored (201 created, 200 updated), or
`{"errors": [...]}` with 400, 401, 404, 405, 413, 503 or 500, never an HTML page.
"""

import json
import logging
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from rma.api.orders import RETRY_AFTER_SECONDS, _errors
from rma.apikeys import api_key_authenticate

from .importing import ProductValidationError, product_document, product_import

logger = logging.getLogger(__name__)


def _json_failures(view):
    """Failures of ours as JSON errors; the upsert is one idempotent transaction, so sending
    the product again is always safe."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (OperationalError, InterfaceError):
            logger.exception("Product push %s: the database is unreachable", request.path)
            response = _errors(
                503,
                "the database is unavailable, so the product was not saved; "
                "send it again in a minute",
            )
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        except Exception:
            logger.exception("Product push %s failed", request.path)
            return _errors(500, "internal error: the product was not saved; send it again later")

    return wrapper


# Key-authenticated API without cookies: CSRF does not apply.
@csrf_exempt
@_json_failures
def product_put(request, store_code: str, product_id: str):
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
        product, created = product_import(store=store, product_id=product_id, data=data)
    except ProductValidationError as error:
        return _errors(400, *error.errors)
    return JsonResponse(product_document(product), status=201 if created else 200)
