"""Shopper-facing words for codes and events: plain language, translated.

The codes themselves (e.g. "RMA 1006") are shown in small print beside these texts, so
customer care can match what a shopper reads to the rule that applied.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from rma.models import OrderStatus, Resolution, RmaStatus
from rma.policy import DEFAULT_REASONS

# The built-in reasons in the shopper's language; a store's own reasons are shown as written.
DEFAULT_REASON_TEXTS = {
    "DEFECTIVE": gettext_lazy("Defective or damaged"),
    "WRONG_ITEM": gettext_lazy("Wrong item received"),
    "TOO_SMALL": gettext_lazy("Too small"),
    "TOO_LARGE": gettext_lazy("Too large"),
    "NOT_AS_DESCRIBED": gettext_lazy("Not as described"),
    "CHANGED_MIND": gettext_lazy("Changed my mind"),
}
_DEFAULT_DESCRIPTIONS = {reason.code: reason.description for reason in DEFAULT_REASONS}


def long_date(moment) -> str:
    """A date written out, e.g. "5 December 2026" (the format is translated too)."""
    return formats.date_format(moment, pgettext("long date format", "j F Y"))


def date_and_time(moment) -> str:
    return formats.date_format(moment, pgettext("date and time format", "j F Y, H:i"))


def ship_by_text(rma, *, kept: bool = False) -> str:
    """The last day to send the parcel (the RMA's expiry, in the store's timezone), written
    out; "" when there is nothing to send or no expiry."""
    if rma.status != RmaStatus.AUTHORIZED or not rma.expires_at or kept:
        return ""
    return long_date(timezone.localtime(rma.expires_at, ZoneInfo(rma.store.timezone)))


def time_with_zone(text: str, moment) -> str:
    """A written time followed by its zone's abbreviation, e.g. "5 December 2026, 14:05 EST"."""
    zone = moment.strftime("%Z")
    return f"{text} {zone}" if zone else text


def reason_text(reason) -> str:
    """A store reason's description, translated when it is one of the built-in reasons."""
    if _DEFAULT_DESCRIPTIONS.get(reason.code) == reason.description:
        return str(DEFAULT_REASON_TEXTS[reason.code])
    return reason.description


def resolution_text(code: str) -> str:
    return str(Resolution(code).label) if code in Resolution.values else code


def status_text(code: str) -> str:
    return str(RmaStatus(code).label) if code in RmaStatus.values else code


def ineligibility_text(code: str, *, verdict, order) -> str:
    """Why a line cannot be returned, in words a shopper understands."""
    line = verdict.line
    if code == "RMA 1006":
        # The moment is in the store's timezone: the date is the store's last day.
        closed_on = long_date(verdict.last_return_moment)
        return _("The return window for this item closed on %(date)s.") % {"date": closed_on}
    if code == "RMA 1007":
        return _("All of this item has already been returned or is in a return under way.")
    if code == "RMA 1008":
        return _order_status_text(order.status)
    if code == "RMA 1015":
        return _("We cannot accept returns from the country this order was delivered to.")
    if code == "RMA 1016":
        return _("This item contains hazardous materials, so it cannot be sent back by post.")
    if code == "RMA 1017":
        return _("We cannot accept returns from the state or region this order was delivered to.")
    if code == "RMA 1019":
        if line.final_sale:
            return _("This item was a final sale, so it cannot be returned.")
        return _("The store's return policy excludes this item from returns.")
    if code == "RMA 1020":
        return _("Items from the department “%(department)s” cannot be returned.") % {
            "department": line.department
        }
    decision = getattr(verdict, "decision", None)
    if code == "RMA 1024" and decision is not None and decision.block is not None:
        return decision.block.value  # the store's own words, from the rule (docs/console.md)
    return _("This item cannot be returned.")


def _order_status_text(status: str) -> str:
    if status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
        return _("This order has not been shipped yet, so nothing in it can be returned yet.")
    if status == OrderStatus.CANCELLED:
        return _("This order was cancelled, so nothing in it can be returned.")
    return _("Returns are no longer possible for this order.")


def refusal_text(code: str, *, verdict, order, number: int) -> str:
    """Why a requested line was refused (the line may have changed since the page was shown)."""
    if code == "RMA 1005" or verdict is None:
        return _("Line %(number)d is not part of your order.") % {"number": number}
    if code == "RMA 1023":
        return _("The item you chose instead is no longer available: please choose another.")
    if code == "RMA 1007" and verdict is not None and verdict.returnable_quantity > 0:
        return _("You can return at most %(count)d of this item.") % {
            "count": verdict.returnable_quantity
        }
    return ineligibility_text(code, verdict=verdict, order=order)


def request_error_text(field: str, message: str, *, known_fields) -> str:
    """A service's `RequestError`, by the field at fault, in the shopper's language."""
    if field == "resolution":
        return _("Choose one of the ways we can resolve your return.")
    if field == "lines":
        return _("Choose at least one item to return.")
    if field.startswith("line-") and field not in known_fields:
        return _("An item you chose is not part of your order.")
    if field.endswith("-reason"):
        return _("Choose a reason for returning this item.")
    if field.endswith("-photo"):
        return _("Add a photo of the item: the reason you chose needs one.")
    return message


# The events of an RMA a shopper sees, with what they mean; other events stay internal.
EVENT_TEXTS = {
    "rma.created": (
        gettext_lazy("Return requested"),
        gettext_lazy("We received your return request."),
    ),
    "rma.authorized": (
        gettext_lazy("Return approved"),
        gettext_lazy("Your return is approved. Send the items back with the return label."),
    ),
    "rma.label_issued": (
        gettext_lazy("Return label ready"),
        gettext_lazy("Your prepaid return label is ready to print."),
    ),
    "rma.label_reissued": (
        gettext_lazy("New return label"),
        gettext_lazy("We replaced your return label. Please use the new one."),
    ),
    "rma.rejected": (
        gettext_lazy("Return not approved"),
        gettext_lazy("We could not approve your return request."),
    ),
    "rma.received": (
        gettext_lazy("Parcel received"),
        gettext_lazy("Your parcel arrived at our warehouse. We are checking the items."),
    ),
    "rma.resolved": (
        gettext_lazy("Return completed"),
        gettext_lazy("Your return is complete."),
    ),
    "rma.cancelled": (
        gettext_lazy("Return cancelled"),
        gettext_lazy("The return was cancelled."),
    ),
    "rma.expired": (
        gettext_lazy("Return expired"),
        gettext_lazy("We did not receive the parcel in time, so the return expired."),
    ),
    "rma.exchange_released": (
        gettext_lazy("Replacement on its way"),
        gettext_lazy("The replacement you chose has been sent on its way to you."),
    ),
}


def next_steps_text(rma) -> str:
    """What the shopper should expect or do next, by status."""
    texts = {
        RmaStatus.REQUESTED: _(
            "Our customer care team will review your request and email you their decision. "
            "Please do not send anything back until your return is approved."
        ),
        RmaStatus.AUTHORIZED: _(
            "Pack the items securely, attach the return label to the parcel and make sure "
            "the RMA number is visible. We will email you when the parcel arrives."
        ),
        RmaStatus.RECEIVED: _(
            "We are checking the items and will email you the outcome of your return."
        ),
        RmaStatus.RESOLVED: _("Your return is complete. Nothing more needs to be done."),
        RmaStatus.REJECTED: _("Your return was not approved. Please do not send the items."),
        RmaStatus.CANCELLED: _("This return is cancelled. Nothing more needs to be done."),
        RmaStatus.EXPIRED: _(
            "This return expired. The items can be requested again while they are returnable."
        ),
    }
    return texts.get(rma.status, "")


def label_pending_text(rma) -> str:
    if rma.status != RmaStatus.AUTHORIZED:
        return ""
    if rma.label_status == "PENDING":
        return _("Your return label is being prepared. We will also email it to you.")
    if rma.label_status == "FAILED":
        return _("We could not create your return label yet. It will follow by email.")
    if rma.label_status == "NOT_REQUIRED":
        return _("No prepaid label is needed: please send the parcel at your own cost.")
    return ""
