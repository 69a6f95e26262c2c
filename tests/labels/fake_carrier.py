"""A scriptable local HTTP server for the carrier fakes (EasyPost, Shippo).

A real HTTP server on 127.0.0.1 (port chosen by the OS), answering in threads
(`tests.fake_http`). Each fake routes requests to handlers; a test scripts faults per
route with `then(route, action)`: `Answer(status)` answers an error before doing
anything, `AnswerAfter(status)` does the work (e.g. buys the label) and then answers an
error as if the answer were lost, `Hold()` does the work and keeps the request open
until `release()`."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests.fake_http import FakeHttpServer, HttpRequest


def label_pdf(text: str) -> bytes:
    """A minimal valid one-page PDF, 288 x 432 pt (4 x 6 in), showing `text`."""
    content = f"BT /F1 16 Tf 24 400 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


# A 1x1 PNG: what a carrier's QR code link serves.
QR_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@dataclass(frozen=True)
class Answer:
    """Answer this HTTP status at once, doing nothing."""

    status: int


@dataclass(frozen=True)
class AnswerAfter:
    """Do the work, then answer this status (the carrier acted, its answer was lost)."""

    status: int


@dataclass(frozen=True)
class Hold:
    """Do the work, then keep the request open until `release()` (its client dies)."""


@dataclass
class Call:
    method: str
    path: str
    query: dict
    body: dict | None
    headers: dict
    at: float = field(default_factory=time.monotonic)


class Reply(Exception):
    """Raised by a handler to answer an error document."""

    def __init__(self, status: int, document: dict):
        self.status = status
        self.document = document


class FakeCarrier(FakeHttpServer):
    """Subclasses fill `routes`: (method, regex, handler name, route name)."""

    routes: list[tuple[str, str, str, str]] = []
    api_prefix = ""

    def __init__(self, *, api_key: str):
        super().__init__()
        self.api_key = api_key

    @property
    def url(self) -> str:
        return self.origin + self.api_prefix

    def then(self, route: str, *actions) -> None:
        self._enqueue(route, actions)

    def calls_to(self, route: str) -> list[Call]:
        return [call for call in self.calls if getattr(call, "route", None) == route]

    def wait_for_calls(self, route: str, count: int, *, timeout: float = 30.0) -> list[Call]:
        return self._wait_for(
            lambda: self.calls_to(route), count, timeout, route + ": {got} calls, not {count}"
        )

    # Subclasses: authorised(headers) -> bool, error_document(status, message) -> dict.

    def _dispatch(self, method: str, raw_path: str, body: bytes, headers: dict):
        parts = urlsplit(raw_path)
        document = None
        if body:
            try:
                document = json.loads(body)
            except ValueError:
                return 400, self.error_document(400, "body is not JSON"), "application/json"
        for route_method, pattern, handler, route in self.routes:
            match = re.fullmatch(pattern, parts.path)
            if route_method != method or not match:
                continue
            call = Call(method, parts.path, parse_qs(parts.query), document, headers)
            call.route = route
            action = self._record(call, route)
            if route != "file" and not self.authorised(headers):
                return 401, self.error_document(401, "bad credentials"), "application/json"
            if isinstance(action, Answer):
                return (
                    action.status,
                    self.error_document(action.status, "scripted"),
                    ("application/json"),
                )
            try:
                with self._lock:
                    status, answer, content_type = getattr(self, handler)(call, **match.groupdict())
            except Reply as reply:
                return reply.status, reply.document, "application/json"
            if isinstance(action, AnswerAfter):
                return (
                    action.status,
                    self.error_document(action.status, "scripted"),
                    ("application/json"),
                )
            if isinstance(action, Hold):
                self.hold(timeout=120)
            return status, answer, content_type
        return 404, self.error_document(404, "no such route"), "application/json"

    def file(self, call: Call, name: str):
        if name.endswith(".png"):
            return 200, QR_PNG, "image/png"
        return 200, label_pdf(f"LABEL {name}"), "application/pdf"

    def respond(self, request: HttpRequest):
        status, answer, content_type = self._dispatch(
            request.method, request.path, request.body, request.headers
        )
        return status, answer, {"Content-Type": content_type}
