"""`LABEL_SERVICE=shippo`: prepaid return labels bought through Shippo.

With the official `shippo` library: a shipment with `extra.is_return` (addresses given
as the outbound shipment had them; Shippo swaps them on the label), the RMA's parcel,
and a transaction buying the cheapest rate the store's label policy allows as a 4x6
PDF. When the shopper has no printer (`LabelRequest.qr_code`) the shipment asks for a
QR code (`extra.qr_code_requested`), which the shopper shows at the carrier's counter.

The shipment id is handed back before buying; a retry gets that shipment again and
looks for a transaction already bought for the chosen rate before buying one.

Failures: timeouts, connection errors, 429 and 5xx raise `TransientLabelError`; other
refusals (and a transaction that ends in ERROR) raise `PermanentLabelError` with
Shippo's messages.
"""

from __future__ import annotations

import json

import requests
from shippo import Shippo
from shippo.models import components, errors, operations

from returns_portal import outbound

from .base import (
    IssuedLabel,
    LabelRequest,
    PermanentLabelError,
    RefundOutcome,
    TransientLabelError,
    VoidRequest,
)
from .carrier import (
    TRANSIENT_REQUEST_ERRORS,
    CarrierLabelService,
    Offer,
    address_lines,
    cheapest_allowed,
    decimal_amount,
    download,
)

REFUND_OUTCOMES = {
    "SUCCESS": RefundOutcome.REFUNDED,
    "QUEUED": RefundOutcome.SUBMITTED,
    "PENDING": RefundOutcome.SUBMITTED,
    "ERROR": RefundOutcome.REJECTED,
}


class GuardedClient:
    """The HTTP client handed to the Shippo library: the SSRF-guarded session of
    `returns_portal.outbound`, with our timeout on every call (the library sets none).

    The library uses only `prepare_request` and `send` of its client.
    """

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.session = outbound.session()

    def prepare_request(self, request):
        return self.session.prepare_request(request)

    def send(self, request, **kwargs):
        kwargs.setdefault("timeout", (self.timeout, self.timeout))
        kwargs["allow_redirects"] = False
        return self.session.send(request, **kwargs)


def _messages(error: errors.SDKError) -> str:
    """Shippo's own words from an error body, else the body itself (shortened)."""
    try:
        body = json.loads(error.body)
    except (TypeError, ValueError):
        return (error.body or "").strip()[:300]
    if isinstance(body, dict):
        found = body.get("detail") or body.get("messages") or body.get("__all__") or body
        return json.dumps(found)[:300] if not isinstance(found, str) else found[:300]
    return json.dumps(body)[:300]


class ShippoLabelService(CarrierLabelService):
    settings_prefix = "SHIPPO"
    name = "shippo"

    def __init__(self, *, api_key: str, api_base: str, timeout: float):
        self.timeout = timeout
        token = api_key if api_key.startswith("ShippoToken ") else f"ShippoToken {api_key}"
        self.client = Shippo(
            api_key_header=token,
            server_url=api_base.rstrip("/"),
            client=GuardedClient(timeout),
        )

    def issue(self, request: LabelRequest) -> IssuedLabel:
        if request.shipment_id:
            shipment = self._call(
                "getting the shipment", self.client.shipments.get, request.shipment_id
            )
        else:
            shipment = self._call(
                "creating the shipment", self.client.shipments.create, self._shipment(request)
            )
            if request.record_shipment is not None:
                request.record_shipment(shipment.object_id)
        offer = cheapest_allowed(_offers(shipment), request.label_policy)
        transaction = self._bought_before(offer) if request.shipment_id else None
        if transaction is None:
            transaction = self._call(
                "buying the label",
                self.client.transactions.create,
                components.TransactionCreateRequest(
                    rate=offer.rate_id,
                    async_=False,
                    label_file_type=components.LabelFileTypeEnum.PDF_4X6,
                    metadata=request.rma_number,
                ),
            )
        if transaction.status != components.TransactionStatusEnum.SUCCESS:
            words = "; ".join(
                str(message.text or message.code or "") for message in transaction.messages or []
            )
            raise PermanentLabelError(
                f"Shippo could not buy the label ({transaction.status}): {words or 'no reason'}"
            )
        if not transaction.tracking_number or not transaction.label_url:
            raise PermanentLabelError("Shippo bought the label but sent no tracking number or PDF")
        qr_code = None
        if request.qr_code and transaction.qr_code_url:
            qr_code = download(transaction.qr_code_url, timeout=self.timeout, pdf=False)
        return IssuedLabel(
            carrier=offer.carrier,
            tracking_number=transaction.tracking_number,
            pdf=download(transaction.label_url, timeout=self.timeout),
            label_url=transaction.label_url,
            service_level=offer.service,
            rate=offer.amount,
            rate_currency=offer.currency[:3],
            shipment_id=shipment.object_id,
            carrier_label_id=transaction.object_id or "",
            qr_code=qr_code,
        )

    def refund(self, request: VoidRequest) -> str:
        if not request.carrier_label_id:
            return RefundOutcome.REFUNDED  # never bought: nothing to refund
        refund = self._call(
            "refunding the label",
            self.client.refunds.create,
            request.carrier_label_id,
            False,  # async_: answer with the refund's status
        )
        status = refund.status.value if refund.status is not None else ""
        return REFUND_OUTCOMES.get(status, RefundOutcome.SUBMITTED)

    def _bought_before(self, offer: Offer):
        """A successful transaction an earlier attempt made for this rate, if any."""
        found = self._call(
            "looking for an earlier purchase",
            self.client.transactions.list,
            operations.ListTransactionsRequest(rate=offer.rate_id),
        )
        for transaction in found.results or []:
            if transaction.status == components.TransactionStatusEnum.SUCCESS:
                return transaction
        return None

    def _shipment(self, request: LabelRequest) -> components.ShipmentCreateRequest:
        package = request.package
        return components.ShipmentCreateRequest(
            # The outbound direction; Shippo swaps the addresses of a return.
            address_from=components.AddressCreateRequest(**address_lines(request.to_address)),
            address_to=components.AddressCreateRequest(**address_lines(request.from_address)),
            parcels=[
                components.ParcelCreateRequest(
                    mass_unit=components.WeightUnitEnum(package.get("weightUnit", "lb")),
                    weight=str(package["weight"]),
                    distance_unit=components.DistanceUnitEnum(package.get("dimensionUnit", "in")),
                    length=str(package["length"]),
                    width=str(package["width"]),
                    height=str(package["height"]),
                )
            ],
            extra=components.ShipmentExtra(
                is_return=True,
                qr_code_requested=True if request.qr_code else None,
                reference_1=request.rma_number,
            ),
            metadata=request.rma_number,
            async_=False,
        )

    @staticmethod
    def _call(doing: str, method, *args):
        try:
            return method(*args)
        except errors.SDKError as error:
            status = error.status_code
            message = f"Shippo {doing}: HTTP {status}: {_messages(error)}"
            if status >= 500 or status in (408, 429):
                raise TransientLabelError(message) from error
            raise PermanentLabelError(message) from error
        except outbound.AddressNotAllowed as error:
            raise PermanentLabelError(f"Shippo {doing}: {outbound.NOT_ALLOWED_MESSAGE}") from error
        except TRANSIENT_REQUEST_ERRORS as error:
            raise TransientLabelError(f"Shippo {doing}: {error}") from error
        except requests.RequestException as error:
            raise PermanentLabelError(f"Shippo {doing}: {error}") from error
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            # The answer did not have the shape Shippo documents.
            raise PermanentLabelError(f"Shippo {doing}: unexpected answer ({error})") from error


def _offers(shipment) -> list[Offer]:
    offers = []
    for rate in shipment.rates or []:
        amount = decimal_amount(rate.amount)
        if amount is None:
            continue
        level = rate.servicelevel
        offers.append(
            Offer(
                rate_id=rate.object_id,
                carrier=rate.provider or "",
                service=(level.name if level else "") or "",
                amount=amount,
                currency=rate.currency or "",
                service_token=(level.token if level else "") or "",
            )
        )
    return offers
