"""Codes in words for the admin: event types, email kinds, statuses in an event's data, the
store rules' decisions kept on an RMA."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rma.eligibility import RULES
from rma.models import RmaStatus

EVENT_LABELS = {
    "rma.created": _("Return requested"),
    "rma.authorized": _("Approved"),
    "rma.rejected": _("Rejected"),
    "rma.cancelled": _("Cancelled"),
    "rma.expired": _("Expired"),
    "rma.received": _("Parcel received"),
    "rma.resolved": _("Resolved"),
    "rma.label_issued": _("Label issued"),
    "rma.label_failed": _("Label failed"),
    "rma.label_reissued": _("Label re-issued"),
    "rma.label_voided": _("Label voided"),
    "rma.label_refund": _("Label refund"),
    "rma.tracking_updated": _("Tracking update"),
    "rma.refunded": _("Refunded"),
    "rma.refund_failed": _("Refund failed"),
    "rma.refund_retried": _("Refund sent again"),
    "rma.exchange_released": _("Replacement released"),
    "notification.resent": _("Email sent again"),
}

NOTIFICATION_LABELS = {
    "request_received": _("Request received"),
    "confirmation": _("Confirmation"),
    "supplier_notice": _("Notice to the supplier"),
    "received_at_counter": _("Received at a counter"),
    "rejected": _("Rejected"),
    "cancelled": _("Cancelled"),
    "expired": _("Expired"),
    "received": _("Parcel received"),
    "resolved": _("Resolved"),
    "in_transit": _("On its way"),
    "supplier_cancelled": _("Cancellation to the supplier"),
    "supplier_expired": _("Expiry to the supplier"),
    "exchange_released": _("Replacement released"),
    "label_reissued": _("New label"),
    "line_returnable": _("Item can be returned"),
}


def event_label(event_type: str) -> str:
    """An event type in words; an unknown type as it is (new types still show)."""
    return str(EVENT_LABELS.get(event_type, event_type))


def notification_label(kind: str) -> str:
    return str(NOTIFICATION_LABELS.get(kind, kind))


def status_label(value: str | None) -> str:
    if not value:
        return "—"
    return str(RmaStatus(value).label) if value in RmaStatus.values else value


def rule_label(code: str) -> str:
    """An eligibility code with its description, e.g. "RMA 1006 — …"."""
    rule = RULES.get(code)
    return f"{code} — {rule.description}" if rule is not None else code


# The parameter each kind of stored rule decision carries (rma/estimates.py lists them).
DECISION_PARAMETERS = ("amount", "destination", "days")


def rule_decision_text(record: dict) -> str:
    """One of `Rma.rule_decisions` in words, e.g. "Line 2: set return fee 2.50 (rule “Bulky”)".

    Actions are named as the policy editor names them (its choices are the engine's names).
    """
    action = str(record.get("action") or "").replace("_", " ")
    parameter = next((record[key] for key in DECISION_PARAMETERS if key in record), None)
    if parameter is not None:
        action = f"{action} {parameter}"
    return _("Line %(line)s: %(action)s (rule “%(rule)s”)") % {
        "line": record.get("line_number", "?"),
        "action": action,
        "rule": record.get("rule", ""),
    }
