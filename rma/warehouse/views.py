"""Warehouse screens: receiving by barcode scanner, and resolving.

Thin adapters over `rma_receive` and `rma_resolve`. Staff only: anonymous visitors go
to the admin login, signed-in users without the permission get 403.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from labels.tracking.selectors import rmas_expected_today
from rma.admin.scoping import may_see_store
from rma.errors import RequestError, TransitionError
from rma.models import Rma, RmaStatus
from rma.numbers import normalise_rma_number
from rma.selectors import rma_by_number
from rma.services.actors import Actor
from rma.services.rma_receive import rma_receive
from rma.services.rma_resolve import rma_resolve

from .forms import ReceiveForm, ResolveForm, ScanForm


def staff_permission_required(*permissions: str):
    """Admin login for anonymous visitors; 403 for anyone not staff with one of `permissions`."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            allowed = any(user.has_perm(permission) for permission in permissions)
            if not (user.is_active and user.is_staff and allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def may_resolve(user) -> bool:
    """Customer care resolves; the warehouse too when `WAREHOUSE_CAN_RESOLVE` says so."""
    if user.has_perm("rma.resolve_rma"):
        return True
    return settings.WAREHOUSE_CAN_RESOLVE and user.has_perm("rma.receive_rma")


def _scan_page(
    request: HttpRequest, form: ScanForm, status: int = 200, refusal: str = ""
) -> HttpResponse:
    # Only the user's stores' parcels (docs/decisions.md, "Staff per store").
    expected = [
        entry
        for entry in rmas_expected_today()
        if may_see_store(request.user, entry["rma"].store_id)
    ]
    context = {"form": form, "refusal": refusal, "expected_today": expected}
    return render(request, "warehouse/scan.html", context, status=status)


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """A loud error: on the receiving screens the scan box again, else a page of its own."""
    if request.resolver_match.url_name == "resolve":
        return render(request, "warehouse/refused.html", {"message": message}, status=status)
    return _scan_page(request, ScanForm(user=request.user), status, refusal=message)


def _rma_or_refusal(request: HttpRequest, rma_number: str) -> Rma | HttpResponse:
    if normalise_rma_number(rma_number) is None:
        return _refused(request, _("“%s” is not a valid RMA number.") % rma_number, 422)
    rma = rma_by_number(rma_number)
    # Another store's return is answered exactly like a number of no return.
    if rma is None or not may_see_store(request.user, rma.store_id):
        return _refused(request, _("No return has the number %s.") % rma_number, 404)
    return rma


def _wrong_status(request: HttpRequest, rma: Rma, expected: str) -> HttpResponse:
    message = _("Return %(number)s is %(status)s; only %(expected)s returns can be handled here.")
    params = {
        "number": rma.rma_number,
        "status": rma.get_status_display(),
        "expected": RmaStatus(expected).label,
    }
    return _refused(request, message % params, 409)


def _posted(request: HttpRequest):
    return request.POST if request.method == "POST" else None


@require_http_methods(["GET", "POST"])
@staff_permission_required("rma.receive_rma")
def receive_scan(request: HttpRequest) -> HttpResponse:
    """Page 1: scan (or type) the number on the parcel; Enter opens its expected lines."""
    if request.method == "POST":
        form = ScanForm(request.POST, user=request.user)
        if form.is_valid():
            return redirect("warehouse:receive", rma_number=form.rma.rma_number)
        return _scan_page(request, form, form.status_code)
    return _scan_page(request, ScanForm(user=request.user))


def _lines_screen(request, rma: Rma, *, form_class, expected: str, template: str, submit):
    """A per-line form for an RMA in status `expected`; `submit(form)` calls the service.

    Invalid input (the form's or the service's `RequestError`) re-renders with 422; a
    status changed meanwhile (`TransitionError`) is refused like a wrong scan.
    """
    if rma.status != expected:
        return _wrong_status(request, rma, expected)
    form = form_class(_posted(request), rma=rma, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                return submit(form)
            except TransitionError:
                rma.refresh_from_db()
                return _wrong_status(request, rma, expected)
            except RequestError as error:
                form.add_service_error(error)
        status = 422
    return render(request, template, {"rma": rma, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@staff_permission_required("rma.receive_rma")
def receive(request: HttpRequest, rma_number: str) -> HttpResponse:
    """Page 2: what arrived, line by line; Enter records the receipt and returns to page 1."""
    rma = _rma_or_refusal(request, rma_number)
    if isinstance(rma, HttpResponse):
        return rma

    def submit(form: ReceiveForm) -> HttpResponse:
        lines = form.received_lines()
        rma_receive(rma=rma, actor=Actor.agent(request.user), lines=lines)
        received = _("Return %(number)s received (%(count)s items). Scan the next parcel.") % {
            "number": rma.rma_number,
            "count": sum(line.received_quantity for line in lines),
        }
        if may_resolve(request.user):
            message = format_html(
                '{} <a href="{}">{}</a>',
                received,
                reverse("warehouse:resolve", kwargs={"rma_number": rma.rma_number}),
                _("Resolve it now"),
            )
        else:
            message = "{} {}".format(received, _("Customer care resolves it."))
        messages.success(request, message)
        return redirect("warehouse:receive_scan")

    return _lines_screen(
        request,
        rma,
        form_class=ReceiveForm,
        expected=RmaStatus.AUTHORIZED,
        template="warehouse/receive.html",
        submit=submit,
    )


@require_http_methods(["GET", "POST"])
@staff_permission_required("rma.resolve_rma", "rma.receive_rma")
def resolve(request: HttpRequest, rma_number: str) -> HttpResponse:
    """Decide the outcome of each received line, with the refund it would give.

    Warehouse staff who may not resolve (`may_resolve`) are told who does, with 403.
    """
    if not may_resolve(request.user):
        return render(request, "warehouse/resolve_elsewhere.html", status=403)
    rma = _rma_or_refusal(request, rma_number)
    if isinstance(rma, HttpResponse):
        return rma
    if rma.status == RmaStatus.RESOLVED:
        return render(request, "warehouse/resolved.html", {"rma": rma})

    def submit(form: ResolveForm) -> HttpResponse:
        rma_resolve(rma=rma, actor=Actor.agent(request.user), lines=form.decisions())
        messages.success(request, _("Return %(number)s is resolved.") % {"number": rma.rma_number})
        return redirect("warehouse:resolve", rma_number=rma.rma_number)

    return _lines_screen(
        request,
        rma,
        form_class=ResolveForm,
        expected=RmaStatus.RECEIVED,
        template="warehouse/resolve.html",
        submit=submit,
    )
