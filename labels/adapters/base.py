"""The label service interface: what an adapter is given, what it returns, how it fails."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal


class LabelServiceError(Exception):
    """A label could not be issued."""


class TransientLabelError(LabelServiceError):
    """Worth retrying later: 5xx, timeouts, connection errors."""


class PermanentLabelError(LabelServiceError):
    """Retrying will not help: 4xx, a malformed response, a configuration error."""


@dataclass(frozen=True)
class LabelRequest:
    """Everything a label service needs, as plain data (no model instances).

    Addresses use the import format's keys: name, line1, line2, city, state,
    postal_code, country. `package` is the API's `packageInfo` object.
    """

    rma_number: str
    store_code: str
    store_name: str
    order_id: str
    from_address: dict
    to_address: dict
    package: dict = field(default_factory=dict)
    # Carrier adapters: the store's rate rules (`rma.policy.LabelPolicy`), the shopper's
    # choice of a QR code instead of a printed label, and the carrier shipment an earlier
    # attempt created (looked at first: if it was bought, it is not bought again).
    label_policy: object = None
    qr_code: bool = False
    shipment_id: str = ""
    # Called with the carrier's shipment id as soon as it exists, before buying.
    record_shipment: Callable[[str], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class IssuedLabel:
    carrier: str
    tracking_number: str
    # The label document; None only if a service returns no PDF (the caller refuses it).
    pdf: bytes | None
    # Where the service published the label, when it said so (informational).
    label_url: str = ""
    # What a carrier sold (empty for builtin and http).
    service_level: str = ""
    rate: Decimal | None = None
    rate_currency: str = ""
    shipment_id: str = ""
    carrier_label_id: str = ""
    # A QR code image (PNG) to show at the counter instead of printing, when asked for.
    qr_code: bytes | None = None


@dataclass(frozen=True)
class VoidRequest:
    """A voided label, as the carrier knows it."""

    rma_number: str
    tracking_number: str
    shipment_id: str
    carrier_label_id: str


class RefundOutcome:
    """What a carrier said to a refund request (the `ReturnLabel.refund_status` values)."""

    SUBMITTED = "SUBMITTED"
    REFUNDED = "REFUNDED"
    REJECTED = "REJECTED"


class LabelService(abc.ABC):
    """One way of producing return labels, chosen by `settings.LABEL_SERVICE`."""

    # The `LABEL_SERVICE` value, also stored on each `ReturnLabel`.
    name: str = ""
    # False for a service that never issues labels (the RMA's label is NOT_REQUIRED).
    issues_labels: bool = True

    # True for a carrier whose labels cost money and are refunded when voided.
    refunds_labels: bool = False

    @abc.abstractmethod
    def issue(self, request: LabelRequest) -> IssuedLabel | None:
        """Issue one label, or raise `TransientLabelError` / `PermanentLabelError`."""

    def refund(self, request: VoidRequest) -> str:
        """Ask the carrier to refund a voided label; a `RefundOutcome` value.

        Builtin and http labels cost nothing: voiding them is only our own record.
        """
        return RefundOutcome.REFUNDED
