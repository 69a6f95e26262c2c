"""Receiving a returned parcel: what arrived, in what condition, and where it goes next."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from rma.errors import RequestError, TransitionError
from rma.models import Condition, Disposition, Rma, RmaLine, RmaStatus
from rma.transitions import is_allowed

from .actors import Actor
from .rma_status import rma_transition


@dataclass(frozen=True)
class ReceivedLine:
    """What the warehouse found for one line of the RMA."""

    rma_line_id: int
    received_quantity: int
    condition: str
    disposition: str


def rma_lock_for_move(*, rma: Rma, to_status: str) -> Rma:
    """Lock the RMA row and check the move before anything else is written.

    Checking first gives a clear `TransitionError` before line validation, and the lock
    makes a second, concurrent receipt (or resolution) wait and then fail instead of
    overwriting the first one's lines. `rma_transition` later re-checks under the same lock.
    """
    locked = Rma.objects.select_for_update().select_related("store").get(pk=rma.pk)
    if not is_allowed(locked.status, to_status):
        raise TransitionError(
            rma_number=locked.rma_number, from_status=locked.status, to_status=to_status
        )
    return locked


def rma_lines_given_once(*, rma: Rma, line_ids: Sequence[int]) -> dict[int, RmaLine]:
    """The RMA's lines by id, after checking `line_ids` names every one of them exactly once."""
    lines = {
        line.pk: line
        for line in RmaLine.objects.filter(rma=rma)
        .select_related("order_line")
        .order_by("order_line__line_number")
    }
    seen: set[int] = set()
    for line_id in line_ids:
        if line_id not in lines:
            raise RequestError(
                _("Line %(line)s is not part of RMA %(number)s.")
                % {"line": line_id, "number": rma.rma_number},
                field="lines",
            )
        if line_id in seen:
            raise RequestError(
                _("Line %(line)s is given more than once.") % {"line": line_id}, field="lines"
            )
        seen.add(line_id)
    missing = [lines[line_id] for line_id in lines if line_id not in seen]
    if missing:
        numbers = ", ".join(str(line.order_line.line_number) for line in missing)
        raise RequestError(
            _("Every line must be accounted for; missing: %(numbers)s.") % {"numbers": numbers},
            field="lines",
        )
    return lines


def _check_received(received: ReceivedLine, line: RmaLine) -> None:
    prefix = f"line-{line.pk}"
    quantity = received.received_quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise RequestError(
            _("The received quantity must be a whole number."), field=f"{prefix}-received_quantity"
        )
    if not 0 <= quantity <= line.quantity:
        raise RequestError(
            _("The received quantity must be between 0 and %(quantity)s (the quantity requested).")
            % {"quantity": line.quantity},
            field=f"{prefix}-received_quantity",
        )
    if received.condition not in Condition.values:
        raise RequestError(
            _("Unknown condition “%(value)s”.") % {"value": received.condition},
            field=f"{prefix}-condition",
        )
    if received.disposition not in Disposition.values:
        raise RequestError(
            _("Unknown disposition “%(value)s”.") % {"value": received.disposition},
            field=f"{prefix}-disposition",
        )


@transaction.atomic
def rma_receive(
    *,
    rma: Rma,
    actor: Actor,
    lines: Sequence[ReceivedLine],
    now: dt.datetime | None = None,
) -> Rma:
    """Record what arrived for an AUTHORIZED RMA and move it to RECEIVED.

    Every line of the RMA must be given exactly once, with 0 ≤ received ≤ requested
    (a short receipt is allowed and recorded as such), a known condition and a known
    disposition. A refusal raises `RequestError` (with the field at fault) or
    `TransitionError` and writes nothing. On success the `rma.received` event lists what
    arrived; the shopper's email and the webhook follow after commit.
    """
    locked = rma_lock_for_move(rma=rma, to_status=RmaStatus.RECEIVED)
    by_id = rma_lines_given_once(rma=locked, line_ids=[line.rma_line_id for line in lines])
    for received in lines:
        _check_received(received, by_id[received.rma_line_id])

    changed = []
    for received in lines:
        line = by_id[received.rma_line_id]
        line.received_quantity = received.received_quantity
        line.condition = received.condition
        line.disposition = received.disposition
        changed.append(line)
    RmaLine.objects.bulk_update(changed, ["received_quantity", "condition", "disposition"])

    ordered = sorted(changed, key=lambda line: line.order_line.line_number)
    return rma_transition(
        rma=rma,
        to_status=RmaStatus.RECEIVED,
        actor=actor,
        now=now,
        data={
            "short": any(line.received_quantity < line.quantity for line in ordered),
            "lines": [
                {
                    "line_number": line.order_line.line_number,
                    "item_id": line.order_line.item_id,
                    "quantity": line.quantity,
                    "received_quantity": line.received_quantity,
                    "condition": line.condition,
                    "disposition": line.disposition,
                }
                for line in ordered
            ],
        },
    )
