"""The RMA service API: thin views over `operations`.

Each request goes: store (unknown → RMA 1002, for any caller) → `apikey` header
(401, one answer for every failure) → body (size limit, decoding, validation → RMA
1001) → operation. On the suffix routes the URL (`.json` or `.xml`) chooses the format
of the request and of every response, faults included, and `Content-Type` and `Accept`
are not consulted. On Radial's URI template routes the headers choose it
(`negotiated_format`). Every response carries `X-Request-ID`; an unexpected error is
logged with it and answered as RMA 1004 without internals.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
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
from rma.queue import held_until_published, publish
from rma.selectors import store_key_and_order_for_eligibility

from . import json_codec, operations, xml_codec
from .authentication import HEADER, ApiKeyAuthentication
from .faults import UNAUTHORIZED, ApiFault, fault_body, invalid_request
from .responses import echo
from .serializers import (
    EligibilityRequestSerializer,
    EligibilityResponseSerializer,
    FaultSerializer,
    LookupRequestSerializer,
    RmaLookupResponseSerializer,
    RmaRequestSerializer,
    RmaResponseSerializer,
    validation_detail,
    with_data,
)

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# `api_format` of the URI template routes: the headers decide, per request.
NEGOTIATED = "negotiated"


def _media_types(header: str) -> list[str]:
    return [part.split(";", 1)[0].strip().lower() for part in header.split(",") if part.strip()]


def _says_json(media_type: str) -> bool:
    return media_type in ("application/json", "text/json") or media_type.endswith("+json")


def _says_xml(media_type: str) -> bool:
    return media_type in ("application/xml", "text/xml") or media_type.endswith("+xml")


def negotiated_format(request) -> str:
    """The format of a URI template route's request and response.

    A `Content-Type` naming JSON or XML decides (the body is in that format); otherwise
    JSON when `Accept` names JSON, else XML (Radial's default).
    """
    content_type = _media_types(request.META.get("CONTENT_TYPE", ""))[:1]
    if content_type and _says_json(content_type[0]):
        return "json"
    if content_type and _says_xml(content_type[0]):
        return "xml"
    if any(_says_json(media) for media in _media_types(request.META.get("HTTP_ACCEPT", ""))):
        return "json"
    return "xml"


def render(api_format: str, status: int, body: dict, *, root: str) -> HttpResponse:
    """A body (JSON shape) in `api_format`; `root` names the XML document (`Fault` too)."""
    if api_format == "xml":
        if root == "Fault":
            content = xml_codec.encode_fault(body)
        else:
            content = xml_codec.encode(body, root=root)
        content_type = xml_codec.CONTENT_TYPE
    else:
        content, content_type = json_codec.encode(body), json_codec.CONTENT_TYPE
    return HttpResponse(content, status=status, content_type=content_type)


@csrf_exempt
def not_found(request, *args, **kwargs) -> HttpResponse:
    """Any other path under the API's prefixes: a 404 fault, never the HTML page."""
    fault = ApiFault("404", status=404)
    response = render(negotiated_format(request), 404, fault_body(fault), root="Fault")
    response[REQUEST_ID_HEADER] = str(uuid.uuid4())
    return response


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
        self.echo = {}
        if self.api_format == NEGOTIATED:
            self.api_format = negotiated_format(request)
        # Follow-up tasks (a label, emails) are published once the response has gone out:
        # the WSGI server closes the response after sending it (Django's closers).
        with held_until_published() as tasks:
            response = super().dispatch(request, *args, **kwargs)
        if tasks:
            response._resource_closers.append(lambda: publish(tasks))
        return response

    def initial(self, request, *args, **kwargs):
        # The store and the key in one query; an unknown store is 1002 for anyone, then
        # authentication (a missing or invalid key is 401) reads `self.api_key`.
        store_code, raw_key = kwargs["store"], request.headers.get(HEADER)
        # PostgreSQL cannot compare text with NUL in it: no store or key has one.
        if "\x00" in store_code:
            raise ApiFault("RMA 1002")
        if raw_key and "\x00" in raw_key:
            raw_key = None
        self.store, self.api_key = self.store_and_key(store_code=store_code, raw_key=raw_key)
        if self.store is None:
            raise ApiFault("RMA 1002")
        super().initial(request, *args, **kwargs)

    def store_and_key(self, *, store_code: str, raw_key: str | None):
        """The store and the accepted key (`api_key_authenticate`), in one query."""
        return api_key_authenticate(store_code=store_code, raw_key=raw_key)

    def payload(self, request) -> dict:
        """The request body, decoded in the route's format and validated."""
        body = read_body(request._request)
        if not self.body_required and not body.strip():
            data = {}
        elif self.api_format == "xml":
            data = xml_codec.decode(body, root=self.request_element)
        else:
            data = json_codec.decode(body)
        # Echoed in the response, faults included, once the body could be read.
        self.echo = echo(data)
        serializer = with_data(self.request_serializer, data)
        if not serializer.is_valid():
            raise invalid_request(validation_detail(serializer.errors))
        return serializer.validated_data

    def respond(self, status: int, body: dict, *, root: str = "") -> HttpResponse:
        return render(self.api_format, status, body, root=root or self.response_element)

    def handle_exception(self, exc):
        fault = self.fault_for(exc)
        request_id = self.request_id if fault.code == "RMA 1004" else ""
        body = fault_body(fault, request_id=request_id, echo=self.echo)
        return self.respond(fault.status, body, root="Fault")

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

    def store_and_key(self, *, store_code: str, raw_key: str | None):
        # The order in the same query as the store and the key: one round trip fewer.
        order_id, self.order = self.kwargs["orderId"], None
        if "\x00" in order_id:  # names no order (check_reference), and PostgreSQL cannot compare it
            return super().store_and_key(store_code=store_code, raw_key=raw_key)
        store, api_key, self.order = store_key_and_order_for_eligibility(
            store_code=store_code, raw_key=raw_key, order_id=order_id
        )
        return store, api_key

    def check(self, *, payload: dict, order_id: str):
        body = operations.check_eligibility(
            store=self.store, order_id=order_id, payload=payload, order=self.order
        )
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
            ),
            OpenApiExample(
                "Radial: items taken back at a store counter",
                request_only=True,
                value={
                    "orderId": "2000009318",
                    "orderType": "OMS",
                    "store": "TMSUS",
                    "storeType": "Store",
                    "transactionId": "TransactionId-2000009318",
                    "sourceName": "ROMUI",
                    "sourceLocationId": "100801",
                    "requestTime": "2020-05-07T14:54:15+00:00",
                    "returnItemsReceived": True,
                    "returnType": "InStore",
                    "items": [
                        {
                            "lineNumber": "1",
                            "itemId": "21-RITOCS004b",
                            "returnQuantity": 1,
                            "returnReason": {
                                "code": "CDE",
                                "category": "CDE",
                                "description": "Cancelled Data Entry Error",
                            },
                        }
                    ],
                    "representativeInfo": {"id": "BURNSM@HIBNA", "name": "MCKENZIE"},
                    "comments": "Item not what i Ordered!!",
                },
            ),
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
        responses={200: RmaLookupResponseSerializer, **FAULTS},
    )
    def post(self, request, **kwargs):
        body = operations.lookup_rma(
            store=self.store, order_id=kwargs["orderId"], payload=self.payload(request)
        )
        return self.respond(200, body)
