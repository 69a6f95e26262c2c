"""The order admin: every line with its live eligibility, overrides, and "Create return".

Orders come from the store's systems (import / API) and are never edited here.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rma.eligibility import can_override, evaluate_order, is_override_active
from rma.models import Order
from rma.selectors import orders_for_eligibility

from . import views
from .common import (
    LargeTableMixin,
    ReadOnlyMixin,
    address_display,
    local_time,
    matching_orders,
)
from .scoping import StoreScopedAdminMixin, scope_queryset


@admin.register(Order)
class OrderAdmin(StoreScopedAdminMixin, LargeTableMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "order_id",
        "store_code",
        "status",
        "customer_email",
        "customer_name",
        "placed_local",
        "delivered_local",
    )
    list_select_related = ("store",)
    list_filter = ("status", "store")
    search_fields = ("order_id",)
    search_help_text = _("An order number or a customer email, exactly (letter case ignored).")
    fields = (
        "store",
        "order_id",
        "status",
        "customer_email",
        "customer_name",
        "shipping_address_display",
        "placed_at",
        "shipped_at",
        "delivered_at",
        "created_at",
        "updated_at",
    )

    readonly_fields = ("shipping_address_display",)

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(pk__in=matching_orders(search_term)), False

    @admin.display(description=_("store"), ordering="store__code")
    def store_code(self, order):
        return order.store.code

    @admin.display(description=_("placed"), ordering="placed_at")
    def placed_local(self, order):
        return local_time(order.placed_at, order.store)

    @admin.display(description=_("delivered"), ordering="delivered_at")
    def delivered_local(self, order):
        return local_time(order.delivered_at, order.store)

    @admin.display(description=_("shipping address"))
    def shipping_address_display(self, order):
        return address_display(order.shipping_address)

    def get_object(self, request, object_id, from_field=None):
        # The change page shows eligibility: fetch the order with what the rules read.
        try:
            # The page names the agent of each override.
            return (
                scope_queryset(orders_for_eligibility(), request.user)
                .prefetch_related("lines__all_overrides__agent")
                .get(pk=object_id)
            )
        except (Order.DoesNotExist, ValidationError, ValueError):
            return None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._eligibility_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _eligibility_context(self, request, order) -> dict:
        user = request.user
        now = timezone.now()
        may_add_override = user.has_perm("rma.add_eligibilityoverride")
        rows = []
        for verdict in evaluate_order(order, now=now):
            line = verdict.line
            override_url = reverse("admin:rma_order_override", args=[order.pk, line.pk])
            active_overrides = {}
            for override in line.all_overrides:  # newest first
                if is_override_active(override, now):
                    active_overrides.setdefault(override.code, override)
            rows.append(
                {
                    "verdict": verdict,
                    "failures": [
                        {
                            "rule": rule,
                            "override_url": f"{override_url}?{urlencode({'code': rule.code})}"
                            if may_add_override and can_override(user, rule.code)
                            else None,
                        }
                        for rule in verdict.failures
                    ],
                    "overridden": [
                        {"rule": rule, "override": active_overrides.get(rule.code)}
                        for rule in verdict.overridden
                    ],
                }
            )
        rmas = order.rmas.order_by("-created_at") if user.has_perm("rma.view_rma") else None
        return {
            "eligibility_rows": rows,
            "order_rmas": rmas,
            "create_return_url": reverse("admin:rma_order_create_return", args=[order.pk])
            if user.has_perm("rma.create_rma_for_customer")
            else None,
            "rma_changelist_url": reverse("admin:rma_rma_changelist"),
        }

    def get_urls(self):
        def wrap(view):
            def wrapper(request, *args, **kwargs):
                return view(self, request, *args, **kwargs)

            return self.admin_site.admin_view(wrapper)

        return [
            path(
                "<path:object_id>/lines/<int:line_id>/override/",
                wrap(views.override_view),
                name="rma_order_override",
            ),
            path(
                "<path:object_id>/create-return/",
                wrap(views.create_return_view),
                name="rma_order_create_return",
            ),
            *super().get_urls(),
        ]
