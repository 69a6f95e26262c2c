"""The portal's own "page not found" page for shoppers, in DEBUG too.

With DEBUG on (the local default), Django answers a 404 with its technical page, which
lists every URL of the site. A shopper who opens a stale or mistyped link locally should
see the same friendly page as in production (`templates/404.html`). Staff and API paths
keep Django's page in DEBUG: it helps whoever develops them. Server errors keep the
technical page in DEBUG (a developer needs the traceback; it is logged as well).
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.views.defaults import page_not_found

# Paths that are not the shopper's: staff screens, the APIs and their documents, files.
STAFF_AND_API_PREFIXES = ("/admin/", "/warehouse/", "/api/", "/v1.0/", "/static/")


def is_shopper_path(path: str) -> bool:
    return not path.startswith(STAFF_AND_API_PREFIXES)


class PortalNotFoundMiddleware:
    """In DEBUG, a 404 on a shopper's path renders the portal's 404 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # No route matched: Django rendered its technical page (URL list) for it.
        if (
            settings.DEBUG
            and response.status_code == 404
            and request.resolver_match is None
            and is_shopper_path(request.path_info)
        ):
            return page_not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        # A view of the portal raised Http404 (an unknown order, a tampered link).
        if settings.DEBUG and isinstance(exception, Http404) and is_shopper_path(request.path_info):
            return page_not_found(request, exception)
        return None
