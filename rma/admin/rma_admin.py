"""The RMA admin: work queues, search by RMA number, the detail page and the agent's buttons.

Nothing here changes an RMA by itself: status, labels and emails change only through the
services (`actions.OPERATIONS`). The change form is a read-only page; the buttons above it
post to small views that call the services.
"""

from __future__ import annotations

import mimetypes

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from catalogue.selectors import attach_exchanges
from rma.models import LabelStatus, Notification, Rma, RmaPhoto, RmaStatus
from rma.policy import StorePolicy
from rma.selectors import rma_lines_queryset

from . import actions
from .common import (
    LargeTableMixin,
    actor_display,
    admin_link,
    admin_url,
    local_time,
    matching_orders,
    optional_reverse,
    search_by_rma_number,
)
from .dashboard import dashboard_filters, dashboard_view
from .export import csv_response
from .filters import RefundFilter, WorkQueueFilter
from .scoping import StoreScopedAdminMixin, get_object_in_scope_or_404
from .wording import event_label, notification_label, rule_decision_text, status_label


def _bulk_action(operation: actions.RmaOperation):
    def action(model_admin, request, queryset):
        return model_admin.run_bulk_operation(request, queryset, operation)

    action.__name__ = f"{operation.name}_selected"
    # Lazy, so the action list is translated per request; "…": a page with a reason follows.
    description = (
        format_lazy("{}…", operation.label) if operation.confirm_first else operation.label
    )
    return admin.action(description=description, permissions=[operation.name])(action)


@admin.register(Rma)
class RmaAdmin(StoreScopedAdminMixin, LargeTableMixin, admin.ModelAdmin):
    list_display = (
        "rma_number",
        "order_link",
        "store_code",
        "status",
        "label_status",
        "channel",
        "created_local",
    )
    list_select_related = ("store", "order")
    list_filter = (
        WorkQueueFilter,
        RefundFilter,
        "status",
        "store",
        "label_status",
        ("created_at", admin.DateFieldListFilter),
    )
    # get_search_results replaces the default `icontains` search entirely.
    search_fields = ("rma_number",)
    search_help_text = _(
        "An RMA number (hyphens and letter case do not matter), an order number or a "
        "customer email, exactly."
    )
    actions = [
        *(_bulk_action(operation) for operation in actions.OPERATIONS.values()),
        "export_csv",
    ]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "rma_number",
                    "status",
                    "status_reason",
                    "store",
                    "order_link",
                    "customer",
                    "resolution",
                    "destination",
                    "channel",
                    "customer_comment",
                    "rules_applied",
                )
            },
        ),
        (
            _("Label"),
            {
                "fields": (
                    "label_status",
                    "label_link",
                    "label_carrier",
                    "label_tracking_number",
                    "label_failure_reason",
                )
            },
        ),
        (
            _("Dates"),
            {
                "fields": (
                    "created_at",
                    "authorized_at",
                    "expires_at",
                    "received_at",
                    "resolved_at",
                    "updated_at",
                )
            },
        ),
        (
            _("Order system"),
            {
                "fields": (
                    "source_name",
                    "source_location_id",
                    "return_type",
                    "order_type",
                    "store_type",
                )
            },
        ),
        (
            _("Technical"),
            {"classes": ("collapse",), "fields": ("request_group", "transaction_id")},
        ),
    )
    readonly_fields = ("order_link", "customer", "destination", "label_link", "rules_applied")

    # Creation goes through rma_request (the order page's "Create return"), changes through
    # the services, and the audit trail must survive: nobody adds, edits or deletes here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _has_operation_permission(self, request, name: str) -> bool:
        return request.user.has_perm(f"rma.{actions.OPERATIONS[name].permission}")

    def has_approve_permission(self, request):
        return self._has_operation_permission(request, "approve")

    def has_reject_permission(self, request):
        return self._has_operation_permission(request, "reject")

    def has_cancel_permission(self, request):
        return self._has_operation_permission(request, "cancel")

    def has_resend_permission(self, request):
        return self._has_operation_permission(request, "resend")

    def has_reissue_permission(self, request):
        return self._has_operation_permission(request, "reissue")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("store", "order", "supplier")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        by_number = search_by_rma_number(queryset, term)
        if by_number is not None:
            return by_number, False
        return queryset.filter(order__in=matching_orders(term)), False

    @admin.display(description=_("order"), ordering="order__order_id")
    def order_link(self, rma):
        return admin_link(rma.order, rma.order.order_id)

    @admin.display(description=_("store"), ordering="store__code")
    def store_code(self, rma):
        return rma.store.code

    @admin.display(description=_("created"), ordering="created_at")
    def created_local(self, rma):
        return local_time(rma.created_at, rma.store)

    @admin.display(description=_("customer"))
    def customer(self, rma):
        order = rma.order
        return f"{order.customer_name} <{order.customer_email}>".strip()

    @admin.display(description=_("return destination"))
    def destination(self, rma):
        if rma.supplier_id:
            return _("Supplier %(supplier)s") % {"supplier": rma.supplier}
        return _("Store warehouse")

    @admin.display(description=_("store rules applied"))
    def rules_applied(self, rma):
        """What the store's rules decided for this return when it was requested: its fee,
        kept items, review, destination and window come from these, not today's policy."""
        records = [record for record in rma.rule_decisions or () if isinstance(record, dict)]
        if not records:
            return self.get_empty_value_display()
        return format_html_join(
            mark_safe("<br>"), "{}", ((rule_decision_text(record),) for record in records)
        )

    @admin.display(description=_("label"))
    def label_link(self, rma):
        if rma.label_status != LabelStatus.ISSUED:
            return "—"
        try:
            from labels.links import label_url
        except ImportError:  # the labels app not installed: no downloadable labels
            return "—"
        return format_html('<a href="{}">{}</a>', label_url(rma), _("Download label (PDF)"))

    # The detail page ------------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._detail_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _detail_context(self, request, rma: Rma) -> dict:
        user = request.user
        operations = [
            {
                "operation": operation,
                "url": reverse("admin:rma_rma_operation", args=[rma.pk, operation.name]),
            }
            for operation in actions.OPERATIONS.values()
            if operation.offered_for(rma, user)
        ]
        links = []
        if rma.status == RmaStatus.AUTHORIZED and user.has_perm("rma.receive_rma"):
            links.append(
                (_("Receive"), optional_reverse("warehouse:receive", rma_number=rma.rma_number))
            )
        if rma.status == RmaStatus.RECEIVED and user.has_perm("rma.resolve_rma"):
            links.append(
                (_("Resolve"), optional_reverse("warehouse:resolve", rma_number=rma.rma_number))
            )
        lines = list(rma_lines_queryset().filter(rma=rma).prefetch_related("photos"))
        attach_exchanges(lines)  # each line's exchange, if any: one query
        can_see_photos = user.has_perm("rma.view_rmaphoto")
        policy = StorePolicy.of(rma.store)
        return {
            "rma_operations": operations,
            "rma_links": [(label, url) for label, url in links if url],
            "rma_lines": [
                {
                    "line": line,
                    "reason": policy.reason_text(line.reason_code, given=line.reason_description),
                    "exchange": line.exchange,
                    "receipt": line.receipt_in_words(),
                    "photos": [
                        reverse("admin:rma_rma_photo", args=[rma.pk, photo.pk])
                        for photo in line.photos.all()
                    ]
                    if can_see_photos
                    else [],
                }
                for line in lines
            ],
            "rma_events": (
                [
                    {
                        "event": event,
                        "who": actor_display(event),
                        "what": event_label(event.type),
                        "change": (
                            f"{status_label(event.data.get('from'))} → "
                            f"{status_label(event.data.get('to'))}"
                            if isinstance(event.data, dict) and event.data.get("to")
                            else ""
                        ),
                    }
                    for event in rma.events.select_related("actor_user").order_by(
                        "created_at", "pk"
                    )
                ]
                if user.has_perm("rma.view_rmaevent")
                else None
            ),
            "rma_notifications": (
                self._notifications(rma) if user.has_perm("rma.view_notification") else None
            ),
            "rma_deliveries": (
                list(rma.webhook_deliveries.select_related("endpoint").order_by("created_at"))
                if user.has_perm("rma.view_webhookdelivery")
                else None
            ),
            "order_url": admin_url(rma.order),
        }

    @staticmethod
    def _notifications(rma: Rma) -> list[Notification]:
        # One email can cover every RMA of a request; it hangs off the first of them.
        candidates = Notification.objects.filter(rma__request_group=rma.request_group)
        notifications = [n for n in candidates if n.rma_id == rma.pk or rma.pk in (n.rma_ids or [])]
        for notification in notifications:
            notification.kind_label = notification_label(notification.kind)
        return notifications

    # Custom views -----------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/do/<slug:name>/",
                view(self.operation_view),
                name="rma_rma_operation",
            ),
            path(
                "<path:object_id>/photos/<int:photo_id>/",
                view(self.photo_view),
                name="rma_rma_photo",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="rma_rma_export",
            ),
            path(
                "dashboard/",
                self.admin_site.admin_view(dashboard_view(self)),
                name="rma_dashboard",
            ),
            *super().get_urls(),
        ]

    def has_export_permission(self, request):
        # Customer data in bulk: for those who see the dashboard, not every viewer.
        return self.has_view_permission(request) and request.user.has_perm("rma.view_dashboard")

    @admin.action(description=_("Export selected returns (CSV)"), permissions=["export"])
    def export_csv(self, request, queryset):
        return csv_response(queryset, filename="returns.csv")

    def export_view(self, request):
        """The dashboard's period and store as CSV (GET parameters as on the dashboard)."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        _form, period, _store, store_ids = dashboard_filters(request)
        queryset = self.get_queryset(request).filter(
            created_at__gte=period.start, created_at__lt=period.end
        )
        if store_ids is not None:
            queryset = queryset.filter(store__in=sorted(store_ids))
        filename = f"returns-{period.date_from.isoformat()}-{period.date_to.isoformat()}.csv"
        return csv_response(queryset, filename=filename)

    def run_bulk_operation(self, request, queryset, operation):
        rmas = actions.limited(self, request, queryset.select_related("store", "order"))
        if rmas is None:
            return None
        form = actions.ReasonForm(
            request.POST if "apply" in request.POST else None, operation=operation
        )
        if operation.confirm_first and not form.is_valid():
            return self._operation_page(request, operation, rmas, form, bulk=True)
        # An operation without a reason may still be posted with "apply": is_valid() first.
        reason = form.cleaned_data["reason"] if form.is_bound and form.is_valid() else ""
        actions.perform(self, request, rmas, operation, reason=reason)
        return None

    def operation_view(self, request, object_id, name):
        operation = actions.OPERATIONS.get(name)
        if operation is None:
            raise Http404
        if not self._has_operation_permission(request, name):
            raise PermissionDenied
        rma = get_object_or_404(self.get_queryset(request), pk=object_id)
        form = actions.ReasonForm(
            request.POST if request.method == "POST" else None, operation=operation
        )
        if request.method == "POST" and form.is_valid():
            actions.perform(self, request, [rma], operation, reason=form.cleaned_data["reason"])
            return redirect(admin_url(rma))
        return self._operation_page(request, operation, [rma], form, bulk=False)

    def _operation_page(self, request, operation, rmas, form, *, bulk: bool):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": operation.label,
            "operation": operation,
            "rmas": rmas,
            "form": form,
            "bulk": bulk,
            "action_name": f"{operation.name}_selected",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": reverse("admin:rma_rma_changelist") if bulk else admin_url(rmas[0]),
            "original": None if bulk else rmas[0],
        }
        return TemplateResponse(request, "admin/rma/rma/operation.html", context)

    def photo_view(self, request, object_id, photo_id):
        """A shopper's photo, for the agent deciding on the request (private storage)."""
        if not request.user.has_perm("rma.view_rmaphoto"):
            raise PermissionDenied
        photo = get_object_in_scope_or_404(
            RmaPhoto.objects.all(), request.user, pk=photo_id, rma_line__rma_id=object_id
        )
        content_type = photo.content_type or mimetypes.guess_type(photo.image.name)[0] or ""
        is_image = content_type.startswith("image/") and content_type != "image/svg+xml"
        response = FileResponse(
            photo.image.open("rb"),
            content_type=content_type if is_image else "application/octet-stream",
            as_attachment=not is_image,
        )
        response["Cache-Control"] = "private, no-store"
        return response
