"""`LABEL_SERVICE=easypost`: prepaid return labels bought through EasyPost.

With the official `easypost` library: a shipment with `is_return` (addresses given as
the outbound shipment had them, from the return destination to the shopper; EasyPost
swaps them on the label), the parcel of the RMA's package, a 4x6 PDF label; the
cheapest rate the store's label policy allows is bought, and its PDF downloaded.

The shipment id is handed back (`LabelRequest.record_shipment`) before buying: a retry
after a lost answer or a killed worker retrieves that shipment and, if it was bought,
takes its label instead of buying a second one.

Failures: timeouts, connection errors, 429 and 5xx raise `TransientLabelError` (the task
retries); any other refusal raises `PermanentLabelError` with EasyPost's message.
"""

from __future__ import annotations

import easypost
from easypost.errors import ApiError, EasyPostError, HttpError, JsonError, TimeoutError

from .base import (
    IssuedLabel,
    LabelRequest,
    PermanentLabelError,
    RefundOutcome,
    TransientLabelError,
    VoidRequest,
)
from .carrier import (
    CarrierLabelService,
    Offer,
    address_lines,
    cheapest_allowed,
    decimal_amount,
    download,
    length_in_inches,
    weight_in_ounces,
)

REFUND_OUTCOMES = {
    "submitted": RefundOutcome.SUBMITTED,
    "refunded": RefundOutcome.REFUNDED,
    "rejected": RefundOutcome.REJECTED,
    "not_applicable": RefundOutcome.REJECTED,
}


def _carrier_error(error: EasyPostError, doing: str) -> Exception:
    """Our error for an EasyPost one: transient for the network, 429 and 5xx."""
    status = getattr(error, "http_status", None)
    message = f"EasyPost {doing}: {error.message or error}"
    if isinstance(error, HttpError | TimeoutError | JsonError):
        return TransientLabelError(message)
    if status is not None and (status >= 500 or status in (408, 429)):
        return TransientLabelError(f"{message} (HTTP {status})")
    if isinstance(error, ApiError) and status is not None:
        return PermanentLabelError(f"{message} (HTTP {status})")
    return PermanentLabelError(message)


class EasyPostLabelService(CarrierLabelService):
    settings_prefix = "EASYPOST"
    name = "easypost"

    def __init__(self, *, api_key: str, api_base: str, timeout: float):
        self.timeout = timeout
        self.client = easypost.EasyPostClient(
            api_key, api_base=api_base.rstrip("/"), timeout=int(max(1, round(timeout)))
        )

    def issue(self, request: LabelRequest) -> IssuedLabel:
        shipment = None
        if request.shipment_id:
            shipment = self._call(
                "retrieving the shipment", self.client.shipment.retrieve, request.shipment_id
            )
        if shipment is None:
            shipment = self._call(
                "creating the shipment", self.client.shipment.create, **self._shipment(request)
            )
            if request.record_shipment is not None:
                request.record_shipment(shipment.id)
        if not _bought(shipment):
            offer = cheapest_allowed(_offers(shipment), request.label_policy)
            shipment = self._call(
                "buying the label",
                self.client.shipment.buy,
                shipment.id,
                rate={"id": offer.rate_id},
            )
        return self._issued(shipment)

    def refund(self, request: VoidRequest) -> str:
        if not request.shipment_id:
            return RefundOutcome.REFUNDED  # never bought: nothing to refund
        shipment = self._call(
            "refunding the label", self.client.shipment.refund, request.shipment_id
        )
        return REFUND_OUTCOMES.get(
            str(shipment.get("refund_status") or ""), RefundOutcome.SUBMITTED
        )

    def _shipment(self, request: LabelRequest) -> dict:
        package = request.package
        weight_unit = package.get("weightUnit", "lb")
        dimension_unit = package.get("dimensionUnit", "in")
        return {
            # The outbound direction; EasyPost swaps the addresses of a return.
            "from_address": address_lines(request.to_address),
            "to_address": address_lines(request.from_address),
            "is_return": True,
            "reference": request.rma_number,
            "parcel": {
                "weight": float(weight_in_ounces(package["weight"], weight_unit)),
                "length": float(length_in_inches(package["length"], dimension_unit)),
                "width": float(length_in_inches(package["width"], dimension_unit)),
                "height": float(length_in_inches(package["height"], dimension_unit)),
            },
            "options": {"label_format": "PDF", "label_size": "4x6"},
        }

    def _issued(self, shipment) -> IssuedLabel:
        label = shipment.get("postage_label")
        rate = shipment.get("selected_rate")
        url = (label.get("label_pdf_url") or label.get("label_url") or "") if label else ""
        if not shipment.get("tracking_code") or not url or rate is None:
            raise PermanentLabelError("EasyPost bought the label but sent no tracking code or PDF")
        return IssuedLabel(
            carrier=str(rate.get("carrier") or ""),
            tracking_number=str(shipment.tracking_code),
            pdf=download(url, timeout=self.timeout),
            label_url=url,
            service_level=str(rate.get("service") or ""),
            rate=decimal_amount(rate.get("rate")),
            rate_currency=str(rate.get("currency") or "")[:3],
            shipment_id=shipment.id,
            carrier_label_id=str(label.get("id") or ""),
        )

    @staticmethod
    def _call(doing: str, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except EasyPostError as error:
            raise _carrier_error(error, doing) from error


def _bought(shipment) -> bool:
    return bool(shipment.get("postage_label") and shipment.get("tracking_code"))


def _offers(shipment) -> list[Offer]:
    offers = []
    for rate in shipment.get("rates") or []:
        amount = decimal_amount(rate.get("rate"))
        if amount is None:
            continue
        offers.append(
            Offer(
                rate_id=rate.id,
                carrier=str(rate.get("carrier") or ""),
                service=str(rate.get("service") or ""),
                amount=amount,
                currency=str(rate.get("currency") or ""),
            )
        )
    return offers
