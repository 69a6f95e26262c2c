"""The order page (choose what to return) and the confirmation after a request."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from catalogue.selectors import order_page_variants
from rma.eligibility import evaluate_order
from rma.errors import RequestError, RmaError
from rma.links import status_path
from rma.models import Channel, Rma
from rma.policy import StorePolicy
from rma.prepared import Prepared
from rma.selectors import rmas_with_lines
from rma.services.actors import Actor
from rma.services.rma_request import rma_request

from ..branding import brand_context, use_store_language, with_store_policy
from ..estimate import ESTIMATE_ACTION, order_estimate
from ..exchange_picker import exchange_choices, exchange_image_urls, with_exchange_pickers
from ..forms import ReturnForm
from ..grants import granted_order_ids, granted_order_or_404
from ..order_lines import line_controls, lines_markup, order_lines
from ..presenters import request_estimate, rma_summary
from ..progress import status_heading
from ..wording import long_date

# The order's returns so far, oldest first: compiled once per process (rma/prepared.py).
_EARLIER_RETURNS = Prepared(
    lambda order_id: Rma.objects.filter(order_id=order_id).order_by("created_at"), order_id=int
)


@never_cache
@require_http_methods(["GET", "POST"])
def order_detail(request, store_code: str, order_id: str):
    order = granted_order_or_404(request, store_code=store_code, order_id=order_id)
    use_store_language(request, order.store)
    policy = StorePolicy.of(order.store)
    verdicts = evaluate_order(order, now=timezone.now(), channel=Channel.PORTAL)
    variants = order_page_variants(order=order, policy=policy)
    exchanges = exchange_choices(order=order, verdicts=verdicts, policy=policy, variants=variants)
    if request.method != "POST":
        form = ReturnForm(verdicts=verdicts, policy=policy, exchanges=exchanges)
        return _order_page(request, order, verdicts, form, variants)
    form = ReturnForm(
        request.POST, request.FILES, verdicts=verdicts, policy=policy, exchanges=exchanges
    )
    if request.POST.get("action") == ESTIMATE_ACTION:
        # "Update estimate" (without JavaScript): the page again, with what was chosen.
        return _order_page(request, order, verdicts, form, variants, estimate_only=True)
    if not form.is_valid():
        return _order_page(request, order, verdicts, form, variants)
    try:
        rmas = rma_request(
            order=order,
            lines=form.requested_lines(),
            resolution=form.cleaned_data["resolution"],
            comment=form.cleaned_data["comment"],
            actor=Actor.shopper(order.customer_email),
            channel=Channel.PORTAL,
            event_data=form.label_event_data(),
        )
    except (RmaError, RequestError) as refusal:
        # Show the order as it is now: the refusal may come from a change since it was shown.
        order = granted_order_or_404(request, store_code=store_code, order_id=order_id)
        verdicts = evaluate_order(order, now=timezone.now(), channel=Channel.PORTAL)
        variants = order_page_variants(order=order, policy=policy)
        exchanges = exchange_choices(
            order=order, verdicts=verdicts, policy=policy, variants=variants
        )
        form = ReturnForm(
            request.POST, request.FILES, verdicts=verdicts, policy=policy, exchanges=exchanges
        )
        form.is_valid()
        form.add_refusal(refusal, order=order)
        return _order_page(request, order, verdicts, form, variants)
    return redirect("portal:confirmation", group=rmas[0].request_group)


def _order_page(request, order, verdicts, form, variants, *, estimate_only=False):
    if estimate_only:
        form.is_valid()
        form.errors.clear()  # only asked for the estimate: nothing is refused yet
    lines = with_exchange_pickers(
        order_lines(verdicts, form, order=order, variants=variants),
        form=form,
        verdicts=verdicts,
        currency=order.store.currency,
    )
    context = {
        "store": order.store,
        "order": order,
        "placed_on": long_date(timezone.localtime(order.placed_at, ZoneInfo(order.store.timezone))),
        "lines_markup": lines_markup(lines, line_controls(form)),
        "has_eligible_lines": any(verdict.eligible for verdict in verdicts),
        "form": form,
        "error_summary": form.error_summary() if form.is_bound else [],
        "estimate": order_estimate(
            order=order, verdicts=verdicts, data=request.POST if form.is_bound else None
        ),
        "earlier_returns": [
            {"rma": rma, "status_path": status_path(rma)}
            for rma in _EARLIER_RETURNS.run(order_id=order.pk)
        ],
        **brand_context(order.store),
    }
    response = render(request, "portal/order.html", context)
    return with_store_policy(
        response,
        store=order.store,
        image_urls=[entry["image_url"] for entry in lines] + exchange_image_urls(form.exchanges),
    )


@never_cache
@require_POST
def estimate(request, store_code: str, order_id: str):
    """The estimate fragment for what the posted form chooses (the page's script asks)."""
    order = granted_order_or_404(request, store_code=store_code, order_id=order_id)
    use_store_language(request, order.store)
    verdicts = evaluate_order(order, now=timezone.now(), channel=Channel.PORTAL)
    context = {"estimate": order_estimate(order=order, verdicts=verdicts, data=request.POST)}
    return render(request, "portal/includes/estimate.html", context)


@never_cache
def confirmation(request, group):
    rmas = list(
        rmas_with_lines()
        .filter(request_group=group, order_id__in=granted_order_ids(request))
        .order_by("id")
    )
    if not rmas:
        raise Http404
    store = rmas[0].store
    use_store_language(request, store)
    context = {
        "store": store,
        "order": rmas[0].order,
        "summaries": (summaries := [rma_summary(rma) for rma in rmas]),
        "heading": confirmation_heading(summaries),
        "request_estimate": request_estimate(rmas),
        **brand_context(store),
    }
    return with_store_policy(render(request, "portal/confirmation.html", context), store=store)


def confirmation_heading(summaries: list[dict]) -> str:
    """The heading says what the returns are now (requested, approved, complete...)."""
    states = {(summary["rma"].status, summary["kept"]) for summary in summaries}
    if len(states) == 1:
        status, kept = states.pop()
        return status_heading(status, kept=kept)
    return _("Thank you, your returns are recorded")
