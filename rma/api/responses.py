"""Response bodies of the RMA service API, in the JSON shape of docs/api.md.

Built from rows already fetched (no queries here); the XML codec renders the same
dicts with capitalised element names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from labels.package import package_for_rma, package_info
from payments.estimate import Estimate
from rma.eligibility import LineEligibility
from rma.estimates import rma_estimates
from rma.models import Order, Resolution, Rma, RmaLine
from rma.policy import StorePolicy
from rma.selectors import HOLDING_STATUSES

ACTIVE_STATUSES = frozenset(HOLDING_STATUSES)
# Radial's request context, echoed in every response as the request sent it.
ECHOED = ("orderType", "storeType")


# Every response key in one order that agrees with each sequence of `schema/rma.xsd`. The
# builders below write their dicts in this order already (a test holds them to it). A
# stored response comes back from PostgreSQL's jsonb with its keys reordered; replays are
# put back in this order so they are byte-for-byte the first response (and XML stays valid).
FIELD_ORDER = (
    "orderId",
    "orderType",
    "store",
    "storeType",
    "rmaid",
    "status",
    "isRMAActive",
    "creationDate",
    "expiryDate",
    "lineNumber",
    "itemId",
    "orderedQuantity",
    "returnableQuantity",
    "returnQuantity",
    "returnReasonCode",
    "value",
    "category",
    "exchangeItemId",
    "weight",
    "weightUnit",
    "length",
    "width",
    "height",
    "dimensionUnit",
    "dimensionalWeight",
    "invoiceAmount",
    "currency",
    "subtotal",
    "fees",
    "bonus",
    "total",
    "eligible",
    "ineligibility",
    "code",
    "description",
    "overridable",
    "items",
    "item",
    "returnLocation",
    "whsName",
    "whsStreet",
    "whsCity",
    "whsState",
    "whsPostalCode",
    "whsCountryCode",
    "label",
    "carrier",
    "trackingNumber",
    "packageInfo",
    "estimate",
    "rmadetails",
)
FIELD_RANK = {key: rank for rank, key in enumerate(FIELD_ORDER)}


def in_field_order(value):
    """`value` with every dict's keys in `FIELD_ORDER` (unknown keys last, as they were)."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: FIELD_RANK.get(key, len(FIELD_RANK)))
        return {key: in_field_order(value[key]) for key in keys}
    if isinstance(value, list):
        return [in_field_order(item) for item in value]
    return value


def creation_date(moment: dt.datetime) -> str:
    """Radial's `creationDate`: UTC, `2020-05-07T14:54:15+0000`."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def expiry_date(moment: dt.datetime | None) -> str | None:
    """Radial's `expiryDate`: UTC with milliseconds and no offset, `2020-06-06T14:54:15.000`."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


def echo(request: dict | None) -> dict:
    """`orderType` and `storeType` as the request sent them (absent when it did not)."""
    request = request or {}
    return {key: request[key] for key in ECHOED if isinstance(request.get(key), str)}


def head(order: Order, sent: dict) -> dict:
    """`orderId`, `orderType`, `store`, `storeType`: the first keys of every body."""
    return {
        "orderId": order.order_id,
        **({"orderType": sent["orderType"]} if "orderType" in sent else {}),
        "store": order.store.code,
        **({"storeType": sent["storeType"]} if "storeType" in sent else {}),
    }


def eligibility_body(
    *, order: Order, verdicts: list[LineEligibility], request: dict | None = None
) -> dict:
    """checkEligibility: every line with its quantities and every failing rule.

    The order is `eligible` when at least one of its lines can be returned.
    """
    items = [
        {
            "lineNumber": str(verdict.line_number),
            "itemId": verdict.line.item_id,
            "orderedQuantity": verdict.ordered_quantity,
            "returnableQuantity": verdict.returnable_quantity,
            "eligible": verdict.eligible,
            "ineligibility": [
                {
                    "code": rule.code,
                    "description": rule.description,
                    "overridable": rule.overridable_by is not None,
                }
                for rule in verdict.failures
            ],
        }
        for verdict in verdicts
    ]
    return {
        **head(order, echo(request)),
        "eligible": any(verdict.eligible for verdict in verdicts),
        "items": {"item": items},
    }


def return_location(rma: Rma) -> dict:
    """Where the parcel goes: the supplier for a dropship RMA, else the store's warehouse."""
    address = (rma.supplier.return_address if rma.supplier_id else rma.store.return_address) or {}
    street = ", ".join(part for part in (address.get("line1"), address.get("line2")) if part)
    return {
        "whsName": address.get("name") or "",
        "whsStreet": street,
        "whsCity": address.get("city") or "",
        "whsState": address.get("state") or "",
        "whsPostalCode": address.get("postal_code") or "",
        "whsCountryCode": address.get("country") or "",
    }


def reason_category(policy: StorePolicy, line: RmaLine) -> str:
    """The category the request gave, else the store's description of the reason (else the
    caller's description, else the code)."""
    return line.reason_category or policy.reason_text(
        line.reason_code, given=line.reason_description
    )


def exchange_item(line: RmaLine) -> dict:
    """`exchangeItemId`: the variant the line is exchanged for (asked for at the request,
    or the agent's choice when resolved as an exchange); absent for other lines."""
    if line.replacement_item_id and line.outcome in ("", Resolution.EXCHANGE):
        return {"exchangeItemId": line.replacement_item_id}
    return {}


def rma_details(
    rma: Rma, *, policy: StorePolicy, package_info_required: bool, estimate: Estimate
) -> dict:
    """One `rmadetails` entry, for an RMA fetched by `rma.selectors.rmas_with_lines`.

    `estimate`: what the shopper gets back for it (`rma.estimates.rma_estimates`)."""
    details = {
        "rmaid": rma.rma_number,
        "status": rma.status,
        "isRMAActive": rma.status in ACTIVE_STATUSES,
        "creationDate": creation_date(rma.created_at),
        "expiryDate": expiry_date(rma.expires_at),
        "items": {
            "item": [
                {
                    "lineNumber": str(line.order_line.line_number),
                    "itemId": line.order_line.item_id,
                    "returnQuantity": line.quantity,
                    "returnReasonCode": {
                        "value": line.reason_code,
                        "category": reason_category(policy, line),
                    },
                    **exchange_item(line),
                }
                for line in rma.lines.all()
            ]
        },
        "returnLocation": return_location(rma),
        "label": {
            "status": rma.label_status,
            "carrier": rma.label_carrier,
            "trackingNumber": rma.label_tracking_number,
        },
    }
    if package_info_required:
        details["packageInfo"] = package_info(package_for_rma(rma))
    details["estimate"] = estimate.to_api()
    return details


def rmas_body(
    *,
    order: Order,
    rmas,
    package_info_required: bool = False,
    request: dict | None = None,
    estimates: dict[int, Estimate] | None = None,
) -> dict:
    """lookupRMA: the order and one `rmadetails` entry per RMA, each with its estimate (the
    only query here: which units earlier returns took)."""
    policy = StorePolicy.of(order.store)
    rmas = list(rmas)
    estimates = rma_estimates(rmas) if estimates is None else estimates
    return {
        **head(order, echo(request)),
        "rmadetails": [
            rma_details(
                rma,
                policy=policy,
                package_info_required=package_info_required,
                estimate=estimates[rma.pk],
            )
            for rma in rmas
        ],
    }


def generated_body(
    *,
    order: Order,
    rmas: list[Rma],
    request: dict | None = None,
    returned_before: Mapping[int, int] | None = None,
) -> dict:
    """generateRMA: Radial's shape for the first RMA created (its number, expiry, items and
    return location at the top level), the request's estimate (the RMAs' summed), then
    `rmadetails` for every RMA of the request. `returned_before`: as `rma_estimates`."""
    estimates = rma_estimates(rmas, returned_before=returned_before)
    body = rmas_body(order=order, rmas=rmas, request=request, estimates=estimates)
    details = body.pop("rmadetails")
    summed = Estimate.combine(
        [estimates[rma.pk] for rma in rmas], currency=order.store.currency
    ).to_api()
    first = details[0]
    return {
        **body,
        "rmaid": first["rmaid"],
        "expiryDate": first["expiryDate"],
        "items": {
            "item": [
                {
                    key: item[key]
                    for key in ("lineNumber", "itemId", "returnQuantity", "exchangeItemId")
                    if key in item
                }
                for item in first["items"]["item"]
            ]
        },
        "returnLocation": first["returnLocation"],
        "estimate": summed,
        "rmadetails": details,
    }
