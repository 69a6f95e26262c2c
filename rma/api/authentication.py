"""The `apikey` header as a DRF authentication class (and its OpenAPI security scheme).

The view resolves the store and the key together before authentication runs
(`rma.apikeys.api_key_authenticate`, one query): an unknown store is RMA 1002 for every
caller; a missing, wrong, revoked or foreign key then fails here, identically.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

HEADER = "apikey"


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        api_key = request.parser_context["view"].api_key
        if api_key is None:
            raise AuthenticationFailed()
        return (None, api_key)

    def authenticate_header(self, request):
        return HEADER


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apikey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": HEADER,
            "description": "The store's API key (`python manage.py create_api_key STORE`).",
        }
