"""What the local fake providers (carriers, the label service, Stripe) share.

A real HTTP server on 127.0.0.1 (port chosen by the OS) answering each request in its
own thread. A fake records what it was sent (`calls`) and takes the next scripted action
per request (`then`); `hold()` keeps a request open until `release()` (so a client
that times out or a worker killed meanwhile never hears the answer) and nothing sleeps
for a fixed time.

A subclass answers `respond(request) -> (status, body, headers)`: `body` is bytes, or a
document sent as JSON; `headers` may set `Content-Type` (JSON by default).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# How long a held request waits for `release()` at most: a bound for a hang.
HOLD_SECONDS = 60


@dataclass
class HttpRequest:
    method: str
    path: str
    # Header names in lower case.
    headers: dict
    body: bytes
    # What the fake recorded for it, if anything.
    call: object = None


class FakeHttpServer:
    def __init__(self):
        self.calls: list = []
        self._script: dict[object, deque] = defaultdict(deque)
        self._lock = threading.RLock()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def then(self, *actions) -> None:
        """Script the next requests' behaviour, in order."""
        self._enqueue(None, actions)

    def release(self) -> None:
        """Let held requests go on (their clients may be gone by now)."""
        self._released.set()

    def hold(self, timeout: float = HOLD_SECONDS) -> None:
        self._released.wait(timeout=timeout)

    def _enqueue(self, route, actions) -> None:
        with self._lock:
            self._script[route].extend(actions)

    def _record(self, call, route=None):
        """Record a call; the next action scripted for `route`, or None."""
        with self._lock:
            self.calls.append(call)
            script = self._script[route]
            return script.popleft() if script else None

    @staticmethod
    def _wait_for(read, count: int, timeout: float, message: str) -> list:
        """Poll until `read()` holds `count` items (a bound for a hang, not a time limit);
        `message` says what is missing, with `{got}` and `{count}`."""
        deadline = time.monotonic() + timeout
        while len(items := read()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(message.format(got=len(items), count=count))
            time.sleep(0.02)
        return list(items)

    def respond(self, request: HttpRequest) -> tuple[int, object, dict]:
        raise NotImplementedError

    def on_answered(self, request: HttpRequest) -> None:
        """Called once a request's answer was written, or its client had left."""

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str):
                length = int(self.headers.get("Content-Length") or 0)
                request = HttpRequest(
                    method=method,
                    path=self.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                try:
                    status, body, headers = fake.respond(request)
                    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                    headers = {"Content-Type": "application/json", **headers}
                    try:
                        self.send_response(status)
                        for name, value in headers.items():
                            self.send_header(name, value)
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                    except OSError:
                        pass  # the client gave up (timeout) or died: nothing to answer
                finally:
                    fake.on_answered(request)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def log_message(self, format, *args):
                pass

        return Handler
