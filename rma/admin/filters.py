"""Changelist filters: the customer-care work queues."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from payments.models import RefundStatus
from rma.models import LabelStatus, RmaStatus


@dataclass(frozen=True)
class WorkQueue:
    slug: str
    title: str
    condition: Q


WORK_QUEUES = (
    WorkQueue("review", _("Awaiting review"), Q(status=RmaStatus.REQUESTED)),
    WorkQueue(
        "label-failed",
        _("Label failed"),
        Q(status=RmaStatus.AUTHORIZED, label_status=LabelStatus.FAILED),
    ),
    WorkQueue("receipt", _("Awaiting receipt"), Q(status=RmaStatus.AUTHORIZED)),
    WorkQueue("unresolved", _("Received, not resolved"), Q(status=RmaStatus.RECEIVED)),
)
QUEUES_BY_SLUG = {queue.slug: queue for queue in WORK_QUEUES}
# The statuses any queue holds: the counts read only these rows (status index), never the
# whole table of finished returns.
QUEUE_STATUSES = (RmaStatus.REQUESTED, RmaStatus.AUTHORIZED, RmaStatus.RECEIVED)


def work_queue_counts(queryset) -> dict[str, int]:
    """How many RMAs of `queryset` each queue holds, in one grouped query."""
    rows = (
        queryset.filter(status__in=QUEUE_STATUSES)
        .order_by()
        .values("status", "label_status")
        .annotate(count=Count("pk"))
    )
    counts = dict.fromkeys(QUEUES_BY_SLUG, 0)
    for row in rows:
        for queue in WORK_QUEUES:
            if _matches(queue.condition, row):
                counts[queue.slug] += row["count"]
    return counts


def _matches(condition: Q, row: dict) -> bool:
    return all(row[field] == value for field, value in condition.children)


class WorkQueueFilter(admin.SimpleListFilter):
    title = _("work queue")
    parameter_name = "queue"
    # The store filter's parameter: the counts follow the chosen store.
    store_parameter = "store__id__exact"

    def lookups(self, request, model_admin):
        queryset = model_admin.get_queryset(request)
        store_id = request.GET.get(self.store_parameter)
        if store_id and store_id.isdigit():
            queryset = queryset.filter(store_id=int(store_id))
        counts = work_queue_counts(queryset)
        return [(queue.slug, f"{queue.title} ({counts[queue.slug]})") for queue in WORK_QUEUES]

    def queryset(self, request, queryset):
        queue = QUEUES_BY_SLUG.get(self.value())
        if queue is None:
            return queryset
        return queryset.filter(queue.condition)


class RefundFilter(admin.SimpleListFilter):
    """Refunds through the payment provider: "Refund failed" is the agents' queue."""

    title = _("refund")
    parameter_name = "refund"

    def lookups(self, request, model_admin):
        return [
            (RefundStatus.FAILED.lower(), _("Refund failed")),
            (RefundStatus.PENDING.lower(), _("Refund pending")),
            (RefundStatus.SUCCEEDED.lower(), _("Refunded")),
        ]

    def queryset(self, request, queryset):
        value = (self.value() or "").upper()
        if value not in RefundStatus.values:
            return queryset
        return queryset.filter(refund__status=value)


class OverrideActiveFilter(admin.SimpleListFilter):
    title = _("active")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", _("Active")), ("no", _("Expired"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        active = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        if self.value() == "yes":
            return queryset.filter(active)
        if self.value() == "no":
            return queryset.exclude(active)
        return queryset


def choices_filter(field: str, title, values, labels=None) -> type[admin.SimpleListFilter]:
    """A filter over a plain text column with known values.

    Django's default for a column without `choices` lists the values with
    `SELECT DISTINCT` over the whole table; these tables grow without bound.
    """

    class ChoicesFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return [(value, (labels or {}).get(value, value)) for value in values]

        def queryset(self, request, queryset):
            if self.value():
                return queryset.filter(**{field: self.value()})
            return queryset

    ChoicesFilter.title = title
    ChoicesFilter.__name__ = f"{field.title()}ChoicesFilter"
    return ChoicesFilter
