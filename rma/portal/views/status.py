"""The status page behind the signed link in the emails, and the shopper's cancel."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from rma.errors import TransitionError
from rma.links import rma_number_from_status_token
from rma.models import Rma
from rma.selectors import rma_by_number
from rma.services.actors import Actor
from rma.services.rma_status import rma_cancel
from rma.transitions import SHOPPER_CANCELLABLE

from ..branding import brand_context, use_store_language, with_store_policy
from ..presenters import rma_summary, timeline


def _rma_or_404(request, token: str) -> Rma:
    """The RMA a status token was signed for; a tampered, foreign or expired one is a 404."""
    number = rma_number_from_status_token(token)
    rma = rma_by_number(number) if number else None
    if rma is None:
        raise Http404
    use_store_language(request, rma.store)
    return rma


def _render(request, template: str, rma: Rma, token: str, **extra):
    context = {
        "store": rma.store,
        "order": rma.order,
        "summary": rma_summary(rma),
        "token": token,
        **brand_context(rma.store),
        **extra,
    }
    return with_store_policy(render(request, template, context), store=rma.store)


@never_cache
def status(request, token: str):
    rma = _rma_or_404(request, token)
    return _render(request, "portal/status.html", rma, token, timeline=timeline(rma))


@never_cache
@require_http_methods(["GET", "POST"])
def status_cancel(request, token: str):
    """Confirm (GET), then cancel (POST) while the return is requested or authorized."""
    rma = _rma_or_404(request, token)
    if rma.status not in SHOPPER_CANCELLABLE:
        messages.error(request, _("This return can no longer be cancelled."))
        return redirect("portal:status", token=token)
    if request.method == "GET":
        return _render(request, "portal/cancel.html", rma, token)
    try:
        rma_cancel(rma=rma, actor=Actor.shopper(rma.order.customer_email))
    except TransitionError:
        messages.error(request, _("This return can no longer be cancelled."))
    else:
        messages.success(request, _("Your return %(number)s is cancelled.") % {"number": rma})
    return redirect("portal:status", token=token)
