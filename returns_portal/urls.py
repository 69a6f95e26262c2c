from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("warehouse/", include("rma.warehouse.urls")),
    path("labels/", include("labels.urls")),
    path("webhooks/tracking/", include("labels.tracking.urls")),
    path("api/v1/", include("rma.api.order_urls")),
    path("api/v1/", include("catalogue.urls")),
    path("api/v1/", include("payments.urls")),
    # The RMA service API (v1.0/seller/...) and its OpenAPI schema and docs (api/...).
    path("", include("rma.api.urls")),
    path("", include("rma.portal.urls")),
]
