"""The three operations of the RMA service API over validated request dicts.

Format-free: the views decode JSON or XML into the same dict, call one of these, and
encode the result. Creating RMAs goes through the one request service,
`rma.services.rma_request.rma_request`, with channel API; refusals come back as
`ApiFault`.
"""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils import timezone

from rma.eligibility import evaluate_order
from rma.errors import RequestError, RmaError
from rma.models import ApiKey, ApiTransaction, Channel, Order, Store
from rma.numbers import normalise_rma_number, retry_if_number_taken
from rma.prepared import insert
from rma.selectors import with_eligibility_lines
from rma.services.actors import Actor
from rma.services.rma_request import (
    RequestContext,
    RequestedLine,
    order_for_request,
    rma_request,
)

from . import selectors
from .faults import ApiFault, invalid_request
from .responses import eligibility_body, generated_body, in_field_order, rmas_body

DEFAULT_RESOLUTION = "REFUND"
# Request fields recorded in the `rma.created` event (the service records the rest).
EVENT_FIELDS = ("sourceName", "returnType", "requestTime", "transactionId", "representativeInfo")
# Radial's request context: stored on each RMA.
CONTEXT_FIELDS = {
    "orderType": "order_type",
    "storeType": "store_type",
    "sourceName": "source_name",
    "sourceLocationId": "source_location_id",
    "returnType": "return_type",
}


def check_reference(
    payload: dict, *, store: Store, order_id: str, not_found: str = "RMA 1003"
) -> None:
    """`orderId` and `store` in the body are optional, but must repeat the URL's.

    An order number with a NUL character names no order (and PostgreSQL cannot compare
    text holding one): `not_found` at once, without a query.
    """
    if payload.get("orderId") not in (None, order_id):
        raise invalid_request("orderId in the body does not match the orderId of the URL.")
    if payload.get("store") not in (None, store.code):
        raise invalid_request("store in the body does not match the store of the URL.")
    if "\x00" in order_id:
        raise ApiFault(not_found)


def check_eligibility(*, store: Store, order_id: str, payload: dict, order: Order | None) -> dict:
    """`order`: the store's order `order_id`, read with the store and the API key
    (`rma.selectors.store_key_and_order_for_eligibility`), or None when there is none."""
    check_reference(payload, store=store, order_id=order_id)
    if order is None:
        raise ApiFault("RMA 1003")
    order = with_eligibility_lines(order)
    return eligibility_body(
        order=order,
        verdicts=evaluate_order(order, now=timezone.now(), channel=Channel.API),
        request=payload,
    )


def request_hash(payload: dict) -> str:
    """The canonical request: validated (either format), keys sorted, nulls dropped.

    Unknown fields are not in the validated request, so they change nothing;
    `returnItemsReceived: false` is the same request as leaving it out.
    """
    payload = dict(payload)
    if payload.get("returnItemsReceived") is False:
        del payload["returnItemsReceived"]
    canonical = json.dumps(_without_nulls(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _without_nulls(value):
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def generate_rma(
    *, store: Store, order_id: str, payload: dict, api_key: ApiKey
) -> tuple[int, dict]:
    """Create the RMAs of one request, once per `transactionId` (docs/api.md).

    The `ApiTransaction` row is inserted with the response, last, in the same
    transaction as the RMAs. Its unique constraint settles duplicates: one that arrives
    while the first is still open waits on the order's lock (or on the row's index, for
    the same id on another order) and then either is refused or fails to insert the row;
    either way it is rolled back and replays the stored response (or is RMA 1022, a
    different request). So nothing is read before the work, and a duplicate after the
    first costs its rolled-back work. A refused request rolls everything back, so a
    transaction id is bound only once RMAs exist (a corrected retry may reuse it).
    """
    check_reference(payload, store=store, order_id=order_id)
    transaction_id = payload["transactionId"]
    # The URL's order is part of the request (the body may leave it out).
    digest = request_hash({**payload, "orderId": order_id, "store": store.code})

    def attempt() -> dict:
        with transaction.atomic():
            body = _create_rmas(store=store, order_id=order_id, payload=payload, api_key=api_key)
            record = ApiTransaction(
                store=store,
                transaction_id=transaction_id,
                request_hash=digest,
                response_status=201,
                response_body=body,
            )
            insert([record])
        return body

    try:
        return 201, retry_if_number_taken(attempt)
    except (ApiFault, IntegrityError):
        # A refusal or a failed insert may be a duplicate of a request already answered.
        replayed = _replay(store=store, transaction_id=transaction_id, digest=digest)
        if replayed is None:  # not the transaction id: the request's own fault or failure
            raise
        return replayed


def _replay(*, store: Store, transaction_id: str, digest: str) -> tuple[int, dict] | None:
    record = selectors.api_transaction(store=store, transaction_id=transaction_id)
    if record is None:
        return None
    if record.request_hash != digest:
        raise ApiFault("RMA 1022")
    return record.response_status, in_field_order(record.response_body)


def _email_matches(order, email: str | None) -> bool:
    """An optional `customerEmail` must be the order's (trimmed, ignoring case)."""
    if not email:
        return True
    return email.strip().casefold() == order.customer_email.strip().casefold()


def _create_rmas(*, store: Store, order_id: str, payload: dict, api_key: ApiKey) -> dict:
    """The request's RMAs and the response, in the caller's transaction. The order is
    read under its lock; an unknown one (or another customer's email) is RMA 1003, before
    anything is written."""
    order = order_for_request(store=store, order_id=order_id)
    if order is None or not _email_matches(order, payload.get("customerEmail")):
        raise ApiFault("RMA 1003")
    lines = [
        RequestedLine(
            line_number=item["lineNumber"],
            quantity=item["returnQuantity"],
            reason_code=item["returnReason"]["code"],
            item_id=item.get("itemId") or None,
            reason_category=item["returnReason"].get("category") or "",
            reason_description=item["returnReason"].get("description") or "",
            exchange_item_id=(item.get("exchangeItemId") or "").strip(),
        )
        for item in payload["items"]
    ]
    try:
        rmas = rma_request(
            order=order,
            lines=lines,
            resolution=payload.get("resolution") or DEFAULT_RESOLUTION,
            actor=Actor.api(api_key),
            channel=Channel.API,
            comment=payload.get("comments") or "",
            transaction_id=payload["transactionId"],
            event_data={"api": {key: payload[key] for key in EVENT_FIELDS if payload.get(key)}},
            # Any error rolls back generate_rma's transaction: no savepoint of its own.
            savepoint=False,
            locked=True,
            context=RequestContext(
                **{field: payload.get(key) or "" for key, field in CONTEXT_FIELDS.items()}
            ),
            items_received=bool(payload.get("returnItemsReceived")),
            # An order system's own reason codes are taken with its words for them.
            unconfigured_reasons=True,
        )
    except RmaError as error:
        # An exchange refused says which rule failed (e.g. "line 2: out of stock").
        raise ApiFault(error.code, items=error.items, detail=error.detail) from None
    except RequestError as error:
        raise invalid_request(error.message) from None
    # The RMAs come back with their lines and supplier: the answer needs no query.
    # What earlier returns took was read with the order's lines: the estimates need no query.
    return generated_body(
        order=order,
        rmas=rmas,
        request=payload,
        returned_before={line.pk: line.returned_quantity for line in order.lines.all()},
    )


def lookup_rma(*, store: Store, order_id: str, payload: dict) -> dict:
    """One RMA of the order by `rmaid`, or every RMA of the order when it is absent."""
    check_reference(payload, store=store, order_id=order_id, not_found="RMA 1021")
    order = selectors.order_of_store(store=store, order_id=order_id)
    if order is None:
        raise ApiFault("RMA 1021")
    rmas = selectors.rmas_for_response(order=order)
    requested = (payload.get("rmaid") or "").strip()
    if requested:
        rma_number = normalise_rma_number(requested)
        if rma_number is None:
            raise ApiFault("RMA 1009")
        rmas = list(rmas.filter(rma_number=rma_number))
        if not rmas:
            raise ApiFault("RMA 1009")
    return rmas_body(
        order=order,
        rmas=rmas,
        package_info_required=payload.get("packageInfoRequired", False),
        request=payload,
    )
