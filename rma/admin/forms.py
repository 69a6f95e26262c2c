"""Forms of the customer-care pages: overriding a rule, creating a return for a customer."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rma.eligibility import RULES
from rma.models import Resolution
from rma.policy import StorePolicy
from rma.services.rma_request import RequestedLine


class OverrideForm(forms.Form):
    code = forms.ChoiceField(label=_("Rule to override"))
    justification = forms.CharField(
        label=_("Justification"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("Why this customer may return the item anyway. Kept with the override."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Optional. In the store's time zone. Empty: the override does not expire."),
    )

    def __init__(self, *args, codes: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [
            (code, f"{code} — {RULES[code].description}") for code in codes
        ]


class CreateReturnForm(forms.Form):
    """One row per eligible line (quantity, reason, comment) plus the resolution.

    Ineligible lines get no fields: the page shows why. Every rule is checked again by
    `rma_request`, whose per-line refusals are attached to the lines' quantity fields.
    """

    resolution = forms.ChoiceField(label=_("Resolution"))
    comment = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("What the customer told you; shown with the return."),
    )

    def __init__(self, *args, verdicts, policy: StorePolicy, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Resolution.choices)
        self.fields["resolution"].choices = [
            (value, labels.get(value, value)) for value in policy.resolutions
        ]
        reasons = [("", "—")] + [(reason.code, reason.description) for reason in policy.reasons]
        self.line_numbers = []
        for verdict in verdicts:
            if not verdict.eligible:
                continue
            number = verdict.line_number
            self.line_numbers.append(number)
            # The table's column headers name these inputs; the aria-labels say which line.
            self.fields[self.quantity_field(number)] = forms.IntegerField(
                label=_("Quantity"),
                min_value=0,
                initial=0,
                required=False,
                widget=forms.NumberInput(attrs={"aria-label": _("Quantity, line %s") % number}),
            )
            self.fields[self.reason_field(number)] = forms.ChoiceField(
                label=_("Reason"),
                choices=reasons,
                required=False,
                widget=forms.Select(attrs={"aria-label": _("Reason, line %s") % number}),
            )
            self.fields[f"line-{number}-comment"] = forms.CharField(
                label=_("Comment"),
                required=False,
                max_length=2000,
                widget=forms.TextInput(attrs={"aria-label": _("Comment, line %s") % number}),
            )

    @staticmethod
    def quantity_field(number: int) -> str:
        return f"line-{number}-quantity"

    @staticmethod
    def reason_field(number: int) -> str:
        return f"line-{number}-reason"

    def line_fields(self, number: int) -> dict:
        return {name: self[f"line-{number}-{name}"] for name in ("quantity", "reason", "comment")}

    def clean(self):
        cleaned = super().clean()
        chosen = 0
        for number in self.line_numbers:
            quantity = cleaned.get(self.quantity_field(number)) or 0
            if quantity and not cleaned.get(self.reason_field(number)):
                self.add_error(self.reason_field(number), _("Choose a reason for this item."))
            chosen += bool(quantity)
        if not chosen and not self.errors:
            raise forms.ValidationError(_("Enter a quantity for at least one item."))
        return cleaned

    def requested_lines(self) -> list[RequestedLine]:
        data = self.cleaned_data
        return [
            RequestedLine(
                line_number=number,
                quantity=data[self.quantity_field(number)],
                reason_code=data[self.reason_field(number)],
                comment=data[f"line-{number}-comment"],
            )
            for number in self.line_numbers
            if data.get(self.quantity_field(number))
        ]

    def add_service_error(self, field: str, message: str) -> None:
        """Attach a refusal from the request service to the field it names, if there is one."""
        if field.startswith("line-") and field not in self.fields:
            # The service names e.g. "line-3-reason" / "line-3-photo"; fall back to quantity.
            number = field.split("-")[1]
            field = self.quantity_field(int(number)) if number.isdigit() else ""
        self.add_error(field if field in self.fields else None, message)
