"""What the label adapters share: carrier settings, rate choice, capped downloads, addresses."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from returns_portal import outbound

from .base import LabelService, PermanentLabelError, TransientLabelError

# A label or QR code is a few dozen kilobytes; refuse to buffer anything absurd.
MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024
TRANSIENT_REQUEST_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)


class CarrierLabelService(LabelService):
    """A carrier reached with its official library, configured by `<PREFIX>_API_KEY` and
    `<PREFIX>_API_BASE` (the prefix is `settings_prefix`)."""

    settings_prefix: str
    # Both carriers refund an unused label that is voided.
    refunds_labels = True

    @classmethod
    def from_settings(cls):
        key_setting = f"{cls.settings_prefix}_API_KEY"
        api_key = getattr(settings, key_setting)
        if not api_key:
            raise ImproperlyConfigured(f"LABEL_SERVICE={cls.name} needs {key_setting}")
        return cls(
            api_key=api_key,
            api_base=getattr(settings, f"{cls.settings_prefix}_API_BASE"),
            timeout=settings.LABEL_SERVICE_TIMEOUT,
        )


@dataclass(frozen=True)
class Offer:
    """One rate a carrier offered for a shipment."""

    rate_id: str
    carrier: str
    service: str
    amount: Decimal
    currency: str
    # Another name the store's policy may use for the service (Shippo's service token).
    service_token: str = ""


def decimal_amount(value) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def cheapest_allowed(offers: list[Offer], policy) -> Offer:
    """The cheapest offer the store's label policy allows (ties: the first offered).

    Raises `PermanentLabelError` naming what was offered when none is allowed: no retry
    will change the store's rules, an agent has to decide.
    """
    allowed = [
        offer
        for offer in offers
        if policy is None
        or policy.allows(carrier=offer.carrier, service=offer.service, rate=offer.amount)
        or (
            offer.service_token
            and policy.allows(carrier=offer.carrier, service=offer.service_token, rate=offer.amount)
        )
    ]
    if not allowed:
        offered = (
            ", ".join(
                f"{offer.carrier} {offer.service} {offer.amount} {offer.currency}"
                for offer in offers
            )
            or "none"
        )
        raise PermanentLabelError(
            f"No rate allowed by the store's label policy (offered: {offered})"
        )
    return min(allowed, key=lambda offer: offer.amount)


def download(url: str, *, timeout: float, pdf: bool = True) -> bytes:
    """Fetch a label (a PDF) or a QR code the carrier published at `url`."""
    if not url.startswith(("https://", "http://")):
        raise PermanentLabelError("The carrier gave no label URL")
    try:
        # Through the SSRF guard: a label URL never reaches a private or metadata address.
        response = outbound.request(
            "GET", url, timeout=(timeout, timeout), allow_redirects=False, stream=True
        )
    except outbound.AddressNotAllowed as error:
        raise PermanentLabelError(outbound.NOT_ALLOWED_MESSAGE) from error
    except TRANSIENT_REQUEST_ERRORS as error:
        raise TransientLabelError(f"Label download failed: {error}") from error
    except requests.RequestException as error:
        raise PermanentLabelError(f"Label download failed: {error}") from error
    if response.status_code != 200:
        response.close()
        if response.status_code >= 500:
            raise TransientLabelError(f"Label download: HTTP {response.status_code}")
        raise PermanentLabelError(f"Label download refused: HTTP {response.status_code}")
    content = read_capped(response)
    if pdf and not content.startswith(b"%PDF-"):
        raise PermanentLabelError("The carrier's label is not a PDF document")
    return content


def read_capped(response) -> bytes:
    """The body of a streamed label download, refused past `MAX_DOWNLOAD_BYTES`; a network
    failure while reading is transient. The response is closed in every case."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > MAX_DOWNLOAD_BYTES:
                raise PermanentLabelError("Label download is larger than allowed")
            chunks.append(chunk)
    except TRANSIENT_REQUEST_ERRORS as error:
        raise TransientLabelError(f"Label download interrupted: {error}") from error
    finally:
        response.close()
    return b"".join(chunks)


def address_lines(address: dict) -> dict:
    """An import-format address as the carriers name its parts."""
    return {
        "name": address.get("name") or "",
        "street1": address.get("line1") or "",
        "street2": address.get("line2") or "",
        "city": address.get("city") or "",
        "state": address.get("state") or "",
        "zip": address.get("postal_code") or "",
        "country": address.get("country") or "",
    }


# Our package units as the carriers spell them.
WEIGHT_UNITS = {"lb": "lb", "oz": "oz", "kg": "kg", "g": "g"}


def weight_in_ounces(weight: str, unit: str) -> Decimal:
    """EasyPost weighs parcels in ounces only."""
    factor = {
        "oz": Decimal(1),
        "lb": Decimal(16),
        "kg": Decimal("35.27396"),
        "g": Decimal("0.03527396"),
    }
    return (Decimal(weight) * factor.get(unit, Decimal(16))).quantize(Decimal("0.1"))


def length_in_inches(length: str, unit: str) -> Decimal:
    """EasyPost measures parcels in inches only."""
    factor = Decimal(1) if unit == "in" else Decimal("0.3937008")
    return (Decimal(length) * factor).quantize(Decimal("0.1"))
