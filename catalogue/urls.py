"""Routes of the catalogue API, included at `api/v1/` by the project's urls."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "stores/<str:store_code>/products/<str:product_id>",
        api.product_put,
        name="api-product-put",
    ),
]
