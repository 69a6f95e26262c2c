"""Customer-care pages of the order admin: override a rule, create a return for a customer.

Both are thin adapters: they read the order with `orders_for_eligibility`, show
`evaluate_order`'s verdicts, and hand the agent's choice to a service.
"""

from __future__ import annotations

from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalogue.selectors import exchange_options_of_eligible_lines
from rma.eligibility import can_override, evaluate_order
from rma.errors import RequestError, RmaError
from rma.followups import line_returnable_notify
from rma.models import Channel
from rma.policy import StorePolicy
from rma.selectors import orders_for_eligibility
from rma.services.actors import Actor
from rma.services.overrides import OverrideNotAllowed, eligibility_override
from rma.services.rma_request import rma_request

from .common import admin_url
from .forms import CreateReturnForm, OverrideForm
from .scoping import get_object_in_scope_or_404


def _page(model_admin, request, template: str, *, title: str, order, **context):
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": title,
            "original": order,
            "order": order,
            **context,
        },
    )


def _order_or_404(request, object_id):
    """The order, if it is one of the user's stores' (another store's answers 404)."""
    return get_object_in_scope_or_404(orders_for_eligibility(), request.user, pk=object_id)


def override_view(model_admin, request, object_id, line_id):
    """Lift one failing rule from one line, with a justification (docs/eligibility.md)."""
    if not request.user.has_perm("rma.add_eligibilityoverride"):
        raise PermissionDenied
    order = _order_or_404(request, object_id)
    now = timezone.now()
    verdict = next((v for v in evaluate_order(order, now=now) if v.line.pk == line_id), None)
    if verdict is None:
        return redirect(admin_url(order))
    # Failing rules, and overridden ones (to extend or renew them), that this agent may lift.
    codes = [
        rule.code
        for rule in sorted(verdict.failures + verdict.overridden, key=lambda rule: rule.code)
        if can_override(request.user, rule.code)
    ]
    if not codes:
        model_admin.message_user(
            request,
            _("You may not override any rule that fails on line %(line)s.")
            % {"line": verdict.line_number},
            messages.ERROR,
        )
        return redirect(admin_url(order))

    with timezone.override(ZoneInfo(order.store.timezone)):
        form = OverrideForm(
            request.POST if request.method == "POST" else None,
            codes=codes,
            initial={"code": request.GET.get("code")},
        )
        if request.method == "POST" and form.is_valid():
            try:
                override = _override_and_tell_the_shopper(
                    verdict,
                    code=form.cleaned_data["code"],
                    agent=request.user,
                    justification=form.cleaned_data["justification"],
                    expires_at=form.cleaned_data["expires_at"],
                )
            except OverrideNotAllowed as error:
                form.add_error("code", error.message)
            except RequestError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                model_admin.log_addition(
                    request, override, f"Overrode {override.code}: {override.justification}"
                )
                model_admin.message_user(
                    request,
                    _("%(code)s overridden on line %(line)s.")
                    % {"code": override.code, "line": verdict.line_number},
                    messages.SUCCESS,
                )
                return redirect(admin_url(order))
        return _page(
            model_admin,
            request,
            "admin/rma/order/override.html",
            title=_("Override eligibility"),
            order=order,
            verdict=verdict,
            form=form,
            store_timezone=order.store.timezone,
        )


@transaction.atomic
def _override_and_tell_the_shopper(verdict, *, code, agent, justification, expires_at):
    """Record the override; if it made a returnable line of one that was not, the shopper
    hears of it (one email per override, through the outbox, after commit)."""
    override = eligibility_override(
        order_line=verdict.line,
        code=code,
        agent=agent,
        justification=justification,
        expires_at=expires_at,
    )
    if not verdict.eligible:
        order = orders_for_eligibility().get(pk=verdict.line.order_id)
        now = evaluate_order(order, now=timezone.now())
        if any(after.line.pk == verdict.line.pk and after.eligible for after in now):
            line_returnable_notify(override=override)
    return override


def create_return_view(model_admin, request, object_id):
    """An agent requests a return on the customer's behalf (channel AGENT)."""
    if not request.user.has_perm("rma.create_rma_for_customer"):
        raise PermissionDenied
    order = _order_or_404(request, object_id)
    verdicts = evaluate_order(order, now=timezone.now())
    policy = StorePolicy.of(order.store)
    form = CreateReturnForm(
        request.POST if request.method == "POST" else None,
        verdicts=verdicts,
        policy=policy,
        exchanges=exchange_options_of_eligible_lines(order=order, verdicts=verdicts, policy=policy),
        currency=order.store.currency,
    )
    if request.method == "POST" and form.is_valid():
        try:
            rmas = rma_request(
                order=order,
                lines=form.requested_lines(),
                resolution=form.cleaned_data["resolution"],
                actor=Actor.agent(request.user),
                channel=Channel.AGENT,
                comment=form.cleaned_data["comment"],
            )
        except RmaError as error:
            for failure in error.items or []:
                form.add_service_error(
                    CreateReturnForm.failure_field(failure),
                    f"{failure.code} {failure.description}",
                )
            if error.detail:  # e.g. which exchange rule failed
                form.add_error(None, error.detail)
            if not error.items:
                form.add_error(None, f"{error.code} {error.description}")
        except RequestError as error:
            form.add_service_error(error.field, error.message)
        else:
            return _created(model_admin, request, order, rmas)
    rows = [
        {
            "verdict": verdict,
            "fields": form.line_fields(verdict.line_number) if verdict.eligible else None,
        }
        for verdict in verdicts
    ]
    return _page(
        model_admin,
        request,
        "admin/rma/order/create_return.html",
        title=_("Create return for customer"),
        order=order,
        form=form,
        rows=rows,
    )


def _created(model_admin, request, order, rmas):
    for rma in rmas:
        model_admin.log_addition(request, rma, "Created for the customer")
    numbers = ", ".join(rma.rma_number for rma in rmas)
    model_admin.message_user(
        request,
        ngettext("Created return %(numbers)s.", "Created returns %(numbers)s.", len(rmas))
        % {"numbers": numbers},
        messages.SUCCESS,
    )
    if len(rmas) == 1:
        return redirect(admin_url(rmas[0]))
    return redirect(f"{reverse('admin:rma_rma_changelist')}?{urlencode({'q': order.order_id})}")
