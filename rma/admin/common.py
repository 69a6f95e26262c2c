"""Pieces every admin of this app shares: read-only admins, large-table paging, search, links."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.functions import Upper
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from rma.models import Order
from rma.numbers import normalise_rma_number


class EstimatedCountPaginator(Paginator):
    """A paginator that never counts a whole large table.

    Unfiltered on PostgreSQL it takes the planner's row estimate (`pg_class.reltuples`,
    kept fresh by autovacuum); otherwise it counts at most `count_cap` rows. Either way
    `count_is_exact` tells the template whether to say "about" or "more than".
    """

    count_cap = 10_000

    def __init__(self, object_list, *args, **kwargs):
        super().__init__(object_list, *args, **kwargs)
        self.count_is_exact = True
        self.count_is_estimate = False

    @cached_property
    def count(self):
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        if not queryset.query.where:
            estimate = table_row_estimate(queryset.model, using=queryset.db)
            if estimate is not None and estimate > self.count_cap:
                self.count_is_exact = False
                self.count_is_estimate = True
                return estimate
        capped = queryset.order_by()[: self.count_cap + 1].count()
        if capped > self.count_cap:
            self.count_is_exact = False
            return self.count_cap
        return capped


def table_row_estimate(model, *, using: str) -> int | None:
    """PostgreSQL's estimate of a table's rows, or None elsewhere or before the first ANALYZE."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(model._meta.db_table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class LargeTableMixin:
    """For tables that grow without bound: no full counts, no facet counts, cheap paging."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50


class ReadOnlyMixin:
    """Rows written only by services (or imports): the admin shows them and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


def matching_orders(term: str) -> QuerySet[Order]:
    """Orders whose number or customer email is exactly `term`, ignoring case (indexed)."""
    key = term.strip().upper()
    return (
        Order.objects.annotate(
            order_id_upper=Upper("order_id"), email_upper=Upper("customer_email")
        )
        .filter(Q(order_id_upper=key) | Q(email_upper=key))
        .values("pk")
    )


def search_by_rma_number(queryset: QuerySet, term: str, *, field: str = "rma_number"):
    """Exact match on the canonical RMA number, or None when `term` is not one.

    People type numbers with or without hyphens, in any case; the check character means
    a mistyped number matches nothing instead of another RMA. An exact match keeps the
    search on the unique index (no `LIKE '%…%'` scan over a large table).
    """
    canonical = normalise_rma_number(term)
    if canonical is None:
        return None
    return queryset.filter(**{field: canonical})


def admin_url(obj, view: str = "change") -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def admin_link(obj, text=None):
    if obj is None:
        return "—"
    return format_html('<a href="{}">{}</a>', admin_url(obj), text if text is not None else obj)


def optional_reverse(name: str, **kwargs) -> str | None:
    """A URL of another part of the product that may not be installed (e.g. the warehouse)."""
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


ADDRESS_LINES = (("name",), ("line1",), ("line2",), ("postal_code", "city", "state"), ("country",))


def address_display(address: dict) -> str:
    """An address document of the import format as the lines of an envelope."""
    address = address or {}
    lines = [
        " ".join(str(address[key]) for key in keys if address.get(key)) for keys in ADDRESS_LINES
    ]
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines if line)) or "—"


def pretty_json(value) -> str:
    return format_html(
        '<pre class="admin-extra-json">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str),
    )


def actor_display(event) -> str:
    """Who did it, for the timeline: the agent's username, else the recorded label."""
    if event.actor_user_id:
        return f"{event.get_actor_type_display()}: {event.actor_user.get_username()}"
    label = f": {event.actor_label}" if event.actor_label else ""
    return f"{event.get_actor_type_display()}{label}"


def local_time(value, store) -> str:
    """A time in the store's time zone, with the zone's abbreviation (lists mix stores)."""
    if value is None:
        return "—"
    local = timezone.localtime(value, ZoneInfo(store.timezone))
    return format_html(
        '<time datetime="{}">{}</time>', local.isoformat(), dateformat.format(local, "Y-m-d H:i T")
    )
