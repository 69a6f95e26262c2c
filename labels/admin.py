"""Labels in the admin: what each carrier sold, refunds, and tracking (read-only)."""

from django.contrib import admin

from rma.admin.scoping import StoreScopedAdminMixin

from .models import ReturnLabel, TrackingEvent


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0
    can_delete = False
    fields = ["occurred_at", "status", "description", "location", "source"]
    readonly_fields = fields
    ordering = ["occurred_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReturnLabel)
class ReturnLabelAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "rma",
        "status",
        "service",
        "carrier",
        "service_level",
        "rate",
        "rate_currency",
        "tracking_number",
        "refund_status",
        "created_at",
    ]
    list_filter = ["status", "service", "refund_status", "carrier"]
    list_select_related = ["rma"]
    search_fields = ["rma__rma_number", "tracking_number", "shipment_id"]
    readonly_fields = [
        "rma",
        "status",
        "service",
        "carrier",
        "service_level",
        "rate",
        "rate_currency",
        "tracking_number",
        "shipment_id",
        "carrier_label_id",
        "file",
        "qr_code",
        "attempts",
        "failure_reason",
        "refund_status",
        "refund_error",
        "claimed_until",
        "created_at",
        "issued_at",
        "voided_at",
    ]
    inlines = [TrackingEventInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TrackingEvent)
class TrackingEventAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["rma", "tracking_number", "status", "occurred_at", "source", "location"]
    list_filter = ["status", "source"]
    list_select_related = ["rma"]
    search_fields = ["rma__rma_number", "tracking_number"]
    readonly_fields = [
        "rma",
        "label",
        "source",
        "source_event_id",
        "tracking_number",
        "status",
        "description",
        "location",
        "occurred_at",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
