"""Forms of the customer-care pages: overriding a rule, creating a return for a customer."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from catalogue.selectors import exchange_choices_for_agents
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

    def __init__(self, *args, verdicts, policy: StorePolicy, exchanges=None, currency="", **kwargs):
        """`exchanges`: per line number, the line's exchange choices (`LineExchangeOptions`
        of `catalogue.selectors.exchange_options_for_order`), when the store offers EXCHANGE."""
        super().__init__(*args, **kwargs)
        exchanges = exchanges or {}
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
            if choices := exchange_choices_for_agents(exchanges.get(number), currency=currency):
                # The variants in stock and within the price paid; the service checks again.
                self.fields[self.exchange_field(number)] = forms.ChoiceField(
                    label=_("Exchange for"),
                    choices=[("", "—"), *choices],
                    required=False,
                    widget=forms.Select(attrs={"aria-label": _("Exchange for, line %s") % number}),
                )
        self.has_exchanges = any(
            self.exchange_field(number) in self.fields for number in self.line_numbers
        )

    @staticmethod
    def quantity_field(number: int) -> str:
        return f"line-{number}-quantity"

    @staticmethod
    def reason_field(number: int) -> str:
        return f"line-{number}-reason"

    @staticmethod
    def exchange_field(number: int) -> str:
        return f"line-{number}-exchange"

    @classmethod
    def failure_field(cls, failure) -> str:
        """The field a line refusal of the request service belongs to."""
        if failure.code == "RMA 1023":
            return cls.exchange_field(failure.line_number)
        return cls.quantity_field(failure.line_number)

    def line_fields(self, number: int) -> dict:
        fields = {name: self[f"line-{number}-{name}"] for name in ("quantity", "reason", "comment")}
        if self.exchange_field(number) in self.fields:
            fields["exchange"] = self[self.exchange_field(number)]
        return fields

    def clean(self):
        cleaned = super().clean()
        chosen = 0
        for number in self.line_numbers:
            quantity = cleaned.get(self.quantity_field(number)) or 0
            if quantity and not cleaned.get(self.reason_field(number)):
                self.add_error(self.reason_field(number), _("Choose a reason for this item."))
            if cleaned.get(self.exchange_field(number)) and (
                cleaned.get("resolution") != Resolution.EXCHANGE
            ):
                self.add_error(
                    self.exchange_field(number),
                    _("An item to exchange for needs the Exchange resolution."),
                )
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
                exchange_item_id=data.get(self.exchange_field(number)) or "",
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
