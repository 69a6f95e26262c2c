"""Portal forms. They parse and present; the request service decides what is allowed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms import renderers
from django.forms.utils import ErrorList
from django.template.defaultfilters import filesizeformat
from django.utils.functional import cached_property
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from rma.errors import LineFailure, RequestError, RmaError
from rma.models import Resolution
from rma.services.rma_request import RequestedLine

from .photos import PhotosField
from .wording import reason_text, refusal_text, request_error_text, resolution_text

LINE_FIELD = re.compile(r"^line-([0-9]{1,9})-selected$")
LINE_PREFIX = re.compile(r"^line-([0-9]{1,9})-")
# A quantity as typed: ASCII digits only ("²" or "٣" pass str.isdigit() and int() is
# not the same on them), few enough that any figure compares as a plain number.
QUANTITY = re.compile(r"[0-9]{1,18}")
# What the page shows back of a posted quantity (it is only ever a few digits).
QUANTITY_SHOWN_LENGTH = 20
LINE_PARTS = ("selected", "quantity", "reason", "photo", "exchange")
# An empty SafeString: the template neither escapes it nor renders an empty error list.
NO_ERRORS = SafeString("")
NO_LINE_ERRORS = MappingProxyType(dict.fromkeys(LINE_PARTS, NO_ERRORS))
# Reads a posted checkbox as Django does ("false" is unticked); it keeps no state.
CHECKBOX = forms.CheckboxInput()


class PortalFormRenderer(renderers.Jinja2):
    """Django's widget and error templates in their Jinja2 version (Django ships both),
    escaped as Django escapes: the same markup as the default renderer, several times
    faster. Each widget and error list is a template render of its own: the order page has
    about six, a fixed cost of every order page."""

    @cached_property
    def engine(self):
        return self.backend(
            {
                "APP_DIRS": True,
                "DIRS": [Path(renderers.__file__).parent / self.backend.app_dirname],
                "NAME": "portalforms",
                "OPTIONS": {"environment": "rma.portal.jinja_environment.widgets_environment"},
            }
        )


class LineValues(NamedTuple):
    selected: bool
    quantity: str
    reason: str


class QuantityField(forms.IntegerField):
    """A whole number written in ASCII digits, else "Enter a whole number."."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not QUANTITY.fullmatch(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


class ErrorSummaryMixin:
    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor id, message) for every error, for the summary at the top of the page."""
        entries = [("", str(message)) for message in self.non_field_errors()]
        for name, messages in self.errors.items():
            if name == NON_FIELD_ERRORS:
                continue
            bound = self[name]
            # Radio buttons have no element with the field's own id: point at the first one.
            anchor = bound.id_for_label or f"{bound.auto_id}_0"
            prefix = self.error_prefix(name)
            entries += [(anchor, f"{prefix}: {m}" if prefix else str(m)) for m in messages]
        return entries

    def error_prefix(self, field_name: str) -> str:
        return ""


class LookupForm(ErrorSummaryMixin, forms.Form):
    order_number = forms.CharField(label=_("Order number"), max_length=64)
    contact = forms.CharField(
        label=_("Email or postcode"),
        max_length=254,
        help_text=_("The email address you ordered with, or the postcode the order was sent to."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order_number"].widget.attrs.update(
            {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        )
        self.fields["contact"].widget.attrs.update({"autocomplete": "email", "spellcheck": "false"})


class ReturnForm(ErrorSummaryMixin, forms.Form):
    """Which lines to return, how many, why; the resolution and a comment.

    The page draws the line controls itself (`rma.portal.order_lines`): a form field per
    control of every line would cost the page about a millisecond a line. Line fields
    (named as the service names them in its errors, e.g. `line-2-reason`) exist only in
    a bound form, and only for the lines the request selects or sends a photo for: those
    are the lines that can be requested or refused. Limits such as the returnable
    quantity are left to `rma_request`, which reports every refusal.
    """

    default_renderer = PortalFormRenderer()

    resolution = forms.CharField(label=_("How would you like us to resolve your return?"))
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Anything our team should know about your return."),
    )

    no_printer = forms.BooleanField(
        label=_(
            "I have no printer: give me a QR code to show at the carrier's counter instead "
            "of a label to print"
        ),
        required=False,
    )

    def __init__(self, *args, verdicts, policy, exchanges=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Per line number, the line's exchange choices (`exchange_picker.exchange_choices`).
        self.exchanges = exchanges or {}
        # Only where the store allows it and the carrier can print the label at the counter.
        if not (policy.label.qr_code and settings.LABEL_SERVICE == "shippo"):
            del self.fields["no_printer"]
        self.verdicts = {verdict.line_number: verdict for verdict in verdicts}
        resolutions = [(code, resolution_text(code)) for code in policy.resolutions]
        self.fields["resolution"].widget = forms.RadioSelect(choices=resolutions)
        self.fields["resolution"].required = False
        if resolutions:
            self.fields["resolution"].initial = resolutions[0][0]
        self.reasons = [("", _("Choose a reason"))] + [
            (reason.code, reason_text(reason)) for reason in policy.reasons
        ]
        photo_reasons = [reason for reason in policy.reasons if reason.requires_photo]
        self.photo_reasons = [reason.code for reason in photo_reasons]
        self.photo_hint = _(
            "Needed if you choose: %(reasons)s. A JPEG, PNG or WEBP image of at most %(size)s."
        ) % {
            "reasons": ", ".join(reason_text(reason) for reason in photo_reasons),
            "size": filesizeformat(settings.PHOTO_MAX_BYTES),
        }
        if self.is_bound:
            sent = {int(match[1]) for key in self.files if (match := LINE_PREFIX.match(key))}
            sent |= {int(match[1]) for key in self.data if (match := LINE_FIELD.match(key))}
            for number in sorted(sent & self.verdicts.keys()):
                self._add_line_fields(number)

    def _add_line_fields(self, number: int) -> None:
        self.fields[f"line-{number}-selected"] = forms.BooleanField(required=False)
        self.fields[f"line-{number}-quantity"] = QuantityField(required=False)
        self.fields[f"line-{number}-reason"] = forms.CharField(required=False)
        self.fields[f"line-{number}-photo"] = PhotosField(required=False)
        self.fields[f"line-{number}-exchange"] = forms.CharField(required=False, max_length=64)

    def clean(self):
        cleaned = super().clean()
        # The quantity box can be left empty: say so, rather than refusing a return of 0.
        for number, verdict in self.verdicts.items():
            name = f"line-{number}-quantity"
            if (
                verdict.eligible
                and cleaned.get(f"line-{number}-selected")
                and name in self.fields
                and name not in self.errors
                and cleaned.get(name) is None
            ):
                self.add_error(name, _("Enter how many of this item you want to return."))
        # An exchange of a line that has variants to offer needs the one wanted.
        if cleaned.get("resolution") == Resolution.EXCHANGE:
            for number, choices in self.exchanges.items():
                name = f"line-{number}-exchange"
                if (
                    cleaned.get(f"line-{number}-selected")
                    and name in self.fields
                    and name not in self.errors
                    and not cleaned.get(name)
                    and choices.available_options
                ):
                    self.add_error(name, _("Choose what you would like instead."))
        return cleaned

    def label_event_data(self) -> dict:
        """The shopper's label choice, kept in the `rma.created` event for the labels app."""
        return {"labelFormat": "QR"} if self.cleaned_data.get("no_printer") else {}

    def line_values(self, number: int) -> LineValues:
        """What a line's controls show: as sent (after an error), else the defaults."""
        if not self.is_bound:
            return LineValues(selected=False, quantity="1", reason="")
        name = f"line-{number}-"
        return LineValues(
            selected=CHECKBOX.value_from_datadict(self.data, self.files, f"{name}selected"),
            quantity=str(self.data.get(f"{name}quantity") or "")[:QUANTITY_SHOWN_LENGTH],
            reason=str(self.data.get(f"{name}reason") or ""),
        )

    def exchange_value(self, number: int) -> str:
        """The exchange item a line's picker shows as chosen (after an error), else ""."""
        if not self.is_bound:
            return ""
        return str(self.data.get(f"line-{number}-exchange") or "")

    def line_errors(self, number: int) -> Mapping[str, ErrorList | SafeString]:
        """A line's errors by control (selected, quantity, reason, photo); "" for none.

        Every control has its key: a missing key costs the template an exception each time
        it asks.
        """
        if not self.errors:
            return NO_LINE_ERRORS
        name = f"line-{number}-"
        return {part: self.errors.get(name + part, NO_ERRORS) for part in LINE_PARTS}

    def requested_lines(self) -> list[RequestedLine]:
        """The lines to request, from a valid form.

        Selected line numbers that are not on the order are passed on too, so the service
        refuses them (RMA 1005) instead of the form silently dropping them.
        """
        data = self.cleaned_data
        # The pickers are posted whatever the resolution (they work without JavaScript):
        # their choice counts only for an exchange.
        exchange = data.get("resolution") == Resolution.EXCHANGE
        lines = [
            RequestedLine(
                line_number=number,
                quantity=data.get(f"line-{number}-quantity") or 0,
                reason_code=data.get(f"line-{number}-reason") or "",
                photos=list(data.get(f"line-{number}-photo") or []),
                exchange_item_id=(data.get(f"line-{number}-exchange") or "") if exchange else "",
            )
            for number in self.verdicts
            if data.get(f"line-{number}-selected")
        ]
        unknown = sorted(
            {int(match[1]) for key in self.data if (match := LINE_FIELD.match(key))}
            - set(self.verdicts)
        )
        lines += [
            RequestedLine(
                number,
                _posted_int(self.data, number),
                str(self.data.get(f"line-{number}-reason", "")),
            )
            for number in unknown
        ]
        return lines

    def add_refusal(self, refusal: RmaError | RequestError, *, order) -> None:
        """Show a service's refusal on the fields it concerns (or on the form)."""
        if isinstance(refusal, RequestError):
            self._with_line_fields(refusal.field)
            self._add_error_to(
                refusal.field,
                request_error_text(refusal.field, refusal.message, known_fields=self.fields),
            )
            return
        for item in refusal.items or [LineFailure(0, refusal.code)]:
            verdict = self.verdicts.get(item.line_number)
            text = refusal_text(item.code, verdict=verdict, order=order, number=item.line_number)
            part = {"RMA 1007": "quantity", "RMA 1023": "exchange"}.get(item.code, "selected")
            # "reason code 1007": for customer care, not to be taken for an RMA number.
            code = _("reason code %(number)s") % {"number": item.code.removeprefix("RMA ")}
            self._add_error_to(f"line-{item.line_number}-{part}", f"{text} ({code})")

    def _with_line_fields(self, field: str) -> None:
        # A refusal concerns a requested line, which has its fields; should it name another
        # line of the order, that line gets its fields too, so the error has its place.
        verdict = self._verdict_of(field)
        if verdict and f"line-{verdict.line_number}-selected" not in self.fields:
            self._add_line_fields(verdict.line_number)

    def _add_error_to(self, field: str, message: str) -> None:
        self._with_line_fields(field)
        # Only eligible lines show their inputs; an ineligible line shows its errors whole.
        if (verdict := self._verdict_of(field)) and not verdict.eligible:
            field = f"line-{verdict.line_number}-selected"
        self.add_error(field if field in self.fields else None, message)

    def error_prefix(self, field_name: str) -> str:
        """Line errors name the item, so the summary says which one."""
        verdict = self._verdict_of(field_name)
        return (verdict.line.title or verdict.line.item_id) if verdict else ""

    def _verdict_of(self, field_name: str):
        match = LINE_PREFIX.match(field_name)
        return self.verdicts.get(int(match[1])) if match else None


def _posted_int(data, number: int) -> int:
    value = str(data.get(f"line-{number}-quantity", "")).strip()
    return int(value) if QUANTITY.fullmatch(value) else 0
