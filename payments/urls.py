"""Routes of the store credit API, included at `api/v1/` by the project's urls."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "stores/<str:store_code>/credits/<str:credit_code>",
        api.credit_get,
        name="api-credit-get",
    ),
    path(
        "stores/<str:store_code>/credits/<str:credit_code>/redeem",
        api.credit_redeem,
        name="api-credit-redeem",
    ),
]
