"""Outbound HTTP never reaches our own network (SSRF), checked on the resolved address.

A real HTTP server on 127.0.0.1 plays the internal service an attacker would like to
reach; it records every request, so "refused" means nothing arrived. The test settings
allow private addresses (the other tests' fakes listen on 127.0.0.1); these tests turn
that off.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from labels.adapters import PermanentLabelError
from labels.adapters.http import HttpLabelService
from returns_portal import outbound
from rma.models import DeliveryStatus, WebhookDelivery
from rma.webhooks import webhook_deliver
from tests.factories import WebhookEndpointFactory, rma_with_lines
from tests.labels.conftest import TINY_PDF
from tests.labels.samples import label_request

# Client timeout (seconds) for calls the loopback server must answer: a bound for a hang,
# generous so that a loaded machine never turns an answer into a timeout.
LOCAL_TIMEOUT = 30


class InternalService:
    """An HTTP server on 127.0.0.1 answering every path; `on_request` runs before it answers."""

    def __init__(self):
        self.paths: list[str] = []
        self.replies: dict[str, tuple[int, bytes]] = {}
        self.on_request = None
        service = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                service.paths.append(self.path)
                if service.on_request:
                    service.on_request(self.path)
                status, body = service.replies.get(self.path, (200, b"internal secrets"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True).start()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def internal():
    service = InternalService()
    yield service
    service.close()


@pytest.fixture
def guarded(settings):
    settings.ALLOW_PRIVATE_OUTBOUND = False
    return settings


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


BLOCKED = [
    "127.0.0.1",
    "127.8.9.10",
    "0.0.0.0",  # noqa: S104 (an address to refuse, not to bind)
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.100.100.200",  # carrier-grade NAT range (Alibaba metadata)
    "224.0.0.1",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
]


@pytest.mark.parametrize("address", BLOCKED)
def test_rule_refuses_non_public_addresses(address):
    assert not outbound.address_allowed(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_rule_allows_public_addresses(address):
    assert outbound.address_allowed(address)


def host_of(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.mark.parametrize("address", BLOCKED)
def test_every_non_public_address_is_refused_before_connecting(guarded, address):
    # A short connect timeout: an address that got through would time out or be refused
    # (a different error), never AddressNotAllowed.
    with pytest.raises(outbound.AddressNotAllowed):
        outbound.request("GET", f"http://{host_of(address)}:8/", timeout=(0.5, 0.5))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_internal_service_is_not_reached_by_address_or_by_name(guarded, internal, host):
    # "localhost" is a name: only resolving it at send time shows it is loopback (the
    # same as a DNS name that rebinds to 127.0.0.1 after the URL was checked).
    with pytest.raises(outbound.AddressNotAllowed) as refused:
        outbound.request("GET", internal.url("/admin", host=host), timeout=LOCAL_TIMEOUT)
    assert internal.paths == []
    assert outbound.error_summary(refused.value) == outbound.NOT_ALLOWED_MESSAGE
    assert "127.0.0.1" not in outbound.error_summary(refused.value)


def test_redirects_are_never_followed(settings, internal):
    settings.ALLOW_PRIVATE_OUTBOUND = True
    internal.replies["/moved"] = (302, b"")
    response = outbound.request("GET", internal.url("/moved"), timeout=LOCAL_TIMEOUT)
    assert response.status_code == 302
    assert internal.paths == ["/moved"]


def test_allow_private_outbound_lets_local_development_reach_local_services(settings, internal):
    settings.ALLOW_PRIVATE_OUTBOUND = True
    response = outbound.request("GET", internal.url("/health"), timeout=LOCAL_TIMEOUT)
    assert (response.status_code, response.content) == (200, b"internal secrets")
    assert internal.paths == ["/health"]


def test_a_refused_address_is_a_request_error_for_generic_callers(guarded, internal):
    with pytest.raises(requests.RequestException):
        outbound.request("GET", internal.url(), timeout=LOCAL_TIMEOUT)


# --- webhooks --------------------------------------------------------------------------


@pytest.mark.django_db
def test_webhook_to_an_internal_address_is_refused_and_open_and_closed_ports_look_alike(
    guarded, internal
):
    rma = rma_with_lines(1)
    deliveries = []
    for url in (internal.url("/hooks"), f"http://127.0.0.1:{closed_port()}/hooks"):
        endpoint = WebhookEndpointFactory(store=rma.store, url=url)
        deliveries.append(
            WebhookDelivery.objects.create(
                endpoint=endpoint, rma=rma, event="rma.authorized", payload={"event": "x"}
            )
        )

    for delivery in deliveries:
        assert webhook_deliver(delivery_id=delivery.pk) is False

    assert internal.paths == [], "nothing reached the internal service"
    open_port, closed = (WebhookDelivery.objects.get(pk=d.pk) for d in deliveries)
    assert open_port.last_error == closed.last_error == outbound.NOT_ALLOWED_MESSAGE
    assert open_port.last_response_status is closed.last_response_status is None
    assert open_port.status == closed.status == DeliveryStatus.PENDING
    assert open_port.attempts == closed.attempts == 1


@pytest.mark.django_db
def test_webhook_by_host_name_resolving_to_loopback_is_refused(guarded, internal):
    rma = rma_with_lines(1)
    endpoint = WebhookEndpointFactory(store=rma.store, url=internal.url("/hooks", "localhost"))
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, rma=rma, event="rma.authorized", payload={"event": "x"}
    )
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.last_error == outbound.NOT_ALLOWED_MESSAGE
    assert internal.paths == []


# --- the http label adapter --------------------------------------------------------------


def test_label_service_url_on_an_internal_address_is_refused(guarded, internal):
    service = HttpLabelService(url=internal.url("/labels"), api_key="key", timeout=LOCAL_TIMEOUT)
    with pytest.raises(PermanentLabelError) as refused:
        service.issue(label_request())
    assert internal.paths == []
    assert str(refused.value).endswith(outbound.NOT_ALLOWED_MESSAGE)
    assert "127.0.0.1" not in str(refused.value)


def test_label_url_answered_by_the_service_is_checked_when_it_is_fetched(settings, internal):
    """The service is reachable, the label URL it answers with is not.

    Every address here is loopback, so the test lets the service call through and turns
    the guard on while the service answers: the download that follows is checked when it
    connects.
    """
    settings.ALLOW_PRIVATE_OUTBOUND = True
    answer = {
        "carrier": "UPS",
        "trackingNumber": "1Z1",
        "labelUrl": internal.url("/latest/meta-data/label.pdf"),
    }
    internal.replies["/labels"] = (200, json.dumps(answer).encode())
    internal.replies["/latest/meta-data/label.pdf"] = (200, TINY_PDF)

    def guard_on(path):
        if path == "/labels":
            settings.ALLOW_PRIVATE_OUTBOUND = False

    internal.on_request = guard_on
    service = HttpLabelService(url=internal.url("/labels"), api_key="key", timeout=LOCAL_TIMEOUT)

    with pytest.raises(PermanentLabelError) as refused:
        service.issue(label_request())

    assert internal.paths == ["/labels"], "the label URL was never fetched"
    assert str(refused.value).endswith(outbound.NOT_ALLOWED_MESSAGE)


def test_label_service_is_reached_when_private_outbound_is_allowed(settings, internal):
    settings.ALLOW_PRIVATE_OUTBOUND = True
    answer = {"carrier": "UPS", "trackingNumber": "1Z1", "labelPdf": base64.b64encode(TINY_PDF)}
    answer["labelPdf"] = answer["labelPdf"].decode()
    internal.replies["/labels"] = (200, json.dumps(answer).encode())
    service = HttpLabelService(url=internal.url("/labels"), api_key="k", timeout=LOCAL_TIMEOUT)
    issued = service.issue(label_request())
    assert issued.pdf == TINY_PDF
