"""The policy editor's forms: the policy document as fields, reasons and rules as rows.

The forms only shape input into a policy document; whether it is valid is decided by the
import's reader (`policies.services.policy_check`), and its messages, which name the key
path (`policy.return_fee.amount: ...`), are put on the matching field.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from policies import rules as engine
from policies.versions import BRAND_FIELDS
from rma.models import Channel, OrderStatus, Resolution
from rma.policy import POLICY_DEFAULTS, RETURN_FEE_DEFAULTS, StorePolicy

CONDITION_SLOTS = 3
ACTION_SLOTS = 3


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _joined(values) -> str:
    return ", ".join(str(value) for value in values or ())


def _text(value) -> str:
    return "" if value is None else str(value)


# Keys edited as a comma-separated list.
LIST_KEYS = ("excluded_departments", "excluded_items", "excluded_states", "allowed_countries")
INTEGER_KEYS = ("return_window_days", "rma_expiry_days", "store_credit_expiry_days")
DECIMAL_KEYS = (
    "restocking_fee_percent",
    "store_credit_bonus_percent",
    "keep_item_below",
    "min_invoice_amount",
    "max_invoice_amount",
)


class PolicyForm(forms.Form):
    """The store-wide settings of a policy, and the store's brand."""

    return_window_days = forms.IntegerField(label=_("Return window (days)"))
    rma_expiry_days = forms.IntegerField(label=_("Authorised returns expire after (days)"))
    returnable_statuses = forms.MultipleChoiceField(
        label=_("Returnable order statuses"),
        choices=OrderStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    resolutions = forms.MultipleChoiceField(
        label=_("Resolutions offered"),
        choices=Resolution.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    excluded_departments = forms.CharField(
        label=_("Excluded departments"), required=False, help_text=_("Comma-separated.")
    )
    excluded_items = forms.CharField(
        label=_("Excluded items"), required=False, help_text=_("Item ids, comma-separated.")
    )
    hazmat_returnable = forms.BooleanField(label=_("Hazmat items returnable"), required=False)
    excluded_states = forms.CharField(label=_("Excluded states"), required=False)
    allowed_countries = forms.CharField(
        label=_("Allowed countries"),
        required=False,
        help_text=_("Two-letter codes, comma-separated; empty: every country."),
    )
    restocking_fee_percent = forms.CharField(label=_("Restocking fee (%)"), required=False)
    return_fee_amount = forms.CharField(label=_("Return fee"), required=False)
    return_fee_waived_for_resolutions = forms.MultipleChoiceField(
        label=_("Return fee waived for"),
        choices=Resolution.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    return_fee_waived_when_seller_fault = forms.BooleanField(
        label=_("Return fee waived when the seller is at fault"), required=False
    )
    store_credit_bonus_percent = forms.CharField(label=_("Store credit bonus (%)"), required=False)
    store_credit_expiry_days = forms.IntegerField(label=_("Store credit expires after (days)"))
    keep_item_below = forms.CharField(
        label=_("Keep the item below"),
        required=False,
        help_text=_("Lines paid less than this per unit need not be sent back; empty: never."),
    )
    min_invoice_amount = forms.CharField(label=_("Minimum invoice amount"), required=False)
    max_invoice_amount = forms.CharField(label=_("Maximum invoice amount"), required=False)
    exchange_instant = forms.BooleanField(label=_("Instant exchange"), required=False)
    exchange_allow_other_products = forms.BooleanField(
        label=_("Exchange for other products"), required=False
    )
    label_carriers = forms.CharField(label=_("Label carriers"), required=False)
    label_services = forms.CharField(label=_("Label services"), required=False)
    label_max_rate = forms.CharField(label=_("Highest label rate"), required=False)
    label_qr_code = forms.BooleanField(label=_("QR code instead of a label"), required=False)
    brand_colour = forms.CharField(label=_("Brand colour"), required=False, max_length=7)
    logo_url = forms.CharField(label=_("Logo URL"), required=False)
    support_email = forms.CharField(label=_("Support email"), required=False)

    @classmethod
    def initial_for(cls, store) -> dict:
        policy = StorePolicy.of(store)
        document = store.policy or {}
        fee = {**RETURN_FEE_DEFAULTS, **(document.get("return_fee") or {})}
        exchange = document.get("exchange") or {}
        label = document.get("label") or {}
        initial = {
            "return_window_days": policy.return_window_days,
            "rma_expiry_days": policy.rma_expiry_days,
            "store_credit_expiry_days": policy._get("store_credit_expiry_days"),
            "returnable_statuses": list(policy._get("returnable_statuses")),
            "resolutions": list(policy._get("resolutions")),
            "hazmat_returnable": policy.hazmat_returnable,
            "return_fee_amount": _text(fee.get("amount")),
            "return_fee_waived_for_resolutions": list(fee.get("waived_for_resolutions") or ()),
            "return_fee_waived_when_seller_fault": bool(fee.get("waived_when_seller_fault")),
            "exchange_instant": bool(exchange.get("instant")),
            "exchange_allow_other_products": bool(exchange.get("allow_other_products")),
            "label_carriers": _joined(label.get("carriers")),
            "label_services": _joined(label.get("services")),
            "label_max_rate": _text(label.get("max_rate")),
            "label_qr_code": bool(label.get("qr_code")),
            **{name: getattr(store, name) or "" for name in BRAND_FIELDS},
        }
        for key in LIST_KEYS:
            initial[key] = _joined(policy._get(key))
        for key in DECIMAL_KEYS:
            initial[key] = _text(policy._get(key))
        return initial

    def document(self, original: dict) -> dict:
        """The policy document these fields describe, over `original` (keys the editor
        does not show are kept). A key the original did not set stays unset while its
        value is the default, so a version's diff shows only what the editor changed."""
        data = self.cleaned_data
        values = {key: data.get(key) for key in INTEGER_KEYS}
        values |= {key: list(data.get(key) or ()) for key in ("returnable_statuses",)}
        values["resolutions"] = list(data.get("resolutions") or ())
        values["hazmat_returnable"] = bool(data.get("hazmat_returnable"))
        values |= {key: _split(data.get(key)) for key in LIST_KEYS}
        values |= {key: (data.get(key) or "").strip() or None for key in DECIMAL_KEYS}
        values["return_fee"] = {
            "amount": (data.get("return_fee_amount") or "").strip() or None,
            "waived_for_resolutions": list(data.get("return_fee_waived_for_resolutions") or ()),
            "waived_when_seller_fault": bool(data.get("return_fee_waived_when_seller_fault")),
        }
        values["exchange"] = {
            "instant": bool(data.get("exchange_instant")),
            "allow_other_products": bool(data.get("exchange_allow_other_products")),
        }
        label = {
            "carriers": _split(data.get("label_carriers")),
            "services": _split(data.get("label_services")),
            "max_rate": (data.get("label_max_rate") or "").strip() or None,
            "qr_code": bool(data.get("label_qr_code")),
        }
        values["label"] = {key: value for key, value in label.items() if value} or None
        document = dict(original)
        defaults = {
            **POLICY_DEFAULTS,
            "return_fee": dict(RETURN_FEE_DEFAULTS),
            "exchange": {"instant": False, "allow_other_products": False},
        }
        for key, value in values.items():
            if isinstance(value, dict):
                value = {k: v for k, v in value.items() if v is not None}
            if key in original or not _same(value, defaults.get(key)):
                document[key] = value
            if document.get(key) is None:
                document.pop(key, None)
        return document

    def brand(self) -> dict:
        return {name: (self.cleaned_data.get(name) or "").strip() for name in BRAND_FIELDS}


def _same(value, default) -> bool:
    if value is None or value == [] or value == {}:
        return default in (None, [], {})
    if isinstance(default, dict) and isinstance(value, dict):
        return all(str(value.get(k)) == str(v) for k, v in default.items()) and set(value) <= set(
            default
        )
    return str(value) == str(default) if not isinstance(value, list) else value == default


class ReasonForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=64)
    description = forms.CharField(label=_("Description"), max_length=200)
    category = forms.CharField(label=_("Category"), max_length=100, required=False)
    parent = forms.CharField(label=_("Sub-reason of"), max_length=64, required=False)
    departments = forms.CharField(
        label=_("Only for departments"), required=False, help_text=_("Comma-separated.")
    )
    seller_fault = forms.BooleanField(label=_("Seller fault"), required=False)
    requires_review = forms.BooleanField(label=_("Review"), required=False)
    requires_photo = forms.BooleanField(label=_("Photo"), required=False)

    def document(self) -> dict:
        data = self.cleaned_data
        reason = {
            "code": data["code"].strip(),
            "description": data["description"].strip(),
            "seller_fault": bool(data.get("seller_fault")),
            "requires_review": bool(data.get("requires_review")),
            "requires_photo": bool(data.get("requires_photo")),
        }
        for key in ("category", "parent"):
            if (data.get(key) or "").strip():
                reason[key] = data[key].strip()
        if departments := _split(data.get("departments")):
            reason["departments"] = departments
        return reason

    @staticmethod
    def initial_of(document: dict) -> dict:
        return {
            "code": document.get("code", ""),
            "description": document.get("description", ""),
            "category": document.get("category") or "",
            "parent": document.get("parent") or "",
            "departments": _joined(document.get("departments")),
            "seller_fault": bool(document.get("seller_fault")),
            "requires_review": bool(document.get("requires_review")),
            "requires_photo": bool(document.get("requires_photo")),
        }


_FIELD_CHOICES = [("", "—")] + [(name, name.replace("_", " ")) for name in engine.CONDITION_FIELDS]
_OPERATOR_CHOICES = [("", "—")] + [
    (op, label)
    for op, label in (
        ("gt", ">"),
        ("gte", "≥"),
        ("lt", "<"),
        ("lte", "≤"),
        ("eq", "="),
        ("in", "is one of"),
        ("not_in", "is none of"),
        ("ends_with", "ends with"),
    )
]
_ACTION_CHOICES = [("", "—")] + [(name, name.replace("_", " ")) for name in engine.ACTIONS]
# The parameter key of each action that takes one.
ACTION_PARAMETER = {
    "extend_window": "days",
    "block": "message",
    "set_return_fee": "amount",
    "route": "destination",
}


class RuleForm(forms.Form):
    """One store rule: up to three conditions (all must hold) and three actions."""

    name = forms.CharField(label=_("Rule"), max_length=100)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for slot in range(CONDITION_SLOTS):
            self.fields[f"when_{slot}_field"] = forms.ChoiceField(
                label=_("If"), choices=_FIELD_CHOICES, required=False
            )
            self.fields[f"when_{slot}_op"] = forms.ChoiceField(
                label="", choices=_OPERATOR_CHOICES, required=False
            )
            self.fields[f"when_{slot}_value"] = forms.CharField(
                label="", required=False, help_text=_("Lists: comma-separated.")
            )
            self.fields[f"when_{slot}_days"] = forms.IntegerField(
                label=_("in the last (days)"), required=False
            )
        for slot in range(ACTION_SLOTS):
            self.fields[f"then_{slot}_action"] = forms.ChoiceField(
                label=_("Then"), choices=_ACTION_CHOICES, required=False
            )
            self.fields[f"then_{slot}_value"] = forms.CharField(
                label="",
                required=False,
                help_text=_("Days, message, amount or destination, as the action needs."),
            )

    def conditions(self):
        for slot in range(CONDITION_SLOTS):
            yield [self[f"when_{slot}_{part}"] for part in ("field", "op", "value", "days")]

    def actions(self):
        for slot in range(ACTION_SLOTS):
            yield [self[f"then_{slot}_{part}"] for part in ("action", "value")]

    def document(self) -> dict:
        data = self.cleaned_data
        when, then = [], []
        for slot in range(CONDITION_SLOTS):
            field = data.get(f"when_{slot}_field")
            if not field:
                continue
            value = (data.get(f"when_{slot}_value") or "").strip()
            operator = data.get(f"when_{slot}_op") or ""
            condition = {"field": field, "op": operator}
            if field == "return_count":
                condition["value"] = int(value) if value.isdigit() else value
            elif field in engine.NUMBER_FIELDS or operator == "ends_with":
                condition["value"] = value
            else:
                condition["value"] = _split(value)
            if data.get(f"when_{slot}_days") is not None:
                condition["days"] = data[f"when_{slot}_days"]
            when.append(condition)
        for slot in range(ACTION_SLOTS):
            action = data.get(f"then_{slot}_action")
            if not action:
                continue
            item = {"action": action}
            parameter = ACTION_PARAMETER.get(action)
            value = (data.get(f"then_{slot}_value") or "").strip()
            if parameter and value:
                item[parameter] = int(value) if parameter == "days" and value.isdigit() else value
            then.append(item)
        return {
            "name": data["name"].strip(),
            "enabled": bool(data.get("enabled")),
            "when": when,
            "then": then,
        }

    @staticmethod
    def initial_of(document: dict) -> dict:
        initial = {"name": document.get("name", ""), "enabled": document.get("enabled", True)}
        for slot, condition in enumerate((document.get("when") or ())[:CONDITION_SLOTS]):
            value = condition.get("value")
            initial[f"when_{slot}_field"] = condition.get("field")
            initial[f"when_{slot}_op"] = condition.get("op")
            initial[f"when_{slot}_value"] = (
                _joined(value) if isinstance(value, list) else _text(value)
            )
            initial[f"when_{slot}_days"] = condition.get("days")
        for slot, action in enumerate((document.get("then") or ())[:ACTION_SLOTS]):
            initial[f"then_{slot}_action"] = action.get("action")
            parameter = ACTION_PARAMETER.get(action.get("action"))
            initial[f"then_{slot}_value"] = _text(action.get(parameter)) if parameter else ""
        return initial


ReasonFormSet = forms.formset_factory(ReasonForm, extra=1, can_delete=True)
RuleFormSet = forms.formset_factory(RuleForm, extra=1, can_delete=True)


class PreviewForm(forms.Form):
    order_number = forms.CharField(label=_("Order number"), required=False, max_length=64)
    # Rules on the channel or the reason decide only when these are given.
    channel = forms.ChoiceField(
        label=_("As asked through"),
        choices=[("", _("(not known: the order page)")), *Channel.choices],
        required=False,
    )
    reason = forms.CharField(
        label=_("With the reason"),
        required=False,
        max_length=64,
        help_text=_("A reason code, for every line; empty: not known yet."),
    )


class SimulateForm(forms.Form):
    label_cost = forms.DecimalField(
        label=_("Label cost per return"),
        initial="8.00",
        min_value=0,
        decimal_places=2,
        required=False,
    )
