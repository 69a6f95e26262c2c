"""Admins of the supporting models: stores, suppliers, overrides, events, emails, webhooks, keys."""

from __future__ import annotations

import secrets

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from rma.apikeys import api_key_create, api_key_revoke
from rma.eligibility import RULES
from rma.followups import NOTIFICATION_FOR_STATUS
from rma.models import (
    ApiKey,
    EligibilityOverride,
    Notification,
    RmaEvent,
    Store,
    Supplier,
    WebhookDelivery,
    WebhookEndpoint,
)
from rma.webhooks import WEBHOOK_EVENTS, webhook_replay

from .actions import apply_each, limited
from .common import (
    LargeTableMixin,
    ReadOnlyMixin,
    actor_display,
    address_display,
    admin_link,
    local_time,
    matching_orders,
    pretty_json,
    search_by_rma_number,
)
from .filters import OverrideActiveFilter, choices_filter
from .scoping import StoreScopedAdminMixin, limit_formfield_choices
from .wording import NOTIFICATION_LABELS, event_label, notification_label, rule_label

NOTIFICATION_KINDS = sorted(
    {
        "request_received",
        "confirmation",
        "supplier_notice",
        "received_at_counter",
        "label_reissued",
        "line_returnable",
        "exchange_released",
        *NOTIFICATION_FOR_STATUS.values(),
    }
)


class RmaNumberSearchMixin:
    """Search rows of one RMA by its number (exact, canonical): the tables are large."""

    search_fields = ("rma__rma_number",)
    search_help_text = _("An RMA number (hyphens and letter case do not matter).")

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        found = search_by_rma_number(queryset, search_term, field="rma__rma_number")
        return (found if found is not None else queryset.none()), False


class ReturnAddressMixin:
    readonly_fields = ("return_address_display",)

    @admin.display(description=_("return address"))
    def return_address_display(self, obj):
        return address_display(obj.return_address)


# The Store admin (with the policy editor) is in the policies app: policies/admin.py.


@admin.register(Supplier)
class SupplierAdmin(StoreScopedAdminMixin, ReturnAddressMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("code", "name", "store", "email")
    list_select_related = ("store",)
    list_filter = ("store",)
    search_fields = ("code", "name")
    fields = ("store", "code", "name", "email", "return_address_display")


@admin.register(EligibilityOverride)
class EligibilityOverrideAdmin(
    StoreScopedAdminMixin, LargeTableMixin, ReadOnlyMixin, admin.ModelAdmin
):
    """The record of every override; made from the order page, never edited afterwards."""

    list_display = (
        "created_local",
        "order_link",
        "line",
        "rule",
        "agent",
        "justification",
        "expires_local",
    )
    list_select_related = ("order_line__order__store", "agent")
    list_filter = (
        choices_filter(
            "code", _("code"), [code for code, rule in RULES.items() if rule.overridable_by]
        ),
        OverrideActiveFilter,
    )
    search_fields = ("order_line__order__order_id",)
    search_help_text = _("An order number or a customer email, exactly.")
    fields = ("order_link", "line", "rule", "agent", "justification", "created_at", "expires_at")
    readonly_fields = ("order_link", "line", "rule")

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(order_line__order__in=matching_orders(search_term)), False

    @admin.display(description=_("order"))
    def order_link(self, override):
        order = override.order_line.order
        return admin_link(order, f"{order.store.code} {order.order_id}")

    @admin.display(description=_("line"))
    def line(self, override):
        line = override.order_line
        return f"{line.line_number}: {line.item_id}"

    @admin.display(description=_("rule overridden"), ordering="code")
    def rule(self, override):
        return rule_label(override.code)

    @admin.display(description=_("created"), ordering="created_at")
    def created_local(self, override):
        return local_time(override.created_at, override.order_line.order.store)

    @admin.display(description=_("expires"), ordering="expires_at")
    def expires_local(self, override):
        if override.expires_at is None:
            return _("never")
        return local_time(override.expires_at, override.order_line.order.store)


@admin.register(RmaEvent)
class RmaEventAdmin(
    StoreScopedAdminMixin, LargeTableMixin, RmaNumberSearchMixin, ReadOnlyMixin, admin.ModelAdmin
):
    list_display = ("created_local", "rma_link", "what", "who")
    list_select_related = ("rma__store", "actor_user")
    list_filter = ("actor_type", ("created_at", admin.DateFieldListFilter))
    fields = ("rma_link", "what", "type", "who", "created_at", "data_display")
    readonly_fields = ("rma_link", "what", "who", "data_display")

    @admin.display(description=_("what"), ordering="type")
    def what(self, event):
        return event_label(event.type)

    @admin.display(description=_("created"), ordering="created_at")
    def created_local(self, event):
        return local_time(event.created_at, event.rma.store)

    @admin.display(description=_("RMA"))
    def rma_link(self, event):
        return admin_link(event.rma)

    @admin.display(description=_("who"))
    def who(self, event):
        return actor_display(event)

    @admin.display(description=_("data"))
    def data_display(self, event):
        return pretty_json(event.data)


@admin.register(Notification)
class NotificationAdmin(
    StoreScopedAdminMixin, LargeTableMixin, RmaNumberSearchMixin, ReadOnlyMixin, admin.ModelAdmin
):
    list_display = (
        "created_local",
        "rma_link",
        "kind_label",
        "recipient",
        "status",
        "attempts",
        "sent_local",
    )
    # About an RMA, or about an order before any return (a line made returnable).
    store_path = ("rma__store", "order__store")
    list_select_related = ("rma__store", "order__store")
    list_filter = (
        "status",
        choices_filter("kind", _("kind"), NOTIFICATION_KINDS, labels=NOTIFICATION_LABELS),
    )
    fields = (
        "rma_link",
        "kind",
        "recipient",
        "subject",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "idempotency_key",
    )
    readonly_fields = ("rma_link",)

    @admin.display(description=_("RMA"))
    def rma_link(self, notification):
        if notification.rma_id is None and notification.order_id is not None:
            return admin_link(notification.order, notification.order.order_id)
        return admin_link(notification.rma)

    @staticmethod
    def _store(notification):
        return (notification.rma or notification.order).store

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, notification):
        return notification_label(notification.kind)

    @admin.display(description=_("created"), ordering="created_at")
    def created_local(self, notification):
        return local_time(notification.created_at, self._store(notification))

    @admin.display(description=_("sent"), ordering="sent_at")
    def sent_local(self, notification):
        return local_time(notification.sent_at, self._store(notification))


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=200, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(event, event) for event in sorted(WEBHOOK_EVENTS)],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every event."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("store", "url", "events", "active")

    def clean_url(self):
        url = self.cleaned_data["url"]
        allowed = ("https://", "http://") if settings.DEBUG else ("https://",)
        if not url.lower().startswith(allowed):
            raise forms.ValidationError(_("Webhook endpoints must use HTTPS."))
        return url


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """The signing secret is generated here and shown once, when made or rotated."""

    form = WebhookEndpointForm
    list_display = ("url", "store", "events_display", "active", "created_at")
    list_select_related = ("store",)
    list_filter = ("active", "store")
    readonly_fields = ("secret_hint", "created_at")
    actions = ["rotate_secret"]

    def get_fields(self, request, obj=None):
        fields = ["store", "url", "events", "active"]
        return [*fields, "secret_hint", "created_at"] if obj else fields

    def has_delete_permission(self, request, obj=None):
        # Deleting would drop the delivery history: deactivate instead.
        return False

    @admin.display(description=_("events"))
    def events_display(self, endpoint):
        return ", ".join(endpoint.events) if endpoint.events else _("every event")

    @admin.display(description=_("signing secret"))
    def secret_hint(self, endpoint):
        return f"{endpoint.secret[:10]}… " + str(_("(shown only when created or rotated)"))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.secret = new_webhook_secret()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        return self._secrets_page(request, [obj])

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        endpoints = limited(self, request, queryset.select_related("store"))
        if endpoints is None:
            return None
        for endpoint in endpoints:
            endpoint.secret = new_webhook_secret()
            endpoint.save(update_fields=["secret"])
            self.log_change(request, endpoint, "Rotated the signing secret")
        return self._secrets_page(request, endpoints)

    def _secrets_page(self, request, endpoints):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Signing secret"),
            "endpoints": endpoints,
        }
        return TemplateResponse(request, "admin/rma/webhookendpoint/secret.html", context)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(
    StoreScopedAdminMixin, LargeTableMixin, RmaNumberSearchMixin, ReadOnlyMixin, admin.ModelAdmin
):
    list_display = (
        "created_at",
        "event",
        "rma_link",
        "endpoint",
        "status",
        "attempts",
        "last_response_status",
        "delivered_at",
    )
    list_select_related = ("rma", "endpoint__store")
    list_filter = (
        "status",
        choices_filter("event", _("event"), sorted(WEBHOOK_EVENTS)),
        # All stores (a small table); RelatedOnlyFieldListFilter would scan the deliveries.
        "endpoint__store",
    )
    fields = (
        "rma_link",
        "endpoint",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "last_response_status",
        "last_error",
        "created_at",
        "delivered_at",
        "payload_display",
    )
    readonly_fields = ("rma_link", "payload_display")
    actions = ["replay"]

    def has_replay_permission(self, request):
        return request.user.has_perm("rma.replay_webhookdelivery")

    @admin.action(description=_("Replay"), permissions=["replay"])
    def replay(self, request, queryset):
        deliveries = limited(self, request, queryset)
        if deliveries is None:
            return
        apply_each(
            self,
            request,
            deliveries,
            lambda delivery: webhook_replay(delivery=delivery),
            log_message="Replayed",
            done=("%(count)d delivery queued again.", "%(count)d deliveries queued again."),
        )

    @admin.display(description=_("RMA"))
    def rma_link(self, delivery):
        return admin_link(delivery.rma)

    @admin.display(description=_("payload"))
    def payload_display(self, delivery):
        return pretty_json(delivery.payload)


class ApiKeyCreateForm(forms.Form):
    store = forms.ModelChoiceField(queryset=Store.objects.all(), label=_("Store"))
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Who uses this key."))


@admin.register(ApiKey)
class ApiKeyAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Keys are shown once, when created (as `manage.py create_api_key` does), then only revoked."""

    list_display = ("name", "store", "prefix", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("store",)
    list_filter = ("store", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    fields = ("store", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return request.user.has_perm("rma.change_apikey")

    @admin.action(description=_("Revoke"), permissions=["revoke"])
    def revoke(self, request, queryset):
        keys = limited(self, request, queryset)
        if keys is None:
            return
        apply_each(
            self,
            request,
            keys,
            lambda api_key: api_key_revoke(api_key=api_key),
            log_message="Revoked",
            done=("%(count)d key revoked.", "%(count)d keys revoked."),
        )

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiKeyCreateForm(request.POST if request.method == "POST" else None)
        limit_formfield_choices(form.fields["store"], request.user)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form}
        if request.method == "POST" and form.is_valid():
            api_key, raw_key = api_key_create(
                store=form.cleaned_data["store"], name=form.cleaned_data["name"]
            )
            self.log_addition(request, api_key, "Created")
            context.update(title=_("API key created"), api_key=api_key, raw_key=raw_key)
            return TemplateResponse(request, "admin/rma/apikey/created.html", context)
        context["title"] = _("Add API key")
        return TemplateResponse(request, "admin/rma/apikey/create.html", context)
