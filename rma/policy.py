"""A store's return policy: the `policy` document of the import format, with its defaults."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property


@dataclass(frozen=True)
class ReturnReason:
    code: str
    description: str
    seller_fault: bool = False
    requires_review: bool = False
    requires_photo: bool = False


DEFAULT_REASONS = (
    ReturnReason("DEFECTIVE", "Defective or damaged", seller_fault=True),
    ReturnReason("WRONG_ITEM", "Wrong item received", seller_fault=True),
    ReturnReason("TOO_SMALL", "Too small"),
    ReturnReason("TOO_LARGE", "Too large"),
    ReturnReason("NOT_AS_DESCRIBED", "Not as described"),
    ReturnReason("CHANGED_MIND", "Changed my mind"),
)

# Every policy key with its default (SPEC section 3); lists are copied on use.
POLICY_DEFAULTS = {
    "return_window_days": 30,
    "returnable_statuses": ["SHIPPED", "DELIVERED"],
    "excluded_departments": [],
    "excluded_items": [],
    "hazmat_returnable": False,
    "excluded_states": [],
    "allowed_countries": [],
    "resolutions": ["REFUND", "EXCHANGE", "STORE_CREDIT"],
    "reasons": None,
    "restocking_fee_percent": "0",
    "rma_expiry_days": 30,
    "weight_unit": "lb",
    "dimension_unit": "in",
    "dim_divisor": 139,
    "max_weight": "50",
    "max_dimension": "48",
    "max_dimensional_weight": "70",
    "min_invoice_amount": "0.01",
    "max_invoice_amount": "5000.00",
    # Carrier labels (LABEL_SERVICE easypost or shippo): {"carriers": [...], "services": [...],
    # "max_rate": "15.00", "qr_code": false}; absent keys allow any carrier, service, rate.
    "label": None,
}


@dataclass(frozen=True)
class LabelPolicy:
    """Which carrier rates a store accepts; empty carriers or services allow any."""

    carriers: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    max_rate: Decimal | None = None
    # The shopper may choose a QR code instead of a printed label (carriers that offer it).
    qr_code: bool = False

    def allows(self, *, carrier: str, service: str, rate: Decimal) -> bool:
        if self.carriers and carrier.casefold() not in {c.casefold() for c in self.carriers}:
            return False
        if self.services and service.casefold() not in {s.casefold() for s in self.services}:
            return False
        return self.max_rate is None or rate <= self.max_rate


@dataclass(frozen=True)
class StorePolicy:
    """Read-only view of a policy document; every value already in its proper type."""

    document: dict

    @classmethod
    def of(cls, store) -> StorePolicy:
        return cls(store.policy or {})

    def _get(self, key):
        value = self.document.get(key)
        return POLICY_DEFAULTS[key] if value is None else value

    @property
    def return_window_days(self) -> int:
        return int(self._get("return_window_days"))

    @cached_property
    def returnable_statuses(self) -> frozenset[str]:
        return frozenset(self._get("returnable_statuses"))

    @cached_property
    def excluded_departments(self) -> frozenset[str]:
        return frozenset(d.strip().casefold() for d in self._get("excluded_departments"))

    @cached_property
    def excluded_items(self) -> frozenset[str]:
        return frozenset(self._get("excluded_items"))

    @property
    def hazmat_returnable(self) -> bool:
        return bool(self._get("hazmat_returnable"))

    @cached_property
    def excluded_states(self) -> frozenset[str]:
        return frozenset(s.strip().casefold() for s in self._get("excluded_states"))

    @cached_property
    def allowed_countries(self) -> frozenset[str]:
        return frozenset(c.strip().upper() for c in self._get("allowed_countries"))

    @cached_property
    def resolutions(self) -> tuple[str, ...]:
        return tuple(self._get("resolutions"))

    @cached_property
    def reasons(self) -> tuple[ReturnReason, ...]:
        documents = self.document.get("reasons")
        if not documents:
            return DEFAULT_REASONS
        return tuple(ReturnReason(**reason) for reason in documents)

    def reason(self, code: str) -> ReturnReason | None:
        return next((reason for reason in self.reasons if reason.code == code), None)

    @property
    def restocking_fee_percent(self) -> Decimal:
        return Decimal(str(self._get("restocking_fee_percent")))

    @property
    def rma_expiry_days(self) -> int:
        return int(self._get("rma_expiry_days"))

    @property
    def weight_unit(self) -> str:
        return self._get("weight_unit")

    @property
    def dimension_unit(self) -> str:
        return self._get("dimension_unit")

    @property
    def dim_divisor(self) -> Decimal:
        return Decimal(str(self._get("dim_divisor")))

    @property
    def max_weight(self) -> Decimal:
        return Decimal(str(self._get("max_weight")))

    @property
    def max_dimension(self) -> Decimal:
        return Decimal(str(self._get("max_dimension")))

    @property
    def max_dimensional_weight(self) -> Decimal:
        return Decimal(str(self._get("max_dimensional_weight")))

    @property
    def min_invoice_amount(self) -> Decimal:
        return Decimal(str(self._get("min_invoice_amount")))

    @property
    def max_invoice_amount(self) -> Decimal:
        return Decimal(str(self._get("max_invoice_amount")))

    @cached_property
    def label(self) -> LabelPolicy:
        document = self.document.get("label") or {}
        max_rate = document.get("max_rate")
        return LabelPolicy(
            carriers=tuple(document.get("carriers") or ()),
            services=tuple(document.get("services") or ()),
            max_rate=None if max_rate is None else Decimal(str(max_rate)),
            qr_code=bool(document.get("qr_code")),
        )
