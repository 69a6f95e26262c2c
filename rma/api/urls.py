"""Routes of the RMA service API and of its OpenAPI description.

Two forms of each operation: the suffix routes (`….json`, `….xml`: the suffix is the
format) and Radial's URI templates (the headers choose the format). Any other path
under their prefixes is a 404 fault, never an HTML page.
"""

from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .views import NEGOTIATED, CheckEligibilityView, GenerateRmaView, LookupRmaView, not_found

BASE = "v1.0/seller/<str:store>/return-order/create/<str:orderId>/"
RADIAL_CREATE = "v1.0/return-order-create/sellers/<str:store>/orders/<str:orderId>/returns/"
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
    # Radial's URI templates.
    path(
        "v1.0/sellers/<str:store>/orders/<str:orderId>/returns/checkEligibility/new",
        CheckEligibilityView.as_view(api_format=NEGOTIATED),
        name="rma-api-check-eligibility-radial",
    ),
    path(
        f"{RADIAL_CREATE}generateRMA",
        GenerateRmaView.as_view(api_format=NEGOTIATED),
        name="rma-api-generate-rma-radial",
    ),
    path(
        f"{RADIAL_CREATE}lookupRMA",
        LookupRmaView.as_view(api_format=NEGOTIATED),
        name="rma-api-lookup-rma-radial",
    ),
    re_path(r"^v1\.0/(?:seller|sellers|return-order-create)/", not_found, name="rma-api-404"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", docs_view, name="api-docs"),
]
