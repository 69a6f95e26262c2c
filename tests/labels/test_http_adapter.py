"""The http adapter against a real (small, fake) label service on 127.0.0.1."""

import base64
import contextlib
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from labels.adapters import PermanentLabelError, TransientLabelError
from labels.adapters.http import HttpLabelService
from tests.labels.conftest import TINY_PDF
from tests.labels.samples import label_request

API_KEY = "label-service-key-123"
LABEL_PDF = TINY_PDF + b"label from the service"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    # Answer only when the test releases the server (a service slower than any timeout).
    held: bool = False
    content_type: str = "application/json"


def json_reply(document, status: int = 200) -> Reply:
    return Reply(status=status, body=json.dumps(document).encode())


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class FakeLabelServer:
    """Answers each path with its `Reply`; records every request it gets."""

    replies: dict[str, Reply] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/labels", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def server():
    state = FakeLabelServer()

    class Handler(BaseHTTPRequestHandler):
        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            state.received.append(
                Received(self.command, self.path, dict(self.headers), self.rfile.read(length))
            )
            state.arrived.set()
            reply = state.replies.get(self.path, Reply(status=404))
            if reply.held:
                state.released.wait(timeout=60)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up (timeout test)
                self.wfile.write(reply.body)

        do_GET = do_POST = answer

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield state
    state.released.set()
    httpd.shutdown()
    httpd.server_close()


def service_for(url: str, *, timeout: float = 2.0) -> HttpLabelService:
    return HttpLabelService(url=url, api_key=API_KEY, timeout=timeout)


REQUEST = label_request()


def test_label_pdf_in_the_answer(server):
    server.replies["/labels"] = json_reply(
        {
            "carrier": "UPS",
            "trackingNumber": "1Z999AA10123456784",
            "labelPdf": base64.b64encode(LABEL_PDF).decode(),
        }
    )
    issued = service_for(server.url()).issue(REQUEST)

    assert (issued.carrier, issued.tracking_number, issued.pdf) == (
        "UPS",
        "1Z999AA10123456784",
        LABEL_PDF,
    )
    (call,) = server.received
    assert call.method == "POST"
    assert call.headers["apikey"] == API_KEY
    assert call.headers["Content-Type"] == "application/json"
    assert json.loads(call.body) == {
        "rmaId": "ABCD-EFGH-JKM2",
        "store": "TMSUS",
        "orderId": "3000179302",
        "from": REQUEST.from_address,
        "to": REQUEST.to_address,
        "package": REQUEST.package,
    }


def test_label_url_in_the_answer_is_downloaded(server):
    server.replies["/files/label.pdf"] = Reply(body=LABEL_PDF, content_type="application/pdf")
    label_url = server.url("/files/label.pdf")
    server.replies["/labels"] = json_reply(
        {"carrier": "DHL", "trackingNumber": "JD0146", "labelUrl": label_url}, status=201
    )
    issued = service_for(server.url()).issue(REQUEST)

    assert (issued.carrier, issued.tracking_number) == ("DHL", "JD0146")
    assert issued.pdf == LABEL_PDF
    assert issued.label_url == label_url
    _post, download = server.received
    assert (download.method, download.path) == ("GET", "/files/label.pdf")
    # Same origin as the service: the key goes along.
    assert download.headers["apikey"] == API_KEY


def test_api_key_is_not_sent_to_a_label_url_on_another_host(server):
    server.replies["/files/label.pdf"] = Reply(body=LABEL_PDF, content_type="application/pdf")
    server.replies["/labels"] = json_reply(
        {
            "carrier": "DHL",
            "trackingNumber": "JD0146",
            "labelUrl": server.url("/files/label.pdf", host="localhost"),
        }
    )
    assert service_for(server.url()).issue(REQUEST).pdf == LABEL_PDF
    post, download = server.received
    assert post.headers["apikey"] == API_KEY
    assert "apikey" not in download.headers


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_is_transient(server, status):
    server.replies["/labels"] = json_reply({"error": "down"}, status=status)
    with pytest.raises(TransientLabelError):
        service_for(server.url()).issue(REQUEST)


def test_server_error_on_the_label_download_is_transient(server):
    server.replies["/files/label.pdf"] = Reply(status=503)
    server.replies["/labels"] = json_reply(
        {"carrier": "DHL", "trackingNumber": "1", "labelUrl": server.url("/files/label.pdf")}
    )
    with pytest.raises(TransientLabelError):
        service_for(server.url()).issue(REQUEST)


def test_timeout_is_transient(server):
    # The service takes the request and never answers while the client waits.
    server.replies["/labels"] = Reply(body=b"{}", held=True)
    with pytest.raises(TransientLabelError) as raised:
        service_for(server.url(), timeout=0.2).issue(REQUEST)

    # The client gave up on its own timeout (not on an error answer, not on a refusal).
    assert isinstance(raised.value.__cause__, requests.Timeout)
    assert server.arrived.wait(timeout=30), "the service saw the request"
    assert [(call.method, call.path) for call in server.received] == [("POST", "/labels")]


def test_connection_refused_is_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    with pytest.raises(TransientLabelError):
        service_for(f"http://127.0.0.1:{port}/labels").issue(REQUEST)


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_client_error_is_permanent(server, status):
    server.replies["/labels"] = json_reply({"error": "bad request"}, status=status)
    with pytest.raises(PermanentLabelError):
        service_for(server.url()).issue(REQUEST)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        json.dumps({"trackingNumber": "1", "labelPdf": "JVBERi0="}).encode(),
        json.dumps({"carrier": "UPS", "labelPdf": "JVBERi0="}).encode(),
        json.dumps({"carrier": "UPS", "trackingNumber": "1"}).encode(),
        json.dumps({"carrier": "UPS", "trackingNumber": "1", "labelPdf": "%%%"}).encode(),
        json.dumps(
            {
                "carrier": "UPS",
                "trackingNumber": "1",
                "labelPdf": base64.b64encode(b"<html>").decode(),
            }
        ).encode(),
        json.dumps(
            {"carrier": "UPS", "trackingNumber": "1", "labelUrl": "ftp://x/label.pdf"}
        ).encode(),
    ],
    ids=[
        "malformed JSON",
        "not an object",
        "no carrier",
        "no tracking number",
        "no label",
        "invalid base64",
        "not a PDF",
        "label URL not http",
    ],
)
def test_malformed_answer_is_permanent(server, body):
    server.replies["/labels"] = Reply(body=body)
    with pytest.raises(PermanentLabelError):
        service_for(server.url()).issue(REQUEST)


def test_redirect_is_not_followed(server):
    server.replies["/labels"] = Reply(status=302, body=b"")
    with pytest.raises(PermanentLabelError):
        service_for(server.url()).issue(REQUEST)
    assert len(server.received) == 1


def test_settings_configure_the_service(settings):
    settings.LABEL_SERVICE_URL = "https://labels.example/v1/labels"
    settings.LABEL_SERVICE_API_KEY = "k"
    settings.LABEL_SERVICE_TIMEOUT = 3.5
    service = HttpLabelService.from_settings()
    assert (service.url, service.api_key, service.timeout) == (
        "https://labels.example/v1/labels",
        "k",
        3.5,
    )
