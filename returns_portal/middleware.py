"""Request bodies are refused past their limit before they are read or stored.

Django stores an uploaded file on disk as soon as it is larger than
`FILE_UPLOAD_MAX_MEMORY_SIZE`, long before a form can say it is too large. This
middleware decides first, from the headers and at most `limit + 1` bytes of the body:

- A declared `Content-Length` above the limit is refused at once; not a byte of the
  body is read.
- A chunked body (no `Content-Length`; Django would otherwise read it as empty) is read
  into memory up to the limit and handed on with its length; past the limit it is
  refused. This needs a server that de-chunks the body and says so
  (`wsgi.input_terminated`, as gunicorn does).

The limit is `MAX_REQUEST_BYTES` (default 12 MiB), and `API_MAX_BODY_BYTES` for the two
APIs. The refusal is a 413: the API's own fault (RMA 1001, in the route's JSON or XML),
the order push API's `{"errors": [...]}`, or a friendly page for everyone else.

It is the last middleware, so nothing before it reads the body (CSRF reads the form in
`process_view`, after every middleware's request phase) and its 413 still passes
through the others (security headers, CSP).
"""

from __future__ import annotations

import io
import uuid

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat

# Paths of the RMA service API (faults) and of the order push API (JSON errors).
RMA_SERVICE_PREFIX = "/v1.0/"
ORDER_API_PREFIX = "/api/v1/"
# After refusing an over-long chunked body, read on (and discard) at most this much, so a
# client that is still sending gets the answer rather than a reset connection.
DRAIN_BYTES = 1024 * 1024
READ_BLOCK = 64 * 1024


def body_limit(request: HttpRequest) -> int:
    """The most bytes a request to this path may carry."""
    limit = settings.MAX_REQUEST_BYTES
    if request.path_info.startswith((RMA_SERVICE_PREFIX, ORDER_API_PREFIX)):
        limit = min(limit, settings.API_MAX_BODY_BYTES)
    return limit


def declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META["CONTENT_LENGTH"])
    except (KeyError, ValueError, TypeError):
        return None


def is_chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def read_at_most(stream, limit: int) -> bytes:
    """Up to `limit` bytes from a WSGI input stream, in blocks."""
    parts, size = [], 0
    while size < limit:
        block = stream.read(min(READ_BLOCK, limit - size))
        if not block:
            break
        parts.append(block)
        size += len(block)
    return b"".join(parts)


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request)
        length = declared_length(request)
        if length is not None and length > limit:
            return request_too_large(request, limit)
        # Only a server that de-chunks the input and marks its end (gunicorn sets
        # wsgi.input_terminated) can be read to the end; elsewhere Django reads nothing.
        if length is None and is_chunked(request) and request.META.get("wsgi.input_terminated"):
            stream = request.META["wsgi.input"]
            body = read_at_most(stream, limit + 1)
            if len(body) > limit:
                read_at_most(stream, DRAIN_BYTES)
                return request_too_large(request, limit)
            # Hand the body on as if it had been sent with its length.
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))
        return self.get_response(request)


def request_too_large(request: HttpRequest, limit: int) -> HttpResponse:
    """413 in the form the caller understands (API fault, API errors, or a page)."""
    if request.path_info.startswith(RMA_SERVICE_PREFIX):
        return _rma_service_fault(request, limit)
    if request.path_info.startswith(ORDER_API_PREFIX):
        return JsonResponse({"errors": [f"the body is larger than {limit} bytes"]}, status=413)
    return render(
        request,
        "413.html",
        {"limit": filesizeformat(limit), "photo_limit": filesizeformat(settings.PHOTO_MAX_BYTES)},
        status=413,
    )


def _rma_service_fault(request: HttpRequest, limit: int) -> HttpResponse:
    # The API's own fault, as its views answer an oversized body (RMA 1001, 413).
    from rma.api.faults import fault_body, invalid_request
    from rma.api.views import negotiated_format, render

    if request.path_info.endswith(".json"):
        api_format = "json"
    elif request.path_info.endswith(".xml"):
        api_format = "xml"
    else:
        api_format = negotiated_format(request)
    fault = invalid_request(f"The request body is larger than {limit} bytes.", status=413)
    response = render(api_format, 413, fault_body(fault), root="Fault")
    response["X-Request-ID"] = str(uuid.uuid4())
    return response
