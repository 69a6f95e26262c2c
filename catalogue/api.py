"""`PUT /api/v1/stores/{code}/products/{product_id}`: upsert one product of the catalogue.

The body is one product object of the import format (`catalogue.importing`);
`product_id` may be left out (the URL says it) but must match when given. Authenticated
and answered like the order push (`rma.api.orders`): the store's API key in the `apikey`
header; JSON answers: the product as stored (201 created, 200 updated), or
`{"errors": [...]}` with 400, 401, 404, 405, 413, 503 or 500, never an HTML page.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from rma.api.storefront import (
    errors,
    json_body,
    json_failures,
    method_not_allowed,
    store_authenticate,
)

from .importing import ProductValidationError, product_document, product_import


# Key-authenticated API without cookies: CSRF does not apply.
@csrf_exempt
@json_failures(label="Product push", not_done="the product was not saved")
def product_put(request, store_code: str, product_id: str):
    if request.method != "PUT":
        return method_not_allowed(request, "PUT")
    store = store_authenticate(request, store_code)
    data = json_body(request)
    try:
        product, created = product_import(store=store, product_id=product_id, data=data)
    except ProductValidationError as error:
        return errors(400, *error.errors)
    return JsonResponse(product_document(product), status=201 if created else 200)
