"""Warehouse forms: the scan box, the receipt of one parcel, the resolution of one return.

Field names follow the services' `RequestError.field` values (`line-<rma line id>-<name>`)
so a refusal from a service lands on the input at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalogue.selectors import (
    attach_exchanges,
    exchange_choice_label,
    exchange_choices_for_agents,
    exchange_options_for_order,
)
from rma.admin.scoping import may_see_store
from rma.models import Condition, Disposition, Resolution, Rma, RmaLine, RmaStatus
from rma.numbers import normalise_rma_number
from rma.policy import ReturnReason, StorePolicy
from rma.selectors import rma_by_number
from rma.services.rma_receive import RECEIVABLE_CONDITIONS, ReceivedLine, ReceivedUnits
from rma.services.rma_resolve import LineResolution, RefundBreakdown, line_refund_breakdown


class ScanForm(forms.Form):
    """One input that a barcode scanner types into, followed by Enter.

    After validation `rma` is the AUTHORIZED return the number names. `status_code`
    tells the view how to answer a refusal: 422 for a malformed number or a wrong check
    character, 404 for a well-formed number of no return, 409 for a return that is not
    awaiting receipt.
    """

    rma_number = forms.CharField(label=_("Scan or type RMA number"), max_length=64)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.rma: Rma | None = None
        self.status_code = 200

    def clean_rma_number(self) -> str:
        typed = self.cleaned_data["rma_number"]
        canonical = normalise_rma_number(typed)
        if canonical is None:
            self.status_code = 422
            raise forms.ValidationError(
                _(
                    "“%(typed)s” is not a valid RMA number (wrong length, character or check "
                    "character). Scan again or type the number from the label."
                ),
                code="invalid",
                params={"typed": typed},
            )
        rma = rma_by_number(canonical)
        # Another store's return is unknown here: no status, nothing that says it exists.
        if rma is None or not may_see_store(self.user, rma.store_id):
            self.status_code = 404
            raise forms.ValidationError(
                _("No return has the number %(number)s. Set the parcel aside for review."),
                code="unknown",
                params={"number": canonical},
            )
        if rma.status != RmaStatus.AUTHORIZED:
            self.status_code = 409
            raise forms.ValidationError(
                _("Return %(number)s is %(status)s, not awaiting a parcel. Do not receive it."),
                code="status",
                params={"number": rma.rma_number, "status": rma.get_status_display()},
            )
        self.rma = rma
        return canonical


@dataclass
class LineRow:
    """One expected line with its bound inputs and the shopper's words, for the template."""

    line: RmaLine
    fields: list[forms.BoundField]
    breakdown: RefundBreakdown | None = None
    reason: ReturnReason | None = None
    # The shopper's reason in words, their comment and photos (links to the private view).
    reason_text: str = ""
    photo_urls: list[str] = field(default_factory=list)
    # What arrived, per group of units alike: (quantity, condition, disposition) in words.
    receipt: list[tuple[int, str, str]] = field(default_factory=list)
    # Receiving: the preselection's reason ("" when nothing is preselected) and the inputs
    # of units that arrived in another condition, one list per group.
    suggestion_note: str = ""
    unit_groups: list[list[forms.BoundField]] = field(default_factory=list)
    unit_groups_open: bool = False


def _field_name(line: RmaLine, name: str) -> str:
    return f"line-{line.pk}-{name}"


class _LinesForm(forms.Form):
    """A form with the same inputs for every line of one RMA."""

    line_field_names: tuple[str, ...] = ()

    def __init__(self, *args, rma: Rma, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rma = rma
        self.user = user
        self.policy = StorePolicy.of(rma.store)
        self.lines = list(rma.lines.select_related("order_line").prefetch_related("photos"))
        for line in self.lines:
            for name, line_field in self.line_fields(line).items():
                self.fields[_field_name(line, name)] = line_field

    def line_fields(self, line: RmaLine) -> dict[str, forms.Field]:
        raise NotImplementedError

    def full_clean(self) -> None:
        super().full_clean()
        # After a refusal the cursor waits in the first input at fault, not at the top.
        first = next((name for name in self.fields if name in (self._errors or {})), None)
        if first is not None:
            for form_field in self.fields.values():
                form_field.widget.attrs.pop("autofocus", None)
            self.fields[first].widget.attrs["autofocus"] = ""

    def rows(self) -> list[LineRow]:
        can_see_photos = bool(self.user and self.user.has_perm("rma.view_rmaphoto"))
        rows = []
        for line in self.lines:
            reason = self.policy.reason(line.reason_code)
            row = LineRow(
                line,
                [self[_field_name(line, name)] for name in self.line_field_names],
                reason=reason,
                reason_text=reason_in_words(line, reason),
                receipt=line.receipt_in_words(),
            )
            if can_see_photos:
                row.photo_urls = [
                    reverse("admin:rma_rma_photo", args=[line.rma_id, photo.pk])
                    for photo in line.photos.all()
                ]
            rows.append(row)
        return rows

    def value(self, line: RmaLine, name: str):
        return self.cleaned_data[_field_name(line, name)]

    def add_service_error(self, error) -> None:
        """Show a service's `RequestError` on its input, or above the form."""
        self.add_error(error.field if error.field in self.fields else None, error.message)


def _item(line: RmaLine) -> str:
    return line.order_line.title or line.order_line.item_id


def reason_in_words(line: RmaLine, reason: ReturnReason | None) -> str:
    """The shopper's reason as the store words it, else as the caller gave it, else its code."""
    if reason is not None:
        return reason.description
    return line.reason_description or line.reason_code


def suggested_receipt(reason: ReturnReason | None) -> tuple[str, str]:
    """The condition and disposition preselected for a line, from the shopper's reason.

    Only a reason that says nothing is wrong with the goods (not the seller's fault, no
    photo or review asked for: a size, a change of mind) suggests "as new, restock". A
    defect, a wrong item, any other seller-fault reason or an unknown one preselects
    nothing: the units must be looked at and chosen.
    """
    if reason is None or reason.seller_fault or reason.requires_photo or reason.requires_review:
        return "", ""
    return Condition.AS_NEW, Disposition.RESTOCK


# Units of one line that arrived in other conditions than the rest: up to this many groups.
MAX_OTHER_GROUPS = 3
CHOOSE = ("", _("— choose —"))


def _quantity_input(**attrs) -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "inputmode": "numeric",
            "pattern": "[0-9]*",
            "autocomplete": "off",
            "size": 4,
            "class": "quantity",
            "data-select-on-focus": "",
            **attrs,
        }
    )


def _condition_field(label, initial="") -> forms.ChoiceField:
    receivable = [choice for choice in Condition.choices if choice[0] in RECEIVABLE_CONDITIONS]
    return forms.ChoiceField(
        label=label, choices=[CHOOSE, *receivable], required=False, initial=initial
    )


def _disposition_field(label, initial="") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=[CHOOSE, *Disposition.choices], required=False, initial=initial
    )


class ReceiveForm(_LinesForm):
    """Per expected line: quantity received (prefilled), condition and disposition.

    Nothing is preselected unless the shopper's reason suggests it (`suggested_receipt`),
    and received units without a chosen condition and disposition are refused. Units that
    arrived otherwise than the rest (1 fine, 1 damaged) go in up to `MAX_OTHER_GROUPS`
    groups of their own: quantity, condition, disposition; the line's own condition and
    disposition then describe the remaining units.
    """

    line_field_names = ("received_quantity", "condition", "disposition")

    @staticmethod
    def other_groups(line: RmaLine) -> int:
        return min(line.quantity - 1, MAX_OTHER_GROUPS)

    def line_fields(self, line: RmaLine) -> dict[str, forms.Field]:
        item = _item(line)
        quantity = forms.IntegerField(
            label=_("Received quantity of %(item)s") % {"item": item},
            min_value=0,
            max_value=line.quantity,
            initial=line.quantity,
            widget=_quantity_input(),
        )
        if line is self.lines[0]:
            quantity.widget.attrs["autofocus"] = ""
        condition, disposition = suggested_receipt(self.policy.reason(line.reason_code))
        fields = {
            "received_quantity": quantity,
            "condition": _condition_field(
                _("Condition of %(item)s") % {"item": item}, initial=condition
            ),
            "disposition": _disposition_field(
                _("Disposition of %(item)s") % {"item": item}, initial=disposition
            ),
        }
        for number in range(1, self.other_groups(line) + 1):
            params = {"item": item, "number": number}
            fields[f"other-{number}-quantity"] = forms.IntegerField(
                label=_("Units of %(item)s in another condition (group %(number)s)") % params,
                min_value=0,
                max_value=line.quantity,
                required=False,
                widget=_quantity_input(),
            )
            fields[f"other-{number}-condition"] = _condition_field(
                _("Their condition (group %(number)s)") % params
            )
            fields[f"other-{number}-disposition"] = _disposition_field(
                _("Their disposition (group %(number)s)") % params
            )
        return fields

    def rows(self) -> list[LineRow]:
        rows = super().rows()
        for row in rows:
            line = row.line
            if self[_field_name(line, "condition")].value():
                row.suggestion_note = _("Preselected from the shopper's reason: check the item.")
            row.unit_groups = [
                [self[_field_name(line, f"other-{number}-{part}")] for part in GROUP_PARTS]
                for number in range(1, self.other_groups(line) + 1)
            ]
            row.unit_groups_open = any(
                bound.value() not in (None, "") or bound.errors
                for group in row.unit_groups
                for bound in group
            )
        return rows

    def clean(self):
        cleaned = super().clean()
        self.units: dict[int, list[ReceivedUnits]] = {}
        for line in self.lines:
            self._clean_line(line)
        return cleaned

    def _require(self, name: str, message: str) -> bool:
        """Whether the choice `name` was made; if not, `message` goes on it (once)."""
        if self.cleaned_data.get(name):
            return True
        if name not in self.errors:
            self.add_error(name, message)
        return False

    def _clean_line(self, line: RmaLine) -> None:
        received = self.cleaned_data.get(_field_name(line, "received_quantity"))
        if received is None:
            return  # its own error is shown
        others = []
        for number in range(1, self.other_groups(line) + 1):
            name = _field_name(line, f"other-{number}")
            count = self.cleaned_data.get(f"{name}-quantity")
            if not count:
                continue
            chosen = self._require(
                f"{name}-condition", _("Choose the condition of these units.")
            ) & self._require(f"{name}-disposition", _("Choose where these units go."))
            if chosen:
                others.append(
                    ReceivedUnits(
                        count,
                        self.cleaned_data[f"{name}-condition"],
                        self.cleaned_data[f"{name}-disposition"],
                    )
                )
        in_other_groups = sum(group.quantity for group in others)
        if in_other_groups > received:
            self.add_error(
                _field_name(line, "other-1-quantity"),
                _("%(others)s units in other conditions, but only %(received)s received.")
                % {"others": in_other_groups, "received": received},
            )
            return
        rest = received - in_other_groups
        units = []
        if rest:
            condition, disposition = (
                _field_name(line, "condition"),
                _field_name(line, "disposition"),
            )
            chosen = self._require(
                condition,
                _("Choose the condition of the %(count)s units received.") % {"count": rest},
            ) & self._require(disposition, _("Choose where the units received go."))
            if chosen:
                units.append(
                    ReceivedUnits(
                        rest, self.cleaned_data[condition], self.cleaned_data[disposition]
                    )
                )
        self.units[line.pk] = [*units, *others]

    def received_lines(self) -> list[ReceivedLine]:
        return [
            ReceivedLine(
                rma_line_id=line.pk,
                received_quantity=self.value(line, "received_quantity"),
                units=tuple(self.units[line.pk]),
            )
            for line in self.lines
        ]


GROUP_PARTS = ("quantity", "condition", "disposition")


class ResolveForm(_LinesForm):
    """Per received line: the outcome and what it needs; refund amounts are previewed."""

    line_field_names = (
        "outcome",
        "store_credit_amount",
        "store_credit_code",
        "replacement_item_id",
    )

    def line_fields(self, line: RmaLine) -> dict[str, forms.Field]:
        item = _item(line)
        outcome = forms.ChoiceField(
            label=_("Outcome for %(item)s") % {"item": item},
            choices=Resolution.choices,
            initial=self.rma.resolution,
            widget=forms.Select(attrs={"data-outcome": ""}),
        )
        if line is self.lines[0]:
            outcome.widget.attrs["autofocus"] = ""
        return {
            "outcome": outcome,
            "store_credit_amount": forms.DecimalField(
                label=_("Store credit amount (empty: as the refund)"),
                required=False,
                min_value=0,
                max_digits=12,
                decimal_places=2,
                widget=forms.TextInput(
                    attrs={"inputmode": "decimal", "size": 8, "data-for": "STORE_CREDIT"}
                ),
            ),
            "store_credit_code": forms.CharField(
                label=_("Store credit code (empty: generated)"),
                required=False,
                max_length=64,
                widget=forms.TextInput(attrs={"data-for": "STORE_CREDIT"}),
            ),
            # A choice of the catalogue's variants, not free text: those in stock and within
            # the price paid, plus the one the shopper asked for (its stock is set aside).
            "replacement_item_id": forms.ChoiceField(
                label=_("Replacement item"),
                choices=[("", _("— the same item (replacement) —")), *self.variants_for(line)],
                required=False,
                widget=forms.Select(attrs={"data-for": "EXCHANGE REPLACEMENT"}),
                initial=line.replacement_item_id,
            ),
        }

    def variants_for(self, line: RmaLine) -> list[tuple[str, str]]:
        """The variants an agent may choose for a line (one query for the whole RMA)."""
        if not hasattr(self, "_exchange_options"):
            self._exchange_options = exchange_options_for_order(
                order=self.rma.order, lines=[each.order_line for each in self.lines]
            )
            self._exchanges = {
                each.pk: each.exchange for each in attach_exchanges(self.lines) if each.exchange
            }
        options = self._exchange_options.get(line.order_line_id)
        currency = self.rma.store.currency
        choices = exchange_choices_for_agents(options, currency=currency)
        reservation = self._exchanges.get(line.pk)
        if reservation and reservation.variant.item_id not in dict(choices):
            asked = next(
                (
                    o
                    for o in (options.options if options else ())
                    if o.item_id == reservation.variant.item_id
                ),
                None,
            )
            label = (
                exchange_choice_label(asked, currency=currency)
                if asked
                else reservation.variant.item_id
            )
            choices.insert(0, (reservation.variant.item_id, label))
        return choices

    def exchange_unit_price(self, line: RmaLine, item_id: str):
        """The replacement's price per unit: the reservation's when it is the variant the
        shopper asked for, else the catalogue's; None when unknown."""
        reservation = getattr(self, "_exchanges", {}).get(line.pk)
        if reservation and reservation.variant.item_id == item_id:
            return reservation.unit_price
        options = getattr(self, "_exchange_options", {}).get(line.order_line_id)
        for option in options.options if options else ():
            if option.item_id == item_id:
                return option.price
        return None

    def rows(self) -> list[LineRow]:
        rows = super().rows()
        for row in rows:
            row.breakdown = line_refund_breakdown(row.line, self.policy)
        return rows

    def decisions(self) -> list[LineResolution]:
        return [
            LineResolution(
                rma_line_id=line.pk,
                outcome=self.value(line, "outcome"),
                store_credit_amount=self.value(line, "store_credit_amount"),
                store_credit_code=self.value(line, "store_credit_code"),
                replacement_item_id=self.value(line, "replacement_item_id"),
                # So the refund of a cheaper variant's difference agrees with the estimate.
                exchange_unit_price=self.exchange_unit_price(
                    line, self.value(line, "replacement_item_id")
                )
                if self.value(line, "outcome") == Resolution.EXCHANGE
                else None,
            )
            for line in self.lines
        ]
