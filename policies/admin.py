"""The Store admin and the merchant console's screens (docs/console.md).

- the store page shows the effective policy, with links to the editor, the versions and
  the simulator;
- the **policy editor** (forms, not JSON): settings, fees, exchange, labels, brand,
  reasons and rules; *Preview* evaluates the draft against one order (each line's
  eligibility under the live policy and the draft, and the rules that fired), *Simulate*
  replays it over the store's history, *Publish* checks it with the import's rules and
  records a version;
- **versions**: who changed what and when, each with its diff and a rollback.

Every screen keeps to the user's stores (`StoreScopedAdminMixin`, `get_object_in_scope_or_404`).
"""

from __future__ import annotations

import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rma.admin.common import ReadOnlyMixin, address_display
from rma.admin.scoping import StoreScopedAdminMixin, get_object_in_scope_or_404
from rma.eligibility import evaluate_order
from rma.models import Store
from rma.policy import DEFAULT_REASONS, POLICY_DEFAULTS, StorePolicy
from rma.selectors import order_for_eligibility

from .forms import (
    PolicyForm,
    PreviewForm,
    ReasonForm,
    ReasonFormSet,
    RuleForm,
    RuleFormSet,
    SimulateForm,
)
from .models import PolicyVersion
from .services import PolicyInvalid, policy_check, policy_publish, policy_rollback
from .simulator import simulate

EDIT_PERMISSION = "policies.edit_store_policy"
SIMULATE_PERMISSION = "policies.simulate_store_policy"


@admin.register(Store)
class StoreAdmin(StoreScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Stores come from the import; their policy and brand are edited in the policy editor."""

    list_display = ("code", "name", "currency", "timezone", "support_email", "console_links")
    search_fields = ("code", "name")
    fields = (
        "code",
        "name",
        "currency",
        "timezone",
        "support_email",
        "return_address_display",
        "console_links",
        "effective_policy",
        "brand_colour",
        "logo_url",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("return_address_display", "console_links", "effective_policy")

    @admin.display(description=gettext_lazy("return address"))
    def return_address_display(self, obj):
        return address_display(obj.return_address)

    @admin.display(description=gettext_lazy("policy"))
    def console_links(self, store):
        return format_html(
            '<a href="{}" data-testid="edit-policy">{}</a> · <a href="{}">{}</a>',
            reverse("admin:rma_store_policy", args=[store.pk]),
            _("Edit policy"),
            reverse("admin:rma_store_policy_versions", args=[store.pk]),
            _("Versions"),
        )

    @admin.display(description=gettext_lazy("return policy"))
    def effective_policy(self, store):
        policy = StorePolicy.of(store)
        document = store.policy or {}
        settings_rows = [
            {
                "key": key,
                "value": ", ".join(map(str, value)) if isinstance(value, list) else value,
                "is_set": document.get(key) is not None,
            }
            for key in sorted(POLICY_DEFAULTS)
            if key not in ("reasons", "rules")
            for value in [policy._get(key)]
        ]
        return render_to_string(
            "admin/rma/_policy.html",
            {
                "settings": settings_rows,
                "reasons": policy.reasons,
                "reasons_set": bool(document.get("reasons")),
            },
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/policy/",
                view(self.policy_editor_view),
                name="rma_store_policy",
            ),
            path(
                "<path:object_id>/policy/versions/",
                view(self.versions_view),
                name="rma_store_policy_versions",
            ),
            path(
                "<path:object_id>/policy/versions/<int:number>/rollback/",
                view(self.rollback_view),
                name="rma_store_policy_rollback",
            ),
            *super().get_urls(),
        ]

    # Views ---------------------------------------------------------------------------

    def _store(self, request, object_id) -> Store:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_in_scope_or_404(Store.objects.all(), request.user, "pk", pk=object_id)

    def _context(self, request, store, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": store,
            "title": title,
            "store": store,
            **extra,
        }

    def policy_editor_view(self, request, object_id):
        store = self._store(request, object_id)
        may_edit = request.user.has_perm(EDIT_PERMISSION)
        may_simulate = request.user.has_perm(SIMULATE_PERMISSION)
        action = request.POST.get("action", "") if request.method == "POST" else ""
        if action == "publish" and not may_edit:
            raise PermissionDenied
        if action == "simulate" and not may_simulate:
            raise PermissionDenied
        editor = PolicyEditor(store, request.POST if request.method == "POST" else None)
        preview = simulation = None
        if action and editor.is_valid():
            try:
                draft, brand = policy_check(policy=editor.document(), brand=editor.brand())
            except PolicyInvalid as invalid:
                editor.add_problems(invalid.messages)
            else:
                if action == "publish":
                    version = policy_publish(
                        store=store, policy=draft, brand=brand, author=request.user
                    )
                    if version is None:
                        self.message_user(request, _("Nothing changed."), messages.INFO)
                    else:
                        self.message_user(
                            request,
                            _("Published version %(number)s.") % {"number": version.number},
                            messages.SUCCESS,
                        )
                    return HttpResponseRedirect(request.path)
                if action == "preview":
                    preview = self._preview(store, draft, editor.preview)
                if action == "simulate":
                    label_cost = editor.simulate.cleaned_data.get("label_cost")
                    simulation = _simulation_view(
                        simulate(store=store, draft=draft, label_cost=label_cost or 0)
                    )
        context = self._context(
            request,
            store,
            _("Policy of %(store)s") % {"store": store.code},
            editor=editor,
            preview=preview,
            simulation=simulation,
            may_edit=may_edit,
            may_simulate=may_simulate,
            latest=PolicyVersion.objects.filter(store=store).order_by("-number").first(),
        )
        return TemplateResponse(request, "admin/policies/editor.html", context)

    def _preview(self, store, draft: dict, form: PreviewForm) -> dict:
        number = (form.cleaned_data.get("order_number") or "").strip()
        if not number:
            return {"error": _("Enter an order number to preview.")}
        order = order_for_eligibility(store=store, order_id=number)
        if order is None:
            return {"error": _("No order %(number)s in this store.") % {"number": number}}
        now = timezone.now()
        channel = form.cleaned_data.get("channel") or None
        reason = (form.cleaned_data.get("reason") or "").strip()
        facts = {
            "channel": channel,
            "reasons": {line.line_number: reason for line in order.lines.all()} if reason else None,
        }
        live = evaluate_order(order, now=now, **facts)
        drafted = evaluate_order(order, now=now, policy=StorePolicy(draft), **facts)
        return {
            "order": order,
            "lines": [
                {
                    "line": before.line,
                    "live": before,
                    "draft": after,
                    "decisions": after.decision.summary(),
                }
                for before, after in zip(live, drafted, strict=True)
            ],
        }

    def versions_view(self, request, object_id):
        store = self._store(request, object_id)
        versions = PolicyVersion.objects.filter(store=store).select_related("author")
        latest = versions.first()
        context = self._context(
            request,
            store,
            _("Policy versions of %(store)s") % {"store": store.code},
            versions=versions,
            latest=latest,
            may_edit=request.user.has_perm(EDIT_PERMISSION),
        )
        return TemplateResponse(request, "admin/policies/versions.html", context)

    def rollback_view(self, request, object_id, number):
        store = self._store(request, object_id)
        if request.method != "POST" or not request.user.has_perm(EDIT_PERMISSION):
            raise PermissionDenied
        target = reverse("admin:rma_store_policy_versions", args=[store.pk])
        try:
            version = policy_rollback(store=store, number=number, author=request.user)
        except PolicyVersion.DoesNotExist:
            self.message_user(request, _("No such version."), messages.ERROR)
            return HttpResponseRedirect(target)
        except PolicyInvalid as invalid:
            self.message_user(
                request,
                _("Version %(number)s cannot be published again: %(problems)s")
                % {"number": number, "problems": "; ".join(invalid.messages)},
                messages.ERROR,
            )
            return HttpResponseRedirect(target)
        if version is None:
            self.message_user(request, _("That is the policy already."), messages.INFO)
        else:
            self.message_user(
                request,
                _("Rolled back to version %(old)s (now version %(new)s).")
                % {"old": number, "new": version.number},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(target)


SECTIONS = [
    (
        gettext_lazy("Returns"),
        (
            "return_window_days",
            "rma_expiry_days",
            "returnable_statuses",
            "resolutions",
            "excluded_departments",
            "excluded_items",
            "hazmat_returnable",
            "excluded_states",
            "allowed_countries",
            "min_invoice_amount",
            "max_invoice_amount",
        ),
    ),
    (
        gettext_lazy("Fees and money"),
        (
            "restocking_fee_percent",
            "return_fee_amount",
            "return_fee_waived_for_resolutions",
            "return_fee_waived_when_seller_fault",
            "store_credit_bonus_percent",
            "store_credit_expiry_days",
            "keep_item_below",
        ),
    ),
    (
        gettext_lazy("Exchanges and labels"),
        (
            "exchange_instant",
            "exchange_allow_other_products",
            "label_carriers",
            "label_services",
            "label_max_rate",
            "label_qr_code",
        ),
    ),
    (gettext_lazy("Brand"), ("brand_colour", "logo_url", "support_email")),
]


class PolicyEditor:
    """The editor's forms together: settings, reasons, rules, preview and simulation."""

    def __init__(self, store: Store, data=None):
        self.store = store
        document = store.policy or {}
        reasons = document.get("reasons") or _default_reason_documents()
        self.default_reasons = not document.get("reasons")
        self.settings = PolicyForm(data, initial=PolicyForm.initial_for(store))
        self.reasons = ReasonFormSet(
            data, prefix="reasons", initial=[ReasonForm.initial_of(r) for r in reasons]
        )
        self.rules = RuleFormSet(
            data,
            prefix="rules",
            initial=[RuleForm.initial_of(r) for r in document.get("rules") or ()],
        )
        self.preview = PreviewForm(data, prefix="preview")
        self.simulate = SimulateForm(data, prefix="simulate")
        self.problems: list[str] = []

    def sections(self):
        """The settings' fields by heading, for the template."""
        return [(title, [self.settings[name] for name in names]) for title, names in SECTIONS]

    def is_valid(self) -> bool:
        return all(
            form.is_valid()
            for form in (self.settings, self.reasons, self.rules, self.preview, self.simulate)
        )

    def document(self) -> dict:
        original = self.store.policy or {}
        document = self.settings.document(original)
        reasons = [
            form.document()
            for form in self.reasons.forms
            if not form.cleaned_data.get("DELETE") and form.cleaned_data.get("code")
        ]
        if not (self.default_reasons and reasons == _default_reason_documents()):
            document["reasons"] = reasons
        rules = [
            form.document()
            for form in self.rules.forms
            if not form.cleaned_data.get("DELETE") and form.cleaned_data.get("name")
        ]
        if rules or "rules" in original:
            document["rules"] = rules
        return document

    def brand(self) -> dict:
        return self.settings.brand()

    def add_problems(self, problems: list[str]) -> None:
        """Put each problem (`policy.return_fee.amount: ...`) on the field it names."""
        for problem in problems:
            where, _, message = problem.partition(": ")
            field = _field_for(where)
            if field and field in self.settings.fields:
                self.settings.add_error(field, message)
            self.problems.append(problem)


def _field_for(where: str) -> str | None:
    path = re.sub(r"^policy\.", "", where)
    if path in ("brand_colour", "logo_url", "support_email"):
        return path
    parts = re.split(r"[.\[]", path)
    if len(parts) >= 2 and f"{parts[0]}_{parts[1]}" in PolicyForm.base_fields:
        return f"{parts[0]}_{parts[1]}"
    return parts[0] or None


def _default_reason_documents() -> list[dict]:
    return [
        {
            "code": r.code,
            "description": r.description,
            "seller_fault": r.seller_fault,
            "requires_review": r.requires_review,
            "requires_photo": r.requires_photo,
        }
        for r in DEFAULT_REASONS
    ]


def _simulation_view(simulation) -> dict:
    """The simulation's table and the figures of its SVG bar chart: per figure, the live
    and the draft bar, each figure scaled to the larger of its two values (counts and
    money are not on one scale)."""
    rows = simulation.rows()
    charted = [row for row in rows if row["name"] != "lines"]
    width = 300
    bars = []
    for index, row in enumerate(charted):
        largest = float(max(row["live"], row["draft"])) or 1.0
        y = index * 34
        live_width = round(float(row["live"]) / largest * width, 1)
        draft_width = round(float(row["draft"]) / largest * width, 1)
        bars.append(
            {
                "name": row["name"],
                "live": row["live"],
                "draft": row["draft"],
                "y": y,
                "text_y": y + 12,
                "live_width": live_width,
                "draft_width": draft_width,
                "live_y": y + 11,
                "live_text_y": y + 8,
                "draft_text_y": y + 19,
                "live_label_x": 154 + live_width,
                "draft_label_x": 154 + draft_width,
            }
        )
    return {
        "rows": rows,
        "bars": bars,
        "height": len(charted) * 34 + 10,
        "rules": [
            {
                "name": name,
                "live": simulation.live.rules_fired.get(name, 0),
                "draft": simulation.draft.rules_fired.get(name, 0),
            }
            for name in sorted(set(simulation.live.rules_fired) | set(simulation.draft.rules_fired))
        ],
    }


@admin.register(PolicyVersion)
class PolicyVersionAdmin(StoreScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("store", "number", "source", "author", "created_at")
    list_select_related = ("store", "author")
    list_filter = ("source", "store")
    search_fields = ("store__code", "store__name")
    fields = ("store", "number", "source", "author", "created_at", "note", "diff", "policy")
    readonly_fields = fields
