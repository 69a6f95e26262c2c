"""The progress stepper of the status and confirmation pages, and the status headings.

A return normally goes requested → approved → in transit → received → refunded (or
credited, exchanged...). The steps adapt to how a return really went:

- rejected: requested → not approved;
- cancelled / expired: the steps it reached, then cancelled / expired;
- kept items (nothing to send): requested → approved → keep the items;
- taken back at a counter: requested → received at the counter → the outcome;
- an exchange ends with "replacement sent" instead of "refunded".

`progress_steps` is pure: it reads what it is given, so it can be tested without a
database. The current step is the one the page marks `aria-current="step"`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from rma.models import Resolution, RmaStatus

DONE, CURRENT, UPCOMING, STOPPED = "done", "current", "upcoming", "stopped"


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    state: str  # done, current, upcoming; "stopped" is a current step that ends the return

    @property
    def is_current(self) -> bool:
        return self.state in (CURRENT, STOPPED)


def final_label(resolution: str) -> str:
    if resolution == Resolution.EXCHANGE:
        return _("Replacement sent")
    if resolution == Resolution.STORE_CREDIT:
        return _("Store credit issued")
    if resolution == Resolution.REPLACEMENT:
        return _("Replacement sent")
    if resolution == Resolution.REPAIR:
        return _("Repaired")
    return _("Refunded")


def progress_steps(
    *,
    status: str,
    resolution: str,
    event_types: frozenset[str] | set[str] = frozenset(),
    kept: bool = False,
    in_transit: bool = False,
    at_counter: bool = False,
) -> list[Step]:
    """The steps of a return in its current state, oldest first."""
    final = ("resolved", final_label(resolution))
    if kept:
        plan = [
            ("requested", _("Requested")),
            ("approved", _("Approved")),
            ("kept", _("Keep the items")),
        ]
    elif at_counter:
        plan = [("requested", _("Requested")), ("received", _("Received at the counter")), final]
    else:
        plan = [
            ("requested", _("Requested")),
            ("approved", _("Approved")),
            ("in_transit", _("In transit")),
            ("received", _("Received")),
            final,
        ]
    keys = [key for key, _label in plan]
    stop = None
    if status == RmaStatus.REQUESTED:
        reached = "requested"
    elif status == RmaStatus.AUTHORIZED:
        reached = "in_transit" if in_transit and "in_transit" in keys else "approved"
    elif status == RmaStatus.RECEIVED:
        reached = "received"
    elif status == RmaStatus.RESOLVED:
        reached = keys[-1]
    else:
        # Rejected, cancelled or expired: the steps reached, then where it stopped.
        stop = {
            RmaStatus.REJECTED: ("rejected", _("Not approved")),
            RmaStatus.CANCELLED: ("cancelled", _("Cancelled")),
            RmaStatus.EXPIRED: ("expired", _("Expired")),
        }.get(status, ("stopped", status))
        reached = (
            "approved" if "rma.authorized" in event_types and "approved" in keys else ("requested")
        )
        if status == RmaStatus.REJECTED:
            reached = "requested"
    if reached not in keys:
        reached = keys[0]
    index = keys.index(reached)
    if stop is not None:
        steps = [Step(key, label, DONE) for key, label in plan[: index + 1]]
        return [*steps, Step(stop[0], stop[1], STOPPED)]
    steps = []
    for position, (key, label) in enumerate(plan):
        if position < index:
            state = DONE
        elif position == index:
            # A return that is complete has nothing left: its last step is done and current.
            state = CURRENT
        else:
            state = UPCOMING
        steps.append(Step(key, label, state))
    return steps


def status_heading(status: str, *, kept: bool = False) -> str:
    """The page heading for a return in this status (confirmation page)."""
    if kept:
        return _("Your return is complete: keep the items")
    headings = {
        RmaStatus.REQUESTED: _("Thank you, your return is requested"),
        RmaStatus.AUTHORIZED: _("Thank you, your return is approved"),
        RmaStatus.RECEIVED: _("Thank you, we have received your return"),
        RmaStatus.RESOLVED: _("Your return is complete"),
        RmaStatus.REJECTED: _("Your return was not approved"),
        RmaStatus.CANCELLED: _("Your return is cancelled"),
        RmaStatus.EXPIRED: _("Your return expired"),
    }
    return headings.get(status, _("Your return"))
