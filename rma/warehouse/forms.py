"""Warehouse forms: the scan box, the receipt of one parcel, the resolution of one return.

Field names follow the services' `RequestError.field` values (`line-<rma line id>-<name>`)
so a refusal from a service lands on the input at fault.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from rma.admin.scoping import may_see_store
from rma.models import Condition, Disposition, Resolution, Rma, RmaLine, RmaStatus
from rma.numbers import normalise_rma_number
from rma.policy import ReturnReason, StorePolicy
from rma.selectors import rma_by_number
from rma.services.rma_receive import ReceivedLine
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
    """One expected line with its bound inputs, for the template."""

    line: RmaLine
    fields: list[forms.BoundField]
    breakdown: RefundBreakdown | None = None
    reason: ReturnReason | None = None


def _field_name(line: RmaLine, name: str) -> str:
    return f"line-{line.pk}-{name}"


class _LinesForm(forms.Form):
    """A form with the same inputs for every line of one RMA."""

    line_field_names: tuple[str, ...] = ()

    def __init__(self, *args, rma: Rma, **kwargs):
        super().__init__(*args, **kwargs)
        self.rma = rma
        self.lines = list(rma.lines.all())
        for line in self.lines:
            for name, field in self.line_fields(line).items():
                self.fields[_field_name(line, name)] = field

    def line_fields(self, line: RmaLine) -> dict[str, forms.Field]:
        raise NotImplementedError

    def rows(self) -> list[LineRow]:
        return [
            LineRow(line, [self[_field_name(line, name)] for name in self.line_field_names])
            for line in self.lines
        ]

    def value(self, line: RmaLine, name: str):
        return self.cleaned_data[_field_name(line, name)]

    def add_service_error(self, error) -> None:
        """Show a service's `RequestError` on its input, or above the form."""
        self.add_error(error.field if error.field in self.fields else None, error.message)


def _item(line: RmaLine) -> str:
    return line.order_line.title or line.order_line.item_id


class ReceiveForm(_LinesForm):
    """Per expected line: quantity received (prefilled), condition and disposition."""

    line_field_names = ("received_quantity", "condition", "disposition")

    def line_fields(self, line: RmaLine) -> dict[str, forms.Field]:
        item = _item(line)
        quantity = forms.IntegerField(
            label=_("Received quantity of %(item)s") % {"item": item},
            min_value=0,
            max_value=line.quantity,
            initial=line.quantity,
            widget=forms.TextInput(
                attrs={
                    "inputmode": "numeric",
                    "pattern": "[0-9]*",
                    "autocomplete": "off",
                    "size": 4,
                    "class": "quantity",
                    "data-select-on-focus": "",
                }
            ),
        )
        if line is self.lines[0]:
            quantity.widget.attrs["autofocus"] = ""
        return {
            "received_quantity": quantity,
            "condition": forms.ChoiceField(
                label=_("Condition of %(item)s") % {"item": item},
                choices=Condition.choices,
                initial=Condition.AS_NEW,
            ),
            "disposition": forms.ChoiceField(
                label=_("Disposition of %(item)s") % {"item": item},
                choices=Disposition.choices,
                initial=Disposition.RESTOCK,
            ),
        }

    def received_lines(self) -> list[ReceivedLine]:
        return [
            ReceivedLine(
                rma_line_id=line.pk,
                received_quantity=self.value(line, "received_quantity"),
                condition=self.value(line, "condition"),
                disposition=self.value(line, "disposition"),
            )
            for line in self.lines
        ]


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
            "replacement_item_id": forms.CharField(
                label=_("Replacement item id"),
                required=False,
                max_length=64,
                widget=forms.TextInput(attrs={"data-for": "EXCHANGE REPLACEMENT"}),
            ),
        }

    def rows(self) -> list[LineRow]:
        policy = StorePolicy.of(self.rma.store)
        rows = super().rows()
        for row in rows:
            row.breakdown = line_refund_breakdown(row.line, policy)
            row.reason = policy.reason(row.line.reason_code)
        return rows

    def decisions(self) -> list[LineResolution]:
        return [
            LineResolution(
                rma_line_id=line.pk,
                outcome=self.value(line, "outcome"),
                store_credit_amount=self.value(line, "store_credit_amount"),
                store_credit_code=self.value(line, "store_credit_code"),
                replacement_item_id=self.value(line, "replacement_item_id"),
            )
            for line in self.lines
        ]
