"""A fake external label service (`LABEL_SERVICE=http`) whose behaviour a test scripts.

A real HTTP server on 127.0.0.1, port chosen by the OS, answering in a thread. Each
request takes the next scripted action; when the script is used up it issues a label:
`{"carrier", "trackingNumber", "labelPdf": base64}` with a one-page 4 x 6 in PDF that
names the RMA.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


class FakeLabelService:
    def __init__(self):
        self.calls: list[Call] = []
        # Calls whose answer has been written (or refused by a client that left).
        self.answered: list[Call] = []
        self._script: deque = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/labels"

    def start(self) -> FakeLabelService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def then(self, *actions) -> None:
        """Script the next requests' behaviour, in order."""
        with self._lock:
            self._script.extend(actions)

    def release(self) -> None:
        """Let held requests go on (their clients may be gone by now)."""
        self._released.set()

    def wait_for_calls(self, count: int, *, timeout: float = 30.0) -> list[Call]:
        """Poll until `count` requests have arrived (a bound for a hang, not a time limit)."""
        return self._wait_for(self.calls, count, timeout, "requests")

    def wait_for_answers(self, count: int, *, timeout: float = 30.0) -> list[Call]:
        """Poll until `count` requests have been answered (or their clients had left)."""
        return self._wait_for(self.answered, count, timeout, "answers")

    def _wait_for(self, calls: list[Call], count: int, timeout: float, what: str) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(calls) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the label service has {len(calls)} {what}, not {count}")
            time.sleep(0.02)
        return list(calls)

    def _next_action(self, call: Call):
        with self._lock:
            self.calls.append(call)
            return self._script.popleft() if self._script else None

    def _handler_class(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                call = Call(body["rmaId"], self.headers.get("apikey", ""))
                action = service._next_action(call)
                try:
                    if isinstance(action, Answer):
                        self._reply(action.status, {"error": f"scripted {action.status}"})
                        return
                    if isinstance(action, Hold):
                        service._released.wait(timeout=60)
                    number = len(service.calls)
                    label = {
                        "carrier": CARRIER,
                        "trackingNumber": f"FK{number:08d}",
                        "labelPdf": base64.b64encode(label_pdf(f"RMA {body['rmaId']}")).decode(),
                    }
                    self._reply(200, label)
                finally:
                    with service._lock:
                        service.answered.append(call)

            def _reply(self, status: int, document: dict) -> None:
                payload = json.dumps(document).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout) or died: nothing to answer

            def log_message(self, format, *args):
                pass

        return Handler
