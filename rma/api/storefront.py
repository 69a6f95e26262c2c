"""Request handling shared by the storefront's key-authenticated JSON endpoints.

The order push (`rma.api.orders`), the product push (`catalogue.api`) and the store
credit API (`payments.api`) are called by programs, not browsers: they authenticate with
the store's API key in the `apikey` header (no cookies, so no CSRF), read a JSON body
under the size limit, and answer every failure as `{"errors": [...]}`, never an HTML page.
"""

import json
import logging
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from rma.apikeys import api_key_authenticate

logger = logging.getLogger(__name__)

# Seconds a client should wait before sending the request again after a 503.
RETRY_AFTER_SECONDS = 30


class BadRequest(Exception):
    """The request cannot be served; `response` is the JSON error to answer with."""

    def __init__(self, response: JsonResponse):
        super().__init__(response.status_code)
        self.response = response


def errors(status: int, *messages: str) -> JsonResponse:
    return JsonResponse({"errors": list(messages)}, status=status)


def method_not_allowed(request, allowed: str) -> JsonResponse:
    response = errors(405, f"{request.method} is not allowed here; use {allowed}")
    response["Allow"] = allowed
    return response


def json_failures(*, label: str, not_done: str):
    """Failures of ours as JSON errors: 503 with `Retry-After` when the database is
    unreachable, 500 otherwise. `label` names the request in the log ("Order push");
    `not_done` tells the client what did not happen ("the order was not saved").

    The storefront's writes are one transaction each and idempotent, so sending the same
    request again is always safe.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except BadRequest as bad:
                return bad.response
            except (OperationalError, InterfaceError):
                logger.exception("%s %s: the database is unreachable", label, request.path)
                response = errors(
                    503,
                    f"the database is unavailable, so {not_done}; send it again in a minute",
                )
                response["Retry-After"] = str(RETRY_AFTER_SECONDS)
                return response
            except Exception:
                logger.exception("%s %s failed", label, request.path)
                return errors(500, f"internal error: {not_done}; send it again later")

        return wrapper

    return decorator


def store_authenticate(request, store_code: str):
    """The store whose API key the request carries; else raises `BadRequest` (404 for an
    unknown store, 401 for a missing or wrong key)."""
    store, api_key = api_key_authenticate(
        store_code=store_code, raw_key=request.headers.get("apikey")
    )
    if store is None:
        raise BadRequest(errors(404, f'store "{store_code}" not found'))
    if api_key is None:
        raise BadRequest(errors(401, "missing or invalid API key (send it in the apikey header)"))
    return store


def json_body(request):
    """The request's JSON body (numbers with a fraction as `Decimal`); raises `BadRequest`
    with 413 when the declared length is over the limit, 400 when it is not JSON or is
    nested too deeply to read."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > settings.API_MAX_BODY_BYTES:
        raise BadRequest(
            errors(413, f"the body is larger than {settings.API_MAX_BODY_BYTES} bytes")
        )
    try:
        return json.loads(request.body, parse_float=Decimal)
    except RecursionError:
        raise BadRequest(
            errors(400, "the body is not valid JSON: it is nested too deeply")
        ) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(errors(400, f"the body is not valid JSON: {error}")) from None
