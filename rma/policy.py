"""A store's return policy: the `policy` document of the import format, with its defaults."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property

from policies.rules import parse_rules


class PolicyError(ValueError):
    """A stored policy value that cannot be read; the message names the key."""


@dataclass(frozen=True)
class ReturnReason:
    code: str
    description: str
    seller_fault: bool = False
    requires_review: bool = False
    requires_photo: bool = False
    # The group the shopper sees it in, the reason it refines (a sub-reason), and the
    # departments it fits, casefolded (empty: every department).
    category: str = ""
    parent: str = ""
    departments: tuple[str, ...] = ()

    @classmethod
    def of(cls, document: dict) -> ReturnReason:
        departments = document.get("departments") or ()
        return cls(
            code=document["code"],
            description=document["description"],
            seller_fault=bool(document.get("seller_fault")),
            requires_review=bool(document.get("requires_review")),
            requires_photo=bool(document.get("requires_photo")),
            category=document.get("category") or "",
            parent=document.get("parent") or "",
            departments=tuple(d.strip().casefold() for d in departments),
        )

    def fits(self, department: str) -> bool:
        """Whether the reason may be given for a line of `department`."""
        return not self.departments or (department or "").strip().casefold() in self.departments


DEFAULT_REASONS = (
    ReturnReason("DEFECTIVE", "Defective or damaged", seller_fault=True),
    ReturnReason("WRONG_ITEM", "Wrong item received", seller_fault=True),
    ReturnReason("TOO_SMALL", "Too small"),
    ReturnReason("TOO_LARGE", "Too large"),
    ReturnReason("NOT_AS_DESCRIBED", "Not as described"),
    ReturnReason("CHANGED_MIND", "Changed my mind"),
)

# Every policy key with its default (docs/import-format.md); lists are copied on use.
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
    # Money (returns program): no fee, no bonus, nothing kept unless the store says so.
    "return_fee": {},
    "store_credit_bonus_percent": "0",
    "keep_item_below": None,
    "exchange": {},
    "store_credit_expiry_days": 365,
    # Store rules, condition → action (docs/console.md; `policies.rules`).
    "rules": None,
}
RETURN_FEE_DEFAULTS = {
    "amount": "0",
    "waived_for_resolutions": ["EXCHANGE", "STORE_CREDIT"],
    "waived_when_seller_fault": True,
}
EXCHANGE_DEFAULTS = {"instant": False, "allow_other_products": False}


@dataclass(frozen=True)
class ReturnFee:
    """Charged once per RMA, deducted from what goes back, unless waived."""

    amount: Decimal
    waived_for_resolutions: frozenset[str]
    waived_when_seller_fault: bool


@dataclass(frozen=True)
class ExchangePolicy:
    instant: bool
    allow_other_products: bool


def _policy_decimal(key: str, value, *, minimum: Decimal = Decimal(0)) -> Decimal:
    if isinstance(value, bool | float) or not isinstance(value, str | int | Decimal):
        raise PolicyError(f"policy.{key} must be a decimal string, not {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise PolicyError(f"policy.{key} must be a decimal number, not {value!r}") from None
    if not number.is_finite() or number < minimum:
        raise PolicyError(f"policy.{key} must be a number of at least {minimum}, not {value!r}")
    return number


def _policy_object(key: str, value, defaults: dict) -> dict:
    if not isinstance(value, dict):
        raise PolicyError(f"policy.{key} must be an object, not {value!r}")
    unknown = sorted(set(value) - set(defaults))
    if unknown:
        raise PolicyError(f'policy.{key} has an unknown key "{unknown[0]}"')
    return {
        name: default if value.get(name) is None else value[name]
        for name, default in defaults.items()
    }


def _policy_boolean(key: str, value) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"policy.{key} must be true or false, not {value!r}")
    return value


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
        return tuple(ReturnReason.of(reason) for reason in documents)

    def reason(self, code: str) -> ReturnReason | None:
        return next((reason for reason in self.reasons if reason.code == code), None)

    def reasons_for_department(self, department: str) -> tuple[ReturnReason, ...]:
        """The reasons a line of `department` may be returned for, in the store's order."""
        return tuple(reason for reason in self.reasons if reason.fits(department))

    @cached_property
    def rules(self):
        """The store's rules, parsed (`policies.rules.StoreRule`); empty when none."""
        return parse_rules(self.document.get("rules"))

    def reason_text(self, code: str, *, given: str = "") -> str:
        """A line's reason in words: the store's description of a configured code, else the
        caller's own description (an order system's code the store has not configured),
        else the code itself."""
        reason = self.reason(code)
        return reason.description if reason is not None else (given or code)

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

    @cached_property
    def return_fee(self) -> ReturnFee:
        document = _policy_object("return_fee", self._get("return_fee"), RETURN_FEE_DEFAULTS)
        waived = document["waived_for_resolutions"]
        if not isinstance(waived, list) or not all(isinstance(item, str) for item in waived):
            raise PolicyError(
                "policy.return_fee.waived_for_resolutions must be a list of resolutions"
            )
        return ReturnFee(
            amount=_policy_decimal("return_fee.amount", document["amount"]),
            waived_for_resolutions=frozenset(waived),
            waived_when_seller_fault=_policy_boolean(
                "return_fee.waived_when_seller_fault", document["waived_when_seller_fault"]
            ),
        )

    @property
    def store_credit_bonus_percent(self) -> Decimal:
        return _policy_decimal(
            "store_credit_bonus_percent", self._get("store_credit_bonus_percent")
        )

    @property
    def keep_item_below(self) -> Decimal | None:
        """Lines paid less than this per unit need not be sent back; None: always sent."""
        value = self._get("keep_item_below")
        return None if value is None else _policy_decimal("keep_item_below", value)

    @cached_property
    def exchange(self) -> ExchangePolicy:
        document = _policy_object("exchange", self._get("exchange"), EXCHANGE_DEFAULTS)
        return ExchangePolicy(
            instant=_policy_boolean("exchange.instant", document["instant"]),
            allow_other_products=_policy_boolean(
                "exchange.allow_other_products", document["allow_other_products"]
            ),
        )

    @property
    def store_credit_expiry_days(self) -> int:
        value = self._get("store_credit_expiry_days")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise PolicyError(
                f"policy.store_credit_expiry_days must be a whole number of days, not {value!r}"
            )
        return value
