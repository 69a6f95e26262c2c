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

# Receiving is inspecting: "not inspected yet" (a counter return's) is no receipt condition.
RECEIVABLE_CONDITIONS = tuple(value for value in Condition.values if value != Condition.UNINSPECTED)
# Worst first: the line's own condition and disposition are its worst group's.
CONDITION_SEVERITY = (
    Condition.WRONG_ITEM,
    Condition.DEFECTIVE,
    Condition.DAMAGED,
    Condition.OPENED,
    Condition.AS_NEW,
)


@dataclass(frozen=True)
class ReceivedUnits:
    """Some units of one line that arrived alike: how many, their condition and disposition."""

    quantity: int
    condition: str
    disposition: str


@dataclass(frozen=True)
class ReceivedLine:
    """What the warehouse found for one line of the RMA.

    Units that arrived differently (1 fine, 1 damaged) are given as `units`, whose
    quantities add up to `received_quantity`; without `units`, all received units share
    `condition` and `disposition`. Nothing received (0) needs neither.
    """

    rma_line_id: int
    received_quantity: int
    condition: str = ""
    disposition: str = ""
    units: tuple[ReceivedUnits, ...] = ()

    def groups(self) -> list[ReceivedUnits]:
        """The units received, by group (none when nothing arrived)."""
        if self.units:
            return list(self.units)
        if isinstance(self.received_quantity, int) and self.received_quantity > 0:
            return [ReceivedUnits(self.received_quantity, self.condition, self.disposition)]
        return []


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


def _check_received(received: ReceivedLine, line: RmaLine) -> list[ReceivedUnits]:
    """The line's receipt checked, as groups of units alike (merged, in the order given)."""
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
    merged: dict[tuple[str, str], int] = {}
    for group in received.groups():
        _check_group(group, prefix)
        key = (group.condition, group.disposition)
        merged[key] = merged.get(key, 0) + group.quantity
    if sum(merged.values()) != quantity:
        raise RequestError(
            _("The units by condition add up to %(given)s, but %(quantity)s were received.")
            % {"given": sum(merged.values()), "quantity": quantity},
            field=f"{prefix}-units",
        )
    return [
        ReceivedUnits(count, condition, disposition)
        for (condition, disposition), count in merged.items()
    ]


def _check_group(group: ReceivedUnits, prefix: str) -> None:
    count = group.quantity
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise RequestError(
            _("Each group of units needs a quantity of at least 1."), field=f"{prefix}-units"
        )
    if not group.condition:
        raise RequestError(
            _("Choose the condition of the units received."), field=f"{prefix}-condition"
        )
    if group.condition not in RECEIVABLE_CONDITIONS:
        raise RequestError(
            _("Unknown condition “%(value)s”.") % {"value": group.condition},
            field=f"{prefix}-condition",
        )
    if not group.disposition:
        raise RequestError(
            _("Choose where the units received go next."), field=f"{prefix}-disposition"
        )
    if group.disposition not in Disposition.values:
        raise RequestError(
            _("Unknown disposition “%(value)s”.") % {"value": group.disposition},
            field=f"{prefix}-disposition",
        )


def _worst(groups: list[ReceivedUnits]) -> ReceivedUnits | None:
    if not groups:
        return None
    return min(groups, key=lambda group: CONDITION_SEVERITY.index(group.condition))


def _units_data(groups: list[ReceivedUnits]) -> list[dict]:
    return [
        {"quantity": group.quantity, "condition": group.condition, "disposition": group.disposition}
        for group in groups
    ]


def received_line_data(line: RmaLine) -> dict:
    """A received line as the `rma.received` event records it."""
    return {
        "line_number": line.order_line.line_number,
        "item_id": line.order_line.item_id,
        "quantity": line.quantity,
        "received_quantity": line.received_quantity,
        "condition": line.condition,
        "disposition": line.disposition,
        "units": line.receipt_units,
    }


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
    (a short receipt is allowed and recorded as such). Received units need a chosen
    condition (not UNINSPECTED) and disposition, per group of units alike when they
    differ; the line keeps the groups (`receipt_units`) and, as its own condition and
    disposition, its worst group's. Nothing received needs neither. Amounts do not depend
    on the condition: every received unit counts for the refund. A refusal raises
    `RequestError` (with the field at fault) or `TransitionError` and writes nothing. On
    success the `rma.received` event lists what arrived (with the groups as `units`); the
    shopper's email and the webhook follow after commit.
    """
    locked = rma_lock_for_move(rma=rma, to_status=RmaStatus.RECEIVED)
    by_id = rma_lines_given_once(rma=locked, line_ids=[line.rma_line_id for line in lines])
    groups = {
        received.rma_line_id: _check_received(received, by_id[received.rma_line_id])
        for received in lines
    }

    changed = []
    for received in lines:
        line = by_id[received.rma_line_id]
        worst = _worst(groups[line.pk])
        line.received_quantity = received.received_quantity
        line.condition = worst.condition if worst else ""
        line.disposition = worst.disposition if worst else ""
        line.receipt_units = _units_data(groups[line.pk])
        changed.append(line)
    RmaLine.objects.bulk_update(
        changed, ["received_quantity", "condition", "disposition", "receipt_units"]
    )

    ordered = sorted(changed, key=lambda line: line.order_line.line_number)
    return rma_transition(
        rma=rma,
        to_status=RmaStatus.RECEIVED,
        actor=actor,
        now=now,
        data={
            "short": any(line.received_quantity < line.quantity for line in ordered),
            "lines": [received_line_data(line) for line in ordered],
        },
    )
