"""Faults: every refusal of the RMA service API, as a code, an HTTP status and a body.

The body is format-neutral (a dict in the JSON shape of docs/api.md); the codecs
render it as JSON or as the XML `Fault` element.
"""

from __future__ import annotations

import datetime as dt
import http

from django.utils import timezone

from rma.eligibility import RULES
from rma.errors import DESCRIPTIONS, LineFailure

# HTTP status of each RMA code that can be a fault (the error table of docs/api.md).
STATUS_BY_CODE = {
    "RMA 1001": 400,
    "RMA 1002": 404,
    "RMA 1003": 404,
    "RMA 1004": 500,
    "RMA 1005": 422,
    # Every eligibility code of docs/eligibility.md (1007 also for a quantity out of range).
    **dict.fromkeys(RULES, 422),
    "RMA 1009": 404,
    "RMA 1021": 404,
    "RMA 1022": 409,
    "RMA 1023": 422,
}

# Faults that are about HTTP rather than about a return: their code is the HTTP status.
UNAUTHORIZED = "401"


class ApiFault(Exception):
    """A refusal to send back as a fault.

    `code` is an RMA code ("RMA 1003") or, for HTTP-level refusals without one (401,
    405), the status as text. `detail` explains a 1001 to the integrator (which field,
    which line of the document); it never carries internals. `items` lists every
    failing line of a refused generateRMA.
    """

    def __init__(
        self,
        code: str,
        *,
        status: int | None = None,
        detail: str = "",
        items: list[LineFailure] | tuple[LineFailure, ...] = (),
    ):
        self.code = code
        self.status = status or STATUS_BY_CODE[code]
        self.detail = detail
        self.items = list(items)
        super().__init__(code, detail)

    @property
    def description(self) -> str:
        if self.code in DESCRIPTIONS:
            return DESCRIPTIONS[self.code]
        return http.HTTPStatus(self.status).phrase


def invalid_request(detail: str, *, status: int = 400) -> ApiFault:
    """RMA 1001: the body is not a valid request document (JSON or XML)."""
    return ApiFault("RMA 1001", status=status, detail=detail)


def timestamp(now: dt.datetime | None = None) -> str:
    return (now or timezone.now()).astimezone(dt.UTC).isoformat(timespec="milliseconds")


def fault_body(fault: ApiFault, *, request_id: str = "", echo: dict | None = None) -> dict:
    """The fault document: `{"fault": {"code", "description", "createTimestamp", ...}}`.

    `echo`: the request's `orderType`/`storeType`, when its body could be read.
    """
    body = {
        "code": fault.code,
        "description": fault.description,
        "createTimestamp": timestamp(),
    }
    if fault.detail:
        body["detail"] = fault.detail
    if request_id:
        body["requestId"] = request_id
    if fault.items:
        body["items"] = [
            {
                "lineNumber": str(item.line_number),
                "code": item.code,
                "description": item.description,
            }
            for item in fault.items
        ]
    body.update(echo or {})
    return {"fault": body}
