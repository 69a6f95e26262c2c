"""Building the shopper's and supplier's emails: HTML and plain text, store branding."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from catalogue.selectors import attach_exchanges
from labels.links import label_url
from payments.estimate import Estimate

from .branding import LIGHT_TEXT, brand_colour, brand_text_colour, contrast_ratio
from .eligibility import evaluate_order
from .estimates import (
    estimate_view,
    is_kept,
    outcome_view,
    resolved_return_fee,
    rma_estimates,
    rma_line_titles,
)
from .links import status_url
from .models import LabelStatus, Notification, Rma, RmaStatus
from .policy import StorePolicy
from .portal.wording import ship_by_text
from .selectors import orders_for_eligibility


def subject_for(kind: str, *, store_name: str, numbers: str) -> str:
    subjects = {
        "request_received": _("We received your return request %(numbers)s"),
        "confirmation": _("Your return %(numbers)s is approved"),
        "supplier_notice": _("Return %(numbers)s is on its way to you"),
        "rejected": _("Your return request %(numbers)s was not approved"),
        "cancelled": _("Your return %(numbers)s is cancelled"),
        "expired": _("Your return %(numbers)s has expired"),
        "received": _("We received your parcel for return %(numbers)s"),
        "received_at_counter": _("We received your return %(numbers)s"),
        "resolved": _("Your return %(numbers)s is complete"),
        "in_transit": _("Your return %(numbers)s is on its way"),
        "supplier_cancelled": _("Return %(numbers)s is cancelled"),
        "supplier_expired": _("Return %(numbers)s has expired"),
        "exchange_released": _("The replacement for your return %(numbers)s is on its way"),
        "label_reissued": _("A new return label for your return %(numbers)s"),
        "line_returnable": _("Items of your order %(numbers)s can be returned"),
    }
    # One line whatever the stored name holds: a line break in a header stops the email.
    store_name = " ".join(store_name.split())
    return f"{store_name}: " + subjects[kind] % {"numbers": numbers}


DEFAULT_BRAND_COLOUR = "#1d4ed8"
# Emails to a dropship supplier rather than the shopper.
SUPPLIER_KINDS = frozenset({"supplier_notice", "supplier_cancelled", "supplier_expired"})


def email_colours(store) -> dict:
    """Header and button colours from the store's brand, keeping text readable."""
    colour = brand_colour(store) or DEFAULT_BRAND_COLOUR
    readable_on_white = contrast_ratio(colour, LIGHT_TEXT) >= 4.5
    return {
        "brand_colour": colour,
        "brand_text": brand_text_colour(colour),
        "link_colour": colour if readable_on_white else DEFAULT_BRAND_COLOUR,
    }


def label_attachments(rmas: list[Rma]) -> list[tuple[str, bytes, str]]:
    attachments = []
    for rma in rmas:
        if rma.label_status == LabelStatus.ISSUED and rma.label_file:
            with default_storage.open(rma.label_file.name, "rb") as label:
                attachments.append(
                    (f"return-label-{rma.rma_number}.pdf", label.read(), "application/pdf")
                )
    return attachments


def lines_with_reasons(rma: Rma, policy: StorePolicy) -> list:
    """The RMA's lines, each with `reason_text`: the store's words for a configured reason,
    the caller's description for one it has not configured."""
    # Each line with the exchange asked for, if any (`exchange_text`): one query.
    lines = attach_exchanges(rma.lines.all())
    for line in lines:
        line.reason_text = policy.reason_text(line.reason_code, given=line.reason_description)
    return lines


def build_email(notification: Notification, rmas: list[Rma]) -> EmailMultiAlternatives:
    """The email for a notification about `rmas` (all of one store and order)."""
    store = rmas[0].store
    policy = StorePolicy.of(store)
    estimates = rma_estimates(rmas)
    context = {
        "kind": notification.kind,
        "store": store,
        "order": rmas[0].order,
        **email_colours(store),
        "rmas": [
            {
                "rma": rma,
                "lines": lines_with_reasons(rma, policy),
                "status_url": status_url(rma),
                "label_url": label_url(rma) if rma.label_status == LabelStatus.ISSUED else "",
                "destination": (
                    rma.supplier.return_address if rma.supplier_id else store.return_address
                ),
                # What the shopper gets back; once resolved, the outcome; kept items.
                "estimate": estimate_view(estimates[rma.pk], titles=rma_line_titles(rma)),
                "outcome": outcome_view(rma, return_fee=resolved_return_fee(rma))
                if rma.status == RmaStatus.RESOLVED
                else None,
                "kept": is_kept(rma),
                "ship_by": ship_by_text(rma, kept=is_kept(rma)),
            }
            for rma in rmas
        ],
        "request_estimate": estimate_view(
            Estimate.combine(estimates.values(), currency=store.currency)
        )
        if len(rmas) > 1
        else None,
        "all_kept": all(is_kept(rma) for rma in rmas),
        "label_pending": any(rma.label_status == LabelStatus.FAILED for rma in rmas),
        "for_supplier": notification.kind in SUPPLIER_KINDS,
    }
    numbers = ", ".join(rma.rma_number for rma in rmas)
    message = EmailMultiAlternatives(
        subject=subject_for(notification.kind, store_name=store.name, numbers=numbers),
        body=render_to_string("emails/notification.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        reply_to=[store.support_email] if store.support_email else None,
        headers={"X-RMA-Number": numbers},
    )
    message.attach_alternative(render_to_string("emails/notification.html", context), "text/html")
    if notification.kind in ("confirmation", "supplier_notice", "label_reissued"):
        for attachment in label_attachments(rmas):
            message.attach(*attachment)
    return message


def build_order_email(notification: Notification) -> EmailMultiAlternatives:
    """An email about an order before any return exists: the lines made returnable.

    The lines are those returnable when the email is written (the override may have
    expired or a return been requested meanwhile), in the store's time zone.
    """
    order = orders_for_eligibility().get(pk=notification.order_id)
    store = order.store
    with timezone.override(ZoneInfo(store.timezone)):
        verdicts = [
            verdict
            for verdict in evaluate_order(order, now=timezone.now())
            if verdict.eligible and verdict.returnable_quantity > 0
        ]
        context = {
            "kind": notification.kind,
            "store": store,
            "order": order,
            "verdicts": verdicts,
            "portal_url": settings.SITE_URL + reverse("portal:lookup"),
            **email_colours(store),
        }
        text = render_to_string("emails/line_returnable.txt", context)
        html = render_to_string("emails/line_returnable.html", context)
    message = EmailMultiAlternatives(
        subject=subject_for(notification.kind, store_name=store.name, numbers=order.order_id),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        reply_to=[store.support_email] if store.support_email else None,
    )
    message.attach_alternative(html, "text/html")
    return message
