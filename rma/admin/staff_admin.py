"""Which stores each staff user works on (docs/decisions.md, "Staff per store")."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model

from rma.models import StaffStoreAccess

from .scoping import StoreScopedAdminMixin


@admin.register(StaffStoreAccess)
class StaffStoreAccessAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """A row limits its user to the stores of their rows; an editor grants only their stores."""

    list_display = ("user", "store", "created_at")
    list_filter = ("store",)
    list_select_related = ("user", "store")
    search_fields = ("user__username", "user__email")
    fields = ("user", "store")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
