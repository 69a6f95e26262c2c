"""A fake external label service (`LABEL_SERVICE=http`) whose behaviour a test scripts.

A real HTTP server on 127.0.0.1, port chosen by the OS, answering in a thread
(`tests.fake_http`). Each request takes the next scripted action; when the script is
used up it issues a label: `{"carrier", "trackingNumber", "labelPdf": base64}` with a
one-page 4 x 6 in PDF that names the RMA.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from tests.fake_http import FakeHttpServer, HttpRequest
from tests.labels.fake_carrier import label_pdf

CARRIER = "FAKE-CARRIER"


@dataclass(frozen=True)
class Call:
    rma_number: str
    api_key: str


@dataclass(frozen=True)
class Answer:
    """Answer with this HTTP status (and no label unless it is 200)."""

    status: int


@dataclass(frozen=True)
class Hold:
    """Keep the request open until the test calls `release()` (a worker dies meanwhile)."""


class FakeLabelService(FakeHttpServer):
    def __init__(self):
        super().__init__()
        # Calls whose answer has been written (or refused by a client that left).
        self.answered: list[Call] = []

    @property
    def url(self) -> str:
        return self.origin + "/labels"

    def wait_for_calls(self, count: int, *, timeout: float = 30.0) -> list[Call]:
        """Poll until `count` requests have arrived (a bound for a hang, not a time limit)."""
        return self._wait_for(
            lambda: self.calls, count, timeout, "the label service has {got} requests, not {count}"
        )

    def wait_for_answers(self, count: int, *, timeout: float = 30.0) -> list[Call]:
        """Poll until `count` requests have been answered (or their clients had left)."""
        return self._wait_for(
            lambda: self.answered,
            count,
            timeout,
            "the label service has {got} answers, not {count}",
        )

    def respond(self, request: HttpRequest):
        body = json.loads(request.body)
        call = Call(body["rmaId"], request.headers.get("apikey", ""))
        request.call = call
        action = self._record(call)
        if isinstance(action, Answer):
            return action.status, {"error": f"scripted {action.status}"}, {}
        if isinstance(action, Hold):
            self.hold()
        number = len(self.calls)
        label = {
            "carrier": CARRIER,
            "trackingNumber": f"FK{number:08d}",
            "labelPdf": base64.b64encode(label_pdf(f"RMA {body['rmaId']}")).decode(),
        }
        return 200, label, {}

    def on_answered(self, request: HttpRequest) -> None:
        if request.call is not None:
            with self._lock:
                self.answered.append(request.call)
