"""A local HTTP server that answers like Stripe's API for refunds (POST /v1/refunds).

What the official `stripe` library sends and expects, as Stripe documents it:
form-encoded parameters (`payment_intent`, `amount`, `metadata[...]`), the secret key as
a Bearer token, an `Idempotency-Key` header (the same key with the same parameters
replays the first answer with `Idempotent-Replayed: true`; with other parameters it is
an `idempotency_error`), a `refund` object on success and `{"error": {"type", "code",
"message", "param"}}` on failure (400 invalid request, 401 bad key, 429 rate limit,
500 API error). Known PaymentIntents have an amount that refunds cannot exceed.

Tests script what the next requests get: `Answer(status, type)`, or `Hold()` (the
refund is made, the answer waits until `release()`: a client that times out or a
worker killed meanwhile never hears of it). Nothing here sleeps: a slow Stripe is a
held answer, so no test depends on how fast the machine is.
"""

from __future__ import annotations

import itertools
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from tests.fake_http import FakeHttpServer, HttpRequest

API_KEY = "sk_test_returns_portal"


@dataclass(frozen=True)
class Answer:
    status: int
    type: str = "api_error"
    code: str = ""
    message: str = "Scripted error"


@dataclass(frozen=True)
class Hold:
    pass


@dataclass
class Request:
    path: str
    params: dict
    idempotency_key: str
    authorization: str
    stripe_version: str


@dataclass
class PaymentIntent:
    id: str
    amount: int
    currency: str
    refunded: int = 0
    refunds: list = field(default_factory=list)


def _error(status: int, type_: str, message: str, code: str = "", param: str = "") -> tuple:
    error = {"type": type_, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return status, {"error": error}


class FakeStripe(FakeHttpServer):
    def __init__(self):
        super().__init__()
        self.payment_intents: dict[str, PaymentIntent] = {}
        # Refunds made, by id, in order.
        self.refunds: dict[str, dict] = {}
        self._idempotent: dict[str, tuple[dict, int, dict]] = {}
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        return self.origin

    @property
    def requests(self) -> list[Request]:
        return self.calls

    def payment_intent(self, amount: int, currency: str = "usd", id: str = "") -> str:
        """A PaymentIntent that was paid `amount` minor units; returns its id."""
        intent = PaymentIntent(id or f"pi_test_{next(self._ids):06d}", amount, currency)
        self.payment_intents[intent.id] = intent
        return intent.id

    def wait_for_requests(self, count: int, *, timeout: float = 30.0) -> list[Request]:
        """Poll until `count` requests arrived (a bound for a hang, not a time limit)."""
        return self._wait_for(
            lambda: self.calls, count, timeout, "Stripe has {got} requests, not {count}"
        )

    # --- the API ---------------------------------------------------------------------

    def _create_refund(self, params: dict) -> tuple[int, dict]:
        intent = self.payment_intents.get(params.get("payment_intent", ""))
        if intent is None:
            return _error(
                400,
                "invalid_request_error",
                f"No such payment_intent: '{params.get('payment_intent', '')}'",
                code="resource_missing",
                param="payment_intent",
            )
        try:
            amount = int(params.get("amount", intent.amount - intent.refunded))
        except ValueError:
            return _error(400, "invalid_request_error", "Invalid integer", param="amount")
        if amount < 1:
            return _error(400, "invalid_request_error", "Amount must be at least 1", param="amount")
        if amount > intent.amount - intent.refunded:
            return _error(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({intent.amount - intent.refunded})",
                code="amount_too_large",
                param="amount",
            )
        intent.refunded += amount
        refund = {
            "id": f"re_test_{next(self._ids):06d}",
            "object": "refund",
            "amount": amount,
            "currency": intent.currency,
            "payment_intent": intent.id,
            "charge": f"ch_for_{intent.id}",
            "status": "succeeded",
            "reason": params.get("reason"),
            "metadata": {
                key[len("metadata[") : -1]: value
                for key, value in params.items()
                if key.startswith("metadata[")
            },
            "created": int(time.time()),
        }
        intent.refunds.append(refund["id"])
        self.refunds[refund["id"]] = refund
        return 200, refund

    def _handle(self, request: Request, action) -> tuple[int, dict, dict]:
        """(status, body, extra headers) for one request."""
        if request.authorization != f"Bearer {API_KEY}":
            status, body = _error(401, "invalid_request_error", "Invalid API Key provided: sk_***")
            return status, body, {}
        if isinstance(action, Answer):
            status, body = _error(action.status, action.type, action.message, action.code)
            return status, body, {}
        if request.path != "/v1/refunds":
            status, body = _error(
                404, "invalid_request_error", f"Unrecognized request URL (POST: {request.path})"
            )
            return status, body, {}
        key = request.idempotency_key
        with self._lock:
            if key and key in self._idempotent:
                params, status, body = self._idempotent[key]
                if params != request.params:
                    status, body = _error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                    )
                    return status, body, {}
                return status, body, {"Idempotent-Replayed": "true"}
            status, body = self._create_refund(request.params)
            if key and status < 500:
                self._idempotent[key] = (request.params, status, body)
        return status, body, {}

    def respond(self, request: HttpRequest):
        params = {key: values[-1] for key, values in parse_qs(request.body.decode()).items()}
        call = Request(
            path=request.path,
            params=params,
            idempotency_key=request.headers.get("idempotency-key", ""),
            authorization=request.headers.get("authorization", ""),
            stripe_version=request.headers.get("stripe-version", ""),
        )
        action = self._record(call)
        status, body, headers = self._handle(call, action)
        if isinstance(action, Hold):
            self.hold()
        return status, body, {"Request-Id": f"req_{len(self.calls)}", **headers}


@contextmanager
def stripe_for_refunds(settings, *, timeout: float):
    """A started fake Stripe API with REFUND_SERVICE=stripe pointed at it (pytest-django's
    `settings`), its client timeout `timeout` seconds; stopped at the end."""
    server = FakeStripe().start()
    settings.REFUND_SERVICE = "stripe"
    settings.STRIPE_API_KEY = API_KEY
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_TIMEOUT = timeout
    try:
        yield server
    finally:
        server.stop()
