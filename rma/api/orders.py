"""`PUT /api/v1/stores/{code}/orders/{order_id}`: upsert one order (docs/import-format.md).

The body is one order object of the import format; `store` and `order_id` may be
left out (the URL says them) but must match when given. Authentication: the store's
API key in the `apikey` header. Answers JSON: the order as imported (201 created,
200 updated), or `{"errors": [...]}` with 400, 401, 404, 405 or 413, and with 503
(database unreachable, `Retry-After`) or 500 for a failure of ours: never an HTML page.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from rma.importing import ImportValidationError, import_order, order_document

from .storefront import errors, json_body, json_failures, method_not_allowed, store_authenticate


# Key-authenticated API without cookies: CSRF does not apply.
@csrf_exempt
@json_failures(label="Order push", not_done="the order was not saved")
def order_put(request, store_code: str, order_id: str):
    if request.method != "PUT":
        return method_not_allowed(request, "PUT")
    store = store_authenticate(request, store_code)
    data = json_body(request)
    try:
        order, created = import_order(store=store, order_id=order_id, data=data)
    except ImportValidationError as error:
        return errors(400, *error.errors)
    return JsonResponse(order_document(order), status=201 if created else 200)
