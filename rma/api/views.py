"""The RMA service API (SPEC section 8): thin views over `operations`.

Each request goes: store (unknown → RMA 1002, for any caller) → `apikey` header
(401, one answer for every failure) → body (size limit, decoding, validation → RMA
1001) → operation. The URL suffix (`.json` or `.xml`) chooses the format of the
request and of every response, faults included; `Content-Type` and `Accept` are not
consulted. Every response carries `X-Request-ID`; an unexpected error is logged with
it and answered as RMA 1004 without internals.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.http import Http404, HttpResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.exceptions import (
    APIException,
    AuthenticationFailed,
    NotAuthenticated,
    ParseError,
    UnsupportedMediaType,
)
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from rma.apikeys import api_key_authenticate

from . import json_codec, operations, xml_codec
from .authentication import HEADER, ApiKeyAuthentication
from .faults import UNAUTHORIZED, ApiFault, fault_body, invalid_request
from .serializers import (
    EligibilityRequestSerializer,
    EligibilityResponseSerializer,
    FaultSerializer,
    LookupRequestSerializer,
    RmaRequestSerializer,
    RmaResponseSerializer,
    validation_detail,
)

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"


class SuffixContentNegotiation(BaseContentNegotiation):
    """The URL suffix decides the format; an `Accept` header never causes a 406."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class RmaServiceSchema(AutoSchema):
    """Only the JSON routes are described by the OpenAPI document."""

    def is_excluded(self):
        return super().is_excluded() or self.view.api_format != "json"


def read_body(request) -> bytes:
    """The raw body, refusing more than `API_MAX_BODY_BYTES` (413, RMA 1001) unread."""
    limit = settings.API_MAX_BODY_BYTES
    too_large = invalid_request(f"The request body is larger than {limit} bytes.", status=413)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large
    body = request.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body


class RmaServiceView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = []
    throttle_classes = []
    # Never run (the body is decoded by the route's codec); they tell the schema the media type.
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = SuffixContentNegotiation
    metadata_class = None  # OPTIONS is not an operation: 405 like any other method
    http_method_names = ["get", "post"]
    schema = RmaServiceSchema()

    # Set per route: "json" or "xml".
    api_format = "json"
    request_serializer = None
    request_element = ""
    response_element = ""
    # Whether a POST must carry a body (checkEligibility's is optional).
    body_required = True

    def dispatch(self, request, *args, **kwargs):
        self.request_id = str(uuid.uuid4())
        self.store = self.api_key = None
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        # The store and the key in one query; an unknown store is 1002 for anyone, then
        # authentication (a missing or invalid key is 401) reads `self.api_key`.
        self.store, self.api_key = api_key_authenticate(
            store_code=kwargs["store"], raw_key=request.headers.get(HEADER)
        )
        if self.store is None:
            raise ApiFault("RMA 1002")
        super().initial(request, *args, **kwargs)

    def payload(self, request) -> dict:
        """The request body, decoded in the route's format and validated."""
        body = read_body(request._request)
        if not self.body_required and not body.strip():
            data = {}
        elif self.api_format == "xml":
            data = xml_codec.decode(body, root=self.request_element)
        else:
            data = json_codec.decode(body)
        serializer = self.request_serializer(data=data)
        if not serializer.is_valid():
            raise invalid_request(validation_detail(serializer.errors))
        return serializer.validated_data

    def respond(self, status: int, body: dict, *, root: str = "") -> HttpResponse:
        if self.api_format == "xml":
            if root == "Fault":
                content = xml_codec.encode_fault(body)
            else:
                content = xml_codec.encode(body, root=root or self.response_element)
            content_type = xml_codec.CONTENT_TYPE
        else:
            content, content_type = json_codec.encode(body), json_codec.CONTENT_TYPE
        return HttpResponse(content, status=status, content_type=content_type)

    def handle_exception(self, exc):
        fault = self.fault_for(exc)
        request_id = self.request_id if fault.code == "RMA 1004" else ""
        return self.respond(fault.status, fault_body(fault, request_id=request_id), root="Fault")

    def fault_for(self, exc) -> ApiFault:
        """Every exception as a fault: ours, DRF's own (405, 415, …), or RMA 1004."""
        if isinstance(exc, ApiFault):
            return exc
        if isinstance(exc, AuthenticationFailed | NotAuthenticated):
            return ApiFault(UNAUTHORIZED, status=401)
        if isinstance(exc, ParseError | UnsupportedMediaType):
            return invalid_request(str(exc.detail), status=exc.status_code)
        if isinstance(exc, APIException):
            return ApiFault(str(exc.status_code), status=exc.status_code)
        if isinstance(exc, Http404):
            return ApiFault("404", status=404)
        logger.error(
            "RMA service API request %s failed (%s %s)",
            self.request_id,
            self.request.method,
            self.request.path,
            exc_info=exc,
        )
        return ApiFault("RMA 1004")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response[REQUEST_ID_HEADER] = self.request_id
        return response


FAULTS = {
    400: FaultSerializer,
    401: FaultSerializer,
    404: FaultSerializer,
    405: FaultSerializer,
    413: FaultSerializer,
    500: FaultSerializer,
}


class CheckEligibilityView(RmaServiceView):
    request_serializer = EligibilityRequestSerializer
    request_element = "ReturnEligibilityRequest"
    response_element = "ReturnEligibilityResponse"
    body_required = False

    @extend_schema(
        operation_id="checkEligibility",
        summary="Eligibility of every line of an order",
        request=None,
        responses={200: EligibilityResponseSerializer, **FAULTS},
    )
    def get(self, request, **kwargs):
        return self.check(payload={}, order_id=kwargs["orderId"])

    @extend_schema(
        operation_id="checkEligibilityPost",
        summary="Eligibility of every line of an order (optional body)",
        request=EligibilityRequestSerializer,
        responses={200: EligibilityResponseSerializer, **FAULTS},
    )
    def post(self, request, **kwargs):
        return self.check(payload=self.payload(request), order_id=kwargs["orderId"])

    def check(self, *, payload: dict, order_id: str):
        body = operations.check_eligibility(store=self.store, order_id=order_id, payload=payload)
        return self.respond(200, body)


class GenerateRmaView(RmaServiceView):
    request_serializer = RmaRequestSerializer
    request_element = "RmaRequest"
    response_element = "RmaResponse"

    @extend_schema(
        operation_id="generateRMA",
        summary="Request a return: one RMA per return destination, once per transactionId",
        request=RmaRequestSerializer,
        responses={
            201: RmaResponseSerializer,
            409: FaultSerializer,
            422: FaultSerializer,
            **FAULTS,
        },
        examples=[
            OpenApiExample(
                "Return one unit",
                request_only=True,
                value={
                    "orderId": "3000179302",
                    "store": "TMSUS",
                    "transactionId": "b6f1c3e2-0001",
                    "requestTime": "2026-11-20T10:00:00Z",
                    "sourceName": "OMS",
                    "returnType": "RETURN",
                    "resolution": "REFUND",
                    "items": [
                        {
                            "lineNumber": 1,
                            "itemId": "21-RITOCS004b",
                            "returnQuantity": 1,
                            "returnReason": {"code": "TOO_SMALL", "category": "FIT"},
                        }
                    ],
                    "representativeInfo": {"id": "agent-7", "name": "Grace"},
                    "comments": "Customer called in.",
                },
            )
        ],
    )
    def post(self, request, **kwargs):
        status, body = operations.generate_rma(
            store=self.store,
            order_id=kwargs["orderId"],
            payload=self.payload(request),
            api_key=request.auth,
        )
        return self.respond(status, body)


class LookupRmaView(RmaServiceView):
    request_serializer = LookupRequestSerializer
    request_element = "RmaLookupRequest"
    response_element = "RmaLookupResponse"

    @extend_schema(
        operation_id="lookupRMA",
        summary="One RMA of an order by rmaid, or all of them",
        request=LookupRequestSerializer,
        responses={200: RmaResponseSerializer, **FAULTS},
    )
    def post(self, request, **kwargs):
        body = operations.lookup_rma(
            store=self.store, order_id=kwargs["orderId"], payload=self.payload(request)
        )
        return self.respond(200, body)
