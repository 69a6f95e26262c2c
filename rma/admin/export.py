"""RMAs as CSV, for a spreadsheet: the dashboard's export link and the changelist action.

A cell a spreadsheet could read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
carriage return) is written with a leading `'`, so a customer's comment or name such as
`=HYPERLINK(...)` stays text (CSV injection). Times are in each RMA's store time zone.
The rows stream: a year of returns does not sit in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from django.db.models import QuerySet, Sum
from django.http import StreamingHttpResponse
from django.utils import timezone

from rma.models import Rma
from rma.policy import StorePolicy

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000

COLUMNS = (
    "rma_number",
    "store",
    "order_id",
    "customer_email",
    "customer_name",
    "status",
    "resolution",
    "channel",
    "reasons",
    "units",
    "refund_amount",
    "store_credit_amount",
    "currency",
    "label_status",
    "label_carrier",
    "label_tracking_number",
    "customer_comment",
    "created_at",
    "authorized_at",
    "received_at",
    "resolved_at",
)


def csv_safe(value) -> str:
    """The cell text of `value`, neutralised when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def rmas_for_export(queryset: QuerySet[Rma]) -> QuerySet[Rma]:
    """What a row reads: the store, the order, the lines' totals and reasons (fixed queries)."""
    return (
        queryset.select_related("store", "order")
        .annotate(
            units=Sum("lines__quantity"),
            refunded=Sum("lines__refund_amount"),
            credited=Sum("lines__store_credit_amount"),
        )
        .prefetch_related("lines")
        .order_by("created_at", "pk")
    )


def _amount(value) -> str:
    return "" if value is None else f"{value:.2f}"


def _local(value, zone) -> str:
    return timezone.localtime(value, zone).isoformat() if value else ""


def export_rows(rmas: Iterable[Rma]) -> Iterator[list[str]]:
    yield list(COLUMNS)
    policies: dict[int, StorePolicy] = {}
    zones: dict[int, ZoneInfo] = {}
    for rma in rmas:
        store = rma.store
        if store.pk not in policies:
            policies[store.pk] = StorePolicy.of(store)
            zones[store.pk] = ZoneInfo(store.timezone)
        policy, zone = policies[store.pk], zones[store.pk]
        reasons = sorted(
            {
                policy.reason_text(line.reason_code, given=line.reason_description)
                for line in rma.lines.all()
            }
        )
        row = [
            rma.rma_number,
            store.code,
            rma.order.order_id,
            rma.order.customer_email,
            rma.order.customer_name,
            rma.get_status_display(),
            rma.get_resolution_display(),
            rma.get_channel_display(),
            "; ".join(reasons),
            rma.units or 0,
            _amount(rma.refunded),
            _amount(rma.credited),
            store.currency,
            rma.get_label_status_display(),
            rma.label_carrier,
            rma.label_tracking_number,
            rma.customer_comment,
            _local(rma.created_at, zone),
            _local(rma.authorized_at, zone),
            _local(rma.received_at, zone),
            _local(rma.resolved_at, zone),
        ]
        yield [csv_safe(cell) for cell in row]


class _Echo:
    def write(self, value):
        return value


def csv_response(queryset: QuerySet[Rma], *, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of `queryset` (already limited to the user's stores)."""
    writer = csv.writer(_Echo())
    rows = export_rows(rmas_for_export(queryset).iterator(chunk_size=CHUNK))
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
