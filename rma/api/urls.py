"""Routes of the RMA service API (SPEC section 8) and of its OpenAPI description."""

from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .views import CheckEligibilityView, GenerateRmaView, LookupRmaView

BASE = "v1.0/seller/<str:store>/return-order/create/<str:orderId>/"
OPERATIONS = (
    ("checkEligibility", CheckEligibilityView, "rma-api-check-eligibility"),
    ("generateRMA", GenerateRmaView, "rma-api-generate-rma"),
    ("lookupRMA", LookupRmaView, "rma-api-lookup-rma"),
)

# Swagger UI's page has one inline <style> block; the split view serves its script from
# our origin, so only inline styles need allowing, and only on this page.
docs_view = csp_update({"style-src": ["'unsafe-inline'"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    *(
        path(
            f"{BASE}{operation}.{api_format}",
            view.as_view(api_format=api_format),
            name=f"{name}-{api_format}",
        )
        for operation, view, name in OPERATIONS
        for api_format in ("json", "xml")
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", docs_view, name="api-docs"),
]
