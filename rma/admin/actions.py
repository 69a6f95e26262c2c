"""What an agent can do to RMAs, once: the changelist actions and the detail-page buttons.

Each operation is a thin adapter over a service. `perform` checks the permission, runs
the service for each RMA on its own (one refusal does not undo the others), and reports
every refusal with `message_user` at ERROR level instead of failing the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from labels.services import label_reissue
from rma.errors import RequestError, RmaError, TransitionError
from rma.followups import confirmation_resend, label_reissued_notify
from rma.models import LabelStatus, Rma, RmaStatus
from rma.services.actors import Actor
from rma.services.rma_status import rma_approve, rma_cancel, rma_reject

OPERATION_ERRORS = (RmaError, TransitionError, RequestError, PermissionDenied)
# A bulk action touches at most this many RMAs: "select all 200,000" is a mistake.
ACTION_LIMIT = 100


def limited(model_admin, request, queryset) -> list | None:
    """The selected rows, or None (and an error message) when more than ACTION_LIMIT."""
    rows = list(queryset[: ACTION_LIMIT + 1])
    if len(rows) > ACTION_LIMIT:
        model_admin.message_user(
            request,
            _("Choose at most %(limit)d at a time.") % {"limit": ACTION_LIMIT},
            messages.ERROR,
        )
        return None
    return rows


def error_message(error: Exception) -> str:
    if isinstance(error, RmaError):
        return f"{error.code} {error.description}" + (f" ({error.detail})" if error.detail else "")
    if isinstance(error, RequestError):
        return error.message
    return str(error)


def _approve(*, rma: Rma, user, reason: str) -> None:
    rma_approve(rma=rma, actor=Actor.agent(user))


def _reject(*, rma: Rma, user, reason: str) -> None:
    rma_reject(rma=rma, actor=Actor.agent(user), reason=reason)


def _cancel(*, rma: Rma, user, reason: str) -> None:
    rma_cancel(rma=rma, actor=Actor.agent(user), reason=reason)


@transaction.atomic
def _resend_confirmation(*, rma: Rma, user, reason: str) -> None:
    # The confirmation carries the label and instructions: useful only until the parcel arrives.
    if rma.status != RmaStatus.AUTHORIZED:
        raise RequestError(
            f"Only an authorized return has a confirmation to resend (this one is "
            f"{rma.get_status_display().lower()})."
        )
    confirmation_resend(rma=rma, actor=Actor.agent(user))


@transaction.atomic
def _reissue_label(*, rma: Rma, user, reason: str) -> None:
    # Voids the current label, records the event and enqueues the label task after commit;
    # the shopper gets the new label by email once it is issued (one email per label).
    label = label_reissue(rma=rma, actor_user=user)
    label_reissued_notify(rma=rma, label_id=label.pk)


@dataclass(frozen=True)
class RmaOperation:
    name: str
    label: str
    # Codename in app "rma" the user needs.
    permission: str
    run: Callable[..., None]
    # Singular/plural success message with a %(count)d placeholder.
    done: tuple[str, str]
    # Statuses in which the detail page offers the button (the service has the last word).
    statuses: frozenset[str]
    # "none", "optional" or "required": whether the agent writes a reason first.
    reason: str = "none"

    @property
    def confirm_first(self) -> bool:
        return self.reason != "none"

    def offered_for(self, rma: Rma, user) -> bool:
        if self.name == "reissue" and rma.label_status == LabelStatus.NOT_REQUIRED:
            return False
        return rma.status in self.statuses and user.has_perm(f"rma.{self.permission}")


OPERATIONS = {
    operation.name: operation
    for operation in (
        RmaOperation(
            "approve",
            _("Approve"),
            "approve_rma",
            _approve,
            ("Approved %(count)d return.", "Approved %(count)d returns."),
            frozenset({RmaStatus.REQUESTED}),
        ),
        RmaOperation(
            "reject",
            _("Reject"),
            "approve_rma",
            _reject,
            ("Rejected %(count)d return.", "Rejected %(count)d returns."),
            frozenset({RmaStatus.REQUESTED}),
            reason="required",
        ),
        RmaOperation(
            "cancel",
            _("Cancel return"),
            "cancel_rma",
            _cancel,
            ("Cancelled %(count)d return.", "Cancelled %(count)d returns."),
            frozenset({RmaStatus.REQUESTED, RmaStatus.AUTHORIZED}),
            reason="optional",
        ),
        RmaOperation(
            "resend",
            _("Resend confirmation"),
            "resend_notification",
            _resend_confirmation,
            (
                "Confirmation queued again for %(count)d return.",
                "Confirmation queued again for %(count)d returns.",
            ),
            frozenset({RmaStatus.AUTHORIZED}),
        ),
        RmaOperation(
            "reissue",
            _("Re-issue label"),
            "reissue_label",
            _reissue_label,
            (
                "New label requested for %(count)d return.",
                "New labels requested for %(count)d returns.",
            ),
            frozenset({RmaStatus.AUTHORIZED}),
        ),
    )
}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        required=False,
        help_text=_("The shopper sees this reason in the email and on the status page."),
    )

    def __init__(self, *args, operation: RmaOperation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = operation.reason == "required"


def apply_each(model_admin, request, rows, run, *, log_message: str, done) -> int:
    """Run `run(row)` for each row on its own; report refusals and the count that succeeded.

    One refusal does not undo the others. `done` is a (singular, plural) message with a
    %(count)d placeholder.
    """
    succeeded = 0
    for row in rows:
        try:
            run(row)
        except OPERATION_ERRORS as error:
            model_admin.message_user(request, f"{row}: {error_message(error)}", messages.ERROR)
        else:
            succeeded += 1
            model_admin.log_change(request, row, log_message)
    if succeeded:
        singular, plural = done
        model_admin.message_user(
            request, ngettext(singular, plural, succeeded) % {"count": succeeded}, messages.SUCCESS
        )
    return succeeded


def perform(model_admin, request, rmas, operation: RmaOperation, *, reason: str = "") -> int:
    """Run `operation` on each RMA as `request.user`; returns how many succeeded."""
    if not request.user.has_perm(f"rma.{operation.permission}"):
        raise PermissionDenied
    return apply_each(
        model_admin,
        request,
        rmas,
        lambda rma: operation.run(rma=rma, user=request.user, reason=reason),
        log_message=str(operation.label),
        done=operation.done,
    )
