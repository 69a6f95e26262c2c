"""Catalogue in the admin: products with their variants; exchange reservations read-only.

Products come from the store's systems (import, PUT endpoint); the admin lets care
agents look them up and correct stock by hand.
"""

from django.contrib import admin

from rma.admin.scoping import StoreScopedAdminMixin

from .models import ExchangeReservation, Product, Variant


class VariantInline(admin.TabularInline):
    model = Variant
    fields = ("item_id", "options", "price", "stock", "image_url", "position")
    extra = 0
    show_change_link = True


@admin.register(Product)
class ProductAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ("product_id", "title", "store")
    list_filter = ("store",)
    list_select_related = ("store",)
    search_fields = ("product_id", "title", "variants__item_id")
    readonly_fields = ("created_at", "updated_at")
    inlines = [VariantInline]

    def save_formset(self, request, form, formset, change):
        # A variant's store is its product's (item ids are unique per store).
        for instance in formset.save(commit=False):
            instance.store_id = form.instance.store_id
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()


@admin.register(ExchangeReservation)
class ExchangeReservationAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "rma_line",
        "variant",
        "quantity",
        "price_difference",
        "released_at",
        "released_reason",
        "replacement_released_at",
    )
    list_filter = ("released_reason",)
    list_select_related = ("variant", "rma_line__rma")
    search_fields = ("variant__item_id", "rma_line__rma__rma_number")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
