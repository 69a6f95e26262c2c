"""Routes of the order push endpoint, included at `api/v1/` by the project's urls."""

from django.urls import path

from . import orders

urlpatterns = [
    path(
        "stores/<str:store_code>/orders/<str:order_id>",
        orders.order_put,
        name="api-order-put",
    ),
]
