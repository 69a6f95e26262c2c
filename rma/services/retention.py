"""Data retention: forget shoppers' personal data after a while, keep the statistics."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from labels.models import ReturnLabel
from rma.models import ActorType, Notification, Order, Rma, RmaEvent, RmaLine, RmaPhoto
from rma.transitions import ACTIVE_STATUSES

ANONYMOUS_DOMAIN = "anonymised.invalid"
# What survives of a shipping address: enough for the per-region statistics.
KEPT_ADDRESS_KEYS = ("state", "country")


@dataclass(frozen=True)
class RetentionResult:
    orders: int
    photos: int
    labels: int


def _delete_files(names) -> int:
    names = {name for name in names if name}
    for name in names:
        default_storage.delete(name)
    return len(names)


@transaction.atomic
def personal_data_purge(
    *, older_than: dt.timedelta, now: dt.datetime | None = None
) -> RetentionResult:
    """Anonymise orders placed before `now - older_than` that have no active return.

    Names, email addresses, street addresses, postcodes, comments, photos and label files
    go; stores, items, quantities, reasons, outcomes, amounts, dates and the state and
    country of the address stay, so the dashboard and the statistics are unchanged.
    """
    cutoff = (now or timezone.now()) - older_than
    orders = (
        Order.objects.filter(placed_at__lt=cutoff)
        .exclude(customer_email__endswith="@" + ANONYMOUS_DOMAIN)
        .exclude(rmas__status__in=ACTIVE_STATUSES)
    )
    order_ids = list(orders.values_list("pk", flat=True))
    rmas = Rma.objects.filter(order_id__in=order_ids)
    photos = RmaPhoto.objects.filter(rma_line__rma__in=rmas)
    photo_count = _delete_files(photos.values_list("image", flat=True))
    photos.delete()
    labels = ReturnLabel.objects.filter(rma__in=rmas)
    label_files = set(labels.values_list("file", flat=True)) | set(
        rmas.values_list("label_file", flat=True)
    )
    label_count = _delete_files(label_files)
    labels.update(file="")
    rmas.update(label_file="", customer_comment="")
    RmaLine.objects.filter(rma__in=rmas).update(customer_comment="")
    RmaEvent.objects.filter(rma__in=rmas, actor_type=ActorType.SHOPPER).update(actor_label="")
    # Emails about the returns, and about the order before any return (order set, no RMA).
    Notification.objects.filter(Q(rma__in=rmas) | Q(order_id__in=order_ids)).update(
        recipient="removed@" + ANONYMOUS_DOMAIN
    )
    for order in Order.objects.filter(pk__in=order_ids).only("pk", "shipping_address"):
        address = order.shipping_address or {}
        order.shipping_address = {key: address[key] for key in KEPT_ADDRESS_KEYS if key in address}
        order.save(update_fields=["shipping_address"])
    Order.objects.filter(pk__in=order_ids).update(
        customer_name="",
        customer_email=Concat(
            Value("order-"), Cast(F("pk"), CharField()), Value("@" + ANONYMOUS_DOMAIN)
        ),
    )
    return RetentionResult(orders=len(order_ids), photos=photo_count, labels=label_count)
