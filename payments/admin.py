"""Refunds and store credit in the admin: the "refund failed" queue, the credit ledger."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from rma.admin.scoping import StoreScopedAdminMixin
from rma.services.actors import Actor

from .models import Refund, RefundStatus, StoreCredit, StoreCreditEntry
from .services import PaymentError, refund_retry


@admin.register(Refund)
class RefundAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "rma",
        "amount",
        "currency",
        "status",
        "service",
        "attempts",
        "failure_reason",
        "updated_at",
    )
    list_filter = ("status", "service")
    list_select_related = ("rma",)
    search_fields = ("rma__rma_number", "payment_intent", "provider_refund_id")
    readonly_fields = [field.name for field in Refund._meta.fields]
    actions = ["retry_failed"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send failed refunds again"), permissions=["change"])
    def retry_failed(self, request, queryset):
        retried = 0
        for refund in queryset.filter(status=RefundStatus.FAILED):
            try:
                refund_retry(refund=refund, actor=Actor.agent(request.user))
            except PaymentError as error:
                self.message_user(request, error.message, messages.ERROR)
                continue
            retried += 1
        self.message_user(
            request,
            ngettext("%(count)d refund sent again.", "%(count)d refunds sent again.", retried)
            % {"count": retried},
            messages.SUCCESS if retried else messages.WARNING,
        )


class StoreCreditEntryInline(admin.TabularInline):
    model = StoreCreditEntry
    fields = ("created_at", "kind", "amount", "balance_after", "reference", "rma")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(StoreCredit)
class StoreCreditAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "store", "amount", "balance", "currency", "expires_at", "rma")
    list_filter = ("store", "currency")
    list_select_related = ("store", "rma")
    search_fields = ("code", "rma__rma_number")
    # The balance moves only through the ledger (issue, redeem); expiry may be extended.
    readonly_fields = ("code", "store", "amount", "balance", "currency", "rma", "created_at")
    inlines = [StoreCreditEntryInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
