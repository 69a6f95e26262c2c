"""Finding the order: the lookup form, the store choice and the rate-limited page."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from rma.models import Order, Store

from ..branding import brand_context, only_store, use_store_language, with_store_policy
from ..forms import LookupForm
from ..grants import grant_orders, last_lookup_order_ids
from ..lookup import orders_for_lookup
from ..throttle import longest_wait_minutes, lookup_attempt

# One message for an unknown order and a wrong email or postcode: neither is revealed.
NOT_FOUND = _(
    "We could not find an order with this order number and email address or postcode. "
    "Please check both and try again."
)


def order_path(order: Order) -> str:
    return reverse(
        "portal:order", kwargs={"store_code": order.store.code, "order_id": order.order_id}
    )


@require_http_methods(["GET", "POST"])
def lookup(request, store_code: str | None = None):
    """The order search. `/s/<store_code>/` is a store's own (its brand and language, its
    orders only); `/` is branded as the store when the deployment has only one."""
    store = get_object_or_404(Store, code=store_code) if store_code is not None else only_store()
    use_store_language(request, store)
    form = LookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["order_number"]
        # Counted before the lookup (atomically), so a burst cannot pass the limit.
        attempt = lookup_attempt(request, order_number=number)
        if not attempt:
            return rate_limited(request, store=store)
        orders = orders_for_lookup(order_number=number, contact=form.cleaned_data["contact"])
        if store_code is not None:
            # A store's own search finds its orders only (the same work was done).
            orders = [order for order in orders if order.store_id == store.pk]
        if orders:
            attempt.succeeded()
            grant_orders(request, orders)
            if len(orders) == 1:
                return redirect(order_path(orders[0]))
            return redirect("portal:choose")
        form.add_error(None, NOT_FOUND)
    if store is None:
        return render(request, "portal/lookup.html", {"form": form})
    context = {"form": form, "store": store, **brand_context(store)}
    return with_store_policy(render(request, "portal/lookup.html", context), store=store)


@never_cache
def choose(request):
    """The same number and contact matched orders of several stores: the shopper picks one."""
    orders = Order.objects.select_related("store").filter(pk__in=last_lookup_order_ids(request))
    entries = sorted(
        ({"store": order.store, "path": order_path(order)} for order in orders),
        key=lambda entry: entry["store"].name.casefold(),
    )
    if not entries:
        return redirect("portal:lookup")
    return render(request, "portal/choose.html", {"entries": entries})


def rate_limited(request, exception=None, *, store=None):
    """Too many failed lookups (HTTP 429): a friendly page that says when to try again,
    in the store's brand when the search was a store's."""
    minutes = longest_wait_minutes()
    context = {"minutes": minutes}
    if store is not None:
        context |= {"store": store, **brand_context(store)}
    response = render(request, "portal/rate_limited.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return with_store_policy(response, store=store) if store is not None else response
